#pragma once
// Special-token partitioning: before the text is tokenized, occurrences of
// special tokens are cut out and become those tokens directly.
//
// User-defined tokens (type 4) are always cut out, as Hugging Face tokenizers
// and the reference do with "added tokens"; control and unknown tokens
// (types 3 and 2: <s>, <|im_start|>, <unk>) only when parse_special is on -
// otherwise "<s>" typed by a user stays plain text. Longer tokens are matched
// first, each through the whole text, left to right.

#include <cstddef>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sieve::tokenizer {

struct Fragment {
  TokenId token = kNoToken;  // a special token, or kNoToken for text
  size_t begin = 0;          // the text's byte range when token == kNoToken
  size_t end = 0;
  bool is_text() const { return token == kNoToken; }
};

// Splits `text` into text fragments and special tokens, in order. Empty text
// gives no fragments.
std::vector<Fragment> partition_special_tokens(const Vocab& vocab, std::string_view text,
                                               bool parse_special);

}  // namespace sieve::tokenizer
