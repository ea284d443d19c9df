#pragma once
// Byte-level BPE tokenization (tokenizer.ggml.model = "gpt2"): split the text
// into words with the vocabulary's pre-tokenizer, write each word's bytes in
// the byte-to-unicode alphabet, then apply merges lowest rank first.

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sieve::tokenizer {

// Appends the tokens of `text` (raw bytes; special tokens already cut out).
void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);

}  // namespace sieve::tokenizer
