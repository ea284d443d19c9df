#include "tokenizer/unicode.h"

#include <algorithm>

#include "tokenizer/unicode_table.h"

namespace sieve::tokenizer {

Category category_of(uint32_t codepoint) {
  using unicode_data::kCategoryRunCount;
  using unicode_data::kCategoryRuns;
  if (codepoint > kMaxCodepoint) return Category::Undefined;
  // The last run whose first code point is <= codepoint.
  const auto* end = kCategoryRuns + kCategoryRunCount;
  const auto* after = std::upper_bound(
      kCategoryRuns, end, codepoint,
      [](uint32_t cp, const unicode_data::CategoryRun& run) { return cp < run.first; });
  return (after - 1)->category;  // the first run starts at 0, so after > begin
}

bool is_whitespace(uint32_t codepoint) {
  for (size_t i = 0; i < unicode_data::kWhitespaceRangeCount; ++i) {
    const auto& range = unicode_data::kWhitespaceRanges[i];
    if (codepoint < range.first) return false;  // ranges are sorted
    if (codepoint <= range.last) return true;
  }
  return false;
}

namespace {

bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

DecodedCodepoint decode_utf8(std::string_view text, size_t pos) {
  const auto byte_at = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte_at(pos);
  if (lead < 0x80) return {lead, 1, true};

  uint32_t length = 0;
  uint32_t codepoint = 0;
  uint32_t min_value = 0;  // smallest code point the length may encode (no overlongs)
  if ((lead & 0xE0) == 0xC0) {
    length = 2, codepoint = lead & 0x1F, min_value = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, codepoint = lead & 0x0F, min_value = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, codepoint = lead & 0x07, min_value = 0x10000;
  } else {
    return {};  // a continuation byte or 0xF8..0xFF
  }
  if (pos + length > text.size()) return {};
  for (uint32_t i = 1; i < length; ++i) {
    const uint8_t byte = byte_at(pos + i);
    if (!is_continuation(byte)) return {};
    codepoint = (codepoint << 6) | (byte & 0x3F);
  }
  const bool surrogate = codepoint >= 0xD800 && codepoint <= 0xDFFF;
  if (codepoint < min_value || codepoint > kMaxCodepoint || surrogate) return {};
  return {codepoint, length, true};
}

size_t utf8_sequence_length(uint8_t lead_byte) {
  static constexpr uint8_t kLengthByHighNibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                       1, 1, 1, 1, 2, 2, 3, 4};
  return kLengthByHighNibble[lead_byte >> 4];
}

void append_utf8(std::string& out, uint32_t codepoint) {
  if (codepoint < 0x80) {
    out += static_cast<char>(codepoint);
  } else if (codepoint < 0x800) {
    out += static_cast<char>(0xC0 | (codepoint >> 6));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  } else if (codepoint < 0x10000) {
    out += static_cast<char>(0xE0 | (codepoint >> 12));
    out += static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (codepoint >> 18));
    out += static_cast<char>(0x80 | ((codepoint >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  }
}

size_t incomplete_utf8_tail(std::string_view text) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  const size_t lookback = std::min<size_t>(3, text.size());
  for (size_t back = 1; back <= lookback; ++back) {
    const size_t start = text.size() - back;
    const auto byte = static_cast<uint8_t>(text[start]);
    if (is_continuation(byte)) continue;
    if (byte < 0xC2 || byte > 0xF4) return 0;  // ASCII or a byte no sequence starts with
    const size_t needed = utf8_sequence_length(byte);
    if (needed <= back) return 0;  // complete (or judged elsewhere)
    // The bytes present must be a valid prefix: check what follows the lead.
    if (back >= 2) {
      const auto second = static_cast<uint8_t>(text[start + 1]);
      if ((byte == 0xE0 && second < 0xA0) || (byte == 0xED && second > 0x9F) ||
          (byte == 0xF0 && second < 0x90) || (byte == 0xF4 && second > 0x8F)) {
        return 0;
      }
    }
    return back;
  }
  return 0;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const DecodedCodepoint d = decode_utf8(text, pos);
    if (d.valid) {
      out.append(text.substr(pos, d.length));
    } else {
      append_utf8(out, kReplacementCharacter);
    }
    pos += d.length;
  }
  return out;
}

}  // namespace sieve::tokenizer
