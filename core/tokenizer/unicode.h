#pragma once
// Unicode helpers for the tokenizers: UTF-8 decoding that never fails, code
// point categories (the \p{L}, \p{N}, \p{P} ... of pre-tokenizer regexes) and
// White_Space. The category table is generated (tools/gen_unicode_table.py).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sieve::tokenizer {

// General categories folded to their major class, as the regex \p{X} classes use them.
enum class Category : uint8_t {
  Undefined,    // Cn: unassigned
  Letter,       // L*
  Mark,         // M*
  Number,       // N*
  Punctuation,  // P*
  Symbol,       // S*
  Separator,    // Z*
  Control,      // Cc, Cf, Cs, Co
};

inline constexpr uint32_t kReplacementCharacter = 0xFFFD;
inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;

Category category_of(uint32_t codepoint);
// Unicode White_Space (what \s matches in the tokenizer regexes).
bool is_whitespace(uint32_t codepoint);

struct DecodedCodepoint {
  uint32_t codepoint = kReplacementCharacter;
  uint32_t length = 1;  // bytes consumed, at least 1
  bool valid = false;
};

// Decodes the code point starting at text[pos] (pos < text.size()). Malformed,
// overlong, surrogate and truncated sequences decode as one invalid byte
// (U+FFFD, length 1), so a scan always moves forward and no byte is lost.
DecodedCodepoint decode_utf8(std::string_view text, size_t pos);

// Length of the sequence a lead byte announces, judged by its high bits only
// (continuation and invalid bytes count 1). This is how SentencePiece-style
// tokenizers cut text into symbols, valid or not.
size_t utf8_sequence_length(uint8_t lead_byte);

// Appends the UTF-8 encoding of a code point (<= U+10FFFF).
void append_utf8(std::string& out, uint32_t codepoint);

// Bytes at the end of `text` that form an incomplete - but so far valid -
// UTF-8 sequence, which more bytes could still complete (0..3).
size_t incomplete_utf8_tail(std::string_view text);

// `text` with every malformed byte replaced by U+FFFD: valid UTF-8 out.
std::string sanitize_utf8(std::string_view text);

}  // namespace sieve::tokenizer
