#pragma once
// SentencePiece-style tokenization (tokenizer.ggml.model = "llama"): start from
// single UTF-8 characters and keep merging the adjacent pair whose joined
// text is the highest-scoring token; what never becomes a token falls back to
// byte tokens <0xNN>.

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sieve::tokenizer {

// Appends the tokens of `text`, which must already be escaped: spaces written
// as U+2581 "▁" and the leading-space convention applied (see Tokenizer).
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);

// The escape: every ' ' becomes "▁".
void append_spm_escaped(std::string& out, std::string_view text);

}  // namespace sieve::tokenizer
