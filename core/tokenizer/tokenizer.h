#pragma once
// Text <-> token ids for one vocabulary: the entry point the engine, the CLI
// and the app use.
//
//   Tokenizer tok(load_vocab(gguf));
//   std::vector<TokenId> ids = tok.tokenize("Hello", {.add_bos = true});
//   std::string text = tok.detokenize(ids);
//
// Tokenize and detokenize are const and keep no state between calls, so one
// Tokenizer may serve several threads. For streaming generated text token by
// token, see StreamingDetokenizer (detokenizer.h).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sieve::tokenizer {

struct TokenizeOptions {
  bool add_bos = false;        // prepend the BOS token (when the vocabulary has one)
  bool add_eos = false;        // append the EOS token (when the vocabulary has one)
  bool parse_special = false;  // "<s>", "<|im_start|>" in the text become their control tokens
};

struct DetokenizeOptions {
  bool render_special = false;  // write control tokens (<s>, <|eot_id|>) as their text
  // The first token starts the text: drop the one space SentencePiece
  // vocabularies with add_space_prefix put before it. Turn off when decoding a
  // continuation (generated tokens after a prompt).
  bool at_text_start = true;
};

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);

  const Vocab& vocab() const { return vocab_; }

  // Any bytes are accepted: malformed UTF-8 is tokenized losslessly (byte
  // tokens or byte-level symbols), never rejected. Throws sieve::Error only
  // for texts of 2 GiB or more.
  std::vector<TokenId> tokenize(std::string_view text, const TokenizeOptions& options = {}) const;
  // Appends to `out` instead of returning a new vector.
  void tokenize(std::string_view text, const TokenizeOptions& options, std::vector<TokenId>& out) const;

  // The bytes one token stands for: "▁" as a space and <0xNN> as its byte for
  // SentencePiece, byte-level text mapped back to bytes for BPE. Control and
  // unknown tokens give "" unless render_special. Throws sieve::Error for an
  // id outside the vocabulary.
  std::string token_to_piece(TokenId id, bool render_special = false) const;

  // The pieces of `ids` joined: raw bytes, exactly what was tokenized (for a
  // SentencePiece vocabulary, less the leading space it added).
  std::string detokenize(std::span<const TokenId> ids, const DetokenizeOptions& options = {}) const;

 private:
  void tokenize_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const;

  Vocab vocab_;
};

}  // namespace sieve::tokenizer
