#include "tokenizer/pre_tokenizer_scanners.h"

#include <algorithm>
#include <iterator>

namespace sieve::tokenizer::detail {
namespace {

struct Range {
  uint32_t first;
  uint32_t last;
};

// DeepSeek LLM's explicit letter class: the Unicode cased letters (L&), as
// written in its tokenizer.json.
constexpr Range kCasedLetters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},
    {0xD8, 0xF6},       {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},
    {0x295, 0x2AF},     {0x370, 0x373},     {0x376, 0x377},     {0x37B, 0x37D},
    {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},
    {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

// [!-/:-~！-／：-～‘-‟　-。]
constexpr Range kAsciiAndWidePunctuation[] = {
    {0x21, 0x2F}, {0x3A, 0x7E}, {0x2018, 0x201F}, {0x3000, 0x3002}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
};

// [一-龥ࠀ-一가-퟿]
constexpr Range kCjk[] = {{0x800, 0x4E00}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7FF}};

template <size_t N>
bool in_ranges(const Range (&ranges)[N], uint32_t cp) {
  return std::any_of(std::begin(ranges), std::end(ranges),
                     [cp](const Range& r) { return cp >= r.first && cp <= r.last; });
}

bool is_letter(const ScanChar& c) { return (c.flags & kLetter) != 0; }
bool is_number(const ScanChar& c) { return (c.flags & kNumber) != 0; }
bool is_space(const ScanChar& c) { return (c.flags & kSpace) != 0; }
bool is_punctuation(const ScanChar& c) { return (c.flags & kPunctuation) != 0; }
// [^\s\p{L}\p{N}]
bool is_other(const ScanChar& c) { return (c.flags & (kLetter | kNumber | kSpace)) == 0; }
bool is_line_break(const ScanChar& c) { return c.codepoint == '\r' || c.codepoint == '\n'; }
// [\p{P}\$\+<=>\^~\|]
bool is_punctuation_or_operator(const ScanChar& c) {
  switch (c.codepoint) {
    case '$': case '+': case '<': case '=': case '>': case '^': case '~': case '|':
      return true;
    default:
      return is_punctuation(c);
  }
}

// The reference runs its explicit-character-class regexes on text where every
// non-ASCII whitespace was replaced by U+000B, so such a code point is never in
// an explicit class (U+3000 in "　-。" included) - but still matches \s.
template <size_t N>
bool in_explicit_class(const Range (&ranges)[N], const ScanChar& c) {
  if (c.codepoint > 0x7F && is_space(c)) return false;
  return in_ranges(ranges, c.codepoint);
}

template <typename Pred>
size_t run_length(const ScanChar* chars, size_t pos, size_t end, Pred pred) {
  size_t p = pos;
  while (p < end && pred(chars[p])) ++p;
  return p - pos;
}

template <typename Pred>
size_t optional_prefix_then_run(const ScanChar* chars, size_t pos, size_t end, bool prefix_matches,
                                Pred pred) {
  // X?Y+ where X does not overlap Y: take the prefix when Y follows it.
  if (prefix_matches && pos + 1 < end && pred(chars[pos + 1])) {
    return 1 + run_length(chars, pos + 1, end, pred);
  }
  return run_length(chars, pos, end, pred);
}

uint32_t ascii_lower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp; }

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive.
size_t scan_contraction(const ScanChar* chars, size_t pos, size_t end, bool any_case) {
  if (chars[pos].codepoint != '\'' || pos + 1 >= end) return 0;
  const auto lower = [&](size_t i) {
    return any_case ? ascii_lower(chars[i].codepoint) : chars[i].codepoint;
  };
  const uint32_t c1 = lower(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const uint32_t c2 = lower(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// \s+(?!\S): the whitespace run, less its last character when a non-space follows.
size_t scan_spaces_not_before_text(const ScanChar* chars, size_t pos, size_t end) {
  const size_t spaces = run_length(chars, pos, end, is_space);
  if (spaces == 0) return 0;
  if (pos + spaces == end) return spaces;
  return spaces - 1;
}

size_t scan_llama3_family(const ScanChar* chars, size_t pos, size_t end, size_t max_digits) {
  if (const size_t n = scan_contraction(chars, pos, end, /*any_case=*/true)) return n;
  const ScanChar& c = chars[pos];
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (is_letter(c)) return run_length(chars, pos, end, is_letter);
  if (!is_line_break(c) && !is_number(c) && pos + 1 < end && is_letter(chars[pos + 1])) {
    return 1 + run_length(chars, pos + 1, end, is_letter);
  }
  // \p{N}{1,max_digits}
  if (is_number(c)) return std::min(max_digits, run_length(chars, pos, end, is_number));
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  if (const size_t n = optional_prefix_then_run(chars, pos, end, c.codepoint == ' ', is_other)) {
    return n + run_length(chars, pos + n, end, is_line_break);
  }
  // \s*[\r\n]+ : up to and including the run's last line break
  const size_t spaces = run_length(chars, pos, end, is_space);
  for (size_t i = spaces; i > 0; --i) {
    if (is_line_break(chars[pos + i - 1])) return i;
  }
  // \s+(?!\S) | \s+
  if (const size_t n = scan_spaces_not_before_text(chars, pos, end)) return n;
  return spaces;
}

}  // namespace

size_t scan_gpt2(const ScanChar* chars, size_t pos, size_t end) {
  if (const size_t n = scan_contraction(chars, pos, end, /*any_case=*/false)) return n;
  const bool space = chars[pos].codepoint == ' ';
  if (const size_t n = optional_prefix_then_run(chars, pos, end, space, is_letter)) return n;
  if (const size_t n = optional_prefix_then_run(chars, pos, end, space, is_number)) return n;
  if (const size_t n = optional_prefix_then_run(chars, pos, end, space, is_other)) return n;
  return scan_spaces_not_before_text(chars, pos, end);
}

size_t scan_llama3(const ScanChar* chars, size_t pos, size_t end) {
  return scan_llama3_family(chars, pos, end, 3);
}

size_t scan_qwen2(const ScanChar* chars, size_t pos, size_t end) {
  return scan_llama3_family(chars, pos, end, 1);
}

size_t scan_punctuation_run(const ScanChar* chars, size_t pos, size_t end) {
  return run_length(chars, pos, end, is_punctuation_or_operator);
}

size_t scan_punctuation_run_with_backtick(const ScanChar* chars, size_t pos, size_t end) {
  return run_length(chars, pos, end, [](const ScanChar& c) {
    return c.codepoint == '`' || is_punctuation_or_operator(c);
  });
}

size_t scan_numbers(const ScanChar* chars, size_t pos, size_t end) {
  return run_length(chars, pos, end, is_number);
}

size_t scan_one_number(const ScanChar* chars, size_t pos, size_t end) {
  return is_number(chars[pos]) ? 1 : 0;
}

size_t scan_three_ascii_digits(const ScanChar* chars, size_t pos, size_t end) {
  if (pos + 3 > end) return 0;
  for (size_t i = pos; i < pos + 3; ++i) {
    if (chars[i].codepoint < '0' || chars[i].codepoint > '9') return 0;
  }
  return 3;
}

size_t scan_line_break(const ScanChar* chars, size_t pos, size_t end) {
  return is_line_break(chars[pos]) ? 1 : 0;
}

size_t scan_space_letters(const ScanChar* chars, size_t pos, size_t end) {
  return optional_prefix_then_run(chars, pos, end, is_space(chars[pos]), is_letter);
}

size_t scan_space_punctuation(const ScanChar* chars, size_t pos, size_t end) {
  return optional_prefix_then_run(chars, pos, end, is_space(chars[pos]), is_punctuation);
}

size_t scan_cjk(const ScanChar* chars, size_t pos, size_t end) {
  return run_length(chars, pos, end, [](const ScanChar& c) { return in_explicit_class(kCjk, c); });
}

size_t scan_space_cased_letters(const ScanChar* chars, size_t pos, size_t end) {
  return optional_prefix_then_run(chars, pos, end, is_space(chars[pos]), [](const ScanChar& c) {
    return in_explicit_class(kCasedLetters, c);
  });
}

size_t scan_space_ascii_punctuation(const ScanChar* chars, size_t pos, size_t end) {
  return optional_prefix_then_run(chars, pos, end, is_space(chars[pos]), [](const ScanChar& c) {
    return in_explicit_class(kAsciiAndWidePunctuation, c);
  });
}

size_t scan_trailing_spaces(const ScanChar* chars, size_t pos, size_t end) {
  const size_t spaces = run_length(chars, pos, end, is_space);
  return pos + spaces == end ? spaces : 0;
}

}  // namespace sieve::tokenizer::detail
