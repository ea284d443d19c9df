#pragma once
// The regex scanners behind pre_tokenize(): one function per regex the
// reference uses, each returning the length of the match at a position.

#include <cstddef>
#include <cstdint>

namespace sieve::tokenizer::detail {

// Per-code-point facts the scanners test.
enum ScanFlag : uint8_t {
  kLetter = 1 << 0,       // \p{L}
  kNumber = 1 << 1,       // \p{N}
  kPunctuation = 1 << 2,  // \p{P}
  kSpace = 1 << 3,        // \s (Unicode White_Space)
};

struct ScanChar {
  uint32_t codepoint = 0;
  uint8_t flags = 0;
};

// Length in code points of the match starting at `pos` when the regex runs on
// chars[begin, end) (a piece from the previous pass; its bounds act as the
// text's bounds for $ and look-ahead); 0 when the regex does not match there.
using Scanner = size_t (*)(const ScanChar* chars, size_t pos, size_t end);

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
size_t scan_gpt2(const ScanChar* chars, size_t pos, size_t end);
// (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t scan_llama3(const ScanChar* chars, size_t pos, size_t end);
// The same with \p{N} (one digit at a time), as Qwen2 uses it.
size_t scan_qwen2(const ScanChar* chars, size_t pos, size_t end);
// [\p{P}\$\+<=>\^~\|]+
size_t scan_punctuation_run(const ScanChar* chars, size_t pos, size_t end);
// [\p{P}\$\+<=>\^~\|`]+
size_t scan_punctuation_run_with_backtick(const ScanChar* chars, size_t pos, size_t end);
// \p{N}+
size_t scan_numbers(const ScanChar* chars, size_t pos, size_t end);
// \p{N}
size_t scan_one_number(const ScanChar* chars, size_t pos, size_t end);
// [0-9][0-9][0-9]
size_t scan_three_ascii_digits(const ScanChar* chars, size_t pos, size_t end);
// [\r\n]
size_t scan_line_break(const ScanChar* chars, size_t pos, size_t end);
// \s?\p{L}+
size_t scan_space_letters(const ScanChar* chars, size_t pos, size_t end);
// \s?\p{P}+
size_t scan_space_punctuation(const ScanChar* chars, size_t pos, size_t end);
// [一-龥ࠀ-一가-퟿]+ (CJK ideographs, U+0800..U+4E00, Hangul)
size_t scan_cjk(const ScanChar* chars, size_t pos, size_t end);
// \s?[A-Za-zµÀ-ÖØ-ö...]+ (DeepSeek's cased-letter class)
size_t scan_space_cased_letters(const ScanChar* chars, size_t pos, size_t end);
// \s?[!-/:-~！-／：-～‘-‟　-。]+
size_t scan_space_ascii_punctuation(const ScanChar* chars, size_t pos, size_t end);
// \s+$
size_t scan_trailing_spaces(const ScanChar* chars, size_t pos, size_t end);

}  // namespace sieve::tokenizer::detail
