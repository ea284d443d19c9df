#pragma once
// A tokenizer vocabulary: token texts, scores and types, BPE merge ranks,
// special token ids and the flags that steer tokenization.
//
// Built from plain vectors (VocabSpec) so the algorithms can be tested without
// a model file; load_vocab() (vocab_gguf.h) fills a VocabSpec from GGUF
// metadata. Conventions follow the reference GGUF implementation, so ids match
// token for token.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pre_tokenizer.h"

namespace sieve::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// tokenizer.ggml.token_type values.
enum class TokenType : uint8_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,      // <s>, </s>, <|im_start|>: matched in text only with parse_special
  UserDefined = 4,  // added tokens: always matched as whole pieces
  Unused = 5,
  Byte = 6,  // <0x0A>: one raw byte (SentencePiece byte fallback)
};

// tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE).
enum class VocabModel : uint8_t { Spm, Bpe };

// What a vocabulary is made of, as the model file stores it.
struct VocabSpec {
  VocabModel model = VocabModel::Spm;
  std::vector<std::string> tokens;
  std::vector<float> scores;          // empty: every score 0
  std::vector<int32_t> token_types;   // empty: every token Normal
  std::vector<std::string> merges;    // BPE: "left right", best (rank 0) first
  std::string pre;                    // tokenizer.ggml.pre; empty: "default"
  // Special token ids as stored (any integer: out-of-range ids are reported and ignored).
  std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, pad_id, unk_id;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
};

class Vocab {
 public:
  // Validates and indexes `spec`. Throws sieve::Error when it cannot work
  // (no tokens, arrays of different lengths, unknown model). Problems it can
  // work around (unknown pre-tokenizer, bad special ids, unusable merges) are
  // collected in warnings().
  static Vocab build(VocabSpec spec);

  VocabModel model() const { return model_; }
  PreTokenizerKind pre_tokenizer() const { return pre_tokenizer_; }
  size_t size() const { return texts_.size(); }
  bool contains(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < texts_.size(); }

  // Per-token data; `id` must satisfy contains().
  const std::string& text(TokenId id) const { return texts_[static_cast<size_t>(id)]; }
  float score(TokenId id) const { return scores_.empty() ? 0.0f : scores_[static_cast<size_t>(id)]; }
  TokenType type(TokenId id) const { return types_[static_cast<size_t>(id)]; }

  // The token whose text is exactly `text`, or kNoToken.
  TokenId find(std::string_view text) const;
  // Rank of the BPE merge (left, right), lower merges first; -1 when none.
  int32_t merge_rank(TokenId left, TokenId right) const;
  // SentencePiece byte-fallback token for a byte (<0xNN>), or kNoToken.
  TokenId byte_token(uint8_t byte) const { return byte_tokens_[byte]; }
  // BPE: the token whose text is the byte's byte-level character, or kNoToken.
  TokenId byte_level_token(uint8_t byte) const { return byte_level_tokens_[byte]; }

  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  TokenId eot() const { return eot_; }  // end of turn (<|eot_id|>, <|im_end|>, ...)
  TokenId pad() const { return pad_; }
  TokenId unk() const { return unk_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  // BPE: a pre-tokenized word that is a token is taken whole (llama3 family).
  bool ignore_merges() const { return ignore_merges_; }
  // SentencePiece: "▁" occurs in tokens only at their start (runs of it
  // included), as in vocabularies trained with whitespace splitting. Then no
  // merge crosses into a word from the character before its space.
  bool spm_spaces_lead_tokens() const { return spm_spaces_lead_tokens_; }
  // Tokens that end generation: EOS, EOT and EOM.
  bool is_end_of_generation(TokenId id) const;

  // Control, user-defined and unknown tokens with non-empty text, longest
  // first: the pieces special-token partitioning looks for.
  const std::vector<TokenId>& special_tokens() const { return special_tokens_; }

  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Vocab() = default;
  void index_tokens(VocabSpec& spec);
  void index_merges(const std::vector<std::string>& merges);
  void resolve_special_ids(const VocabSpec& spec);
  TokenId checked_id(const char* key, const std::optional<int64_t>& id, TokenId fallback);
  TokenId find_end_of_turn() const;

  VocabModel model_ = VocabModel::Spm;
  PreTokenizerKind pre_tokenizer_ = PreTokenizerKind::Default;
  std::vector<std::string> texts_;
  std::vector<float> scores_;
  std::vector<TokenType> types_;
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, TokenId, TextHash, std::equal_to<>> ids_by_text_;
  std::unordered_map<uint64_t, int32_t> merge_ranks_;          // (left << 32 | right) -> rank
  TokenId byte_tokens_[256] = {};
  TokenId byte_level_tokens_[256] = {};
  TokenId bos_ = kNoToken, eos_ = kNoToken, eot_ = kNoToken, eom_ = kNoToken;
  TokenId pad_ = kNoToken, unk_ = kNoToken;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false, ignore_merges_ = false;
  bool spm_spaces_lead_tokens_ = true;
  std::vector<TokenId> special_tokens_;
  std::vector<std::string> warnings_;
};

}  // namespace sieve::tokenizer
