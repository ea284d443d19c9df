#pragma once
// Reading the reference files of ../shared/reference with nlohmann-json. Some
// of their token pieces are single bytes that are not UTF-8 on their own (a
// byte-level token such as 0xA4), written raw inside JSON strings; nlohmann
// refuses ill-formed UTF-8. So before the parse each such byte becomes the
// private-use code point U+10FF00 + byte, and every string of the result gets
// its bytes back (object keys are ASCII in these files and are left alone).

#include <string>
#include <string_view>

#include "util/json_text.h"

namespace sieve::test {
namespace reference_json_detail {

constexpr char32_t kByteBase = 0x10FF00;

// Bytes in the well-formed UTF-8 sequence at text[at], 0 when it is not one.
inline size_t utf8_sequence_bytes(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0u; };
  const auto continuation = [&](size_t i, unsigned low = 0x80, unsigned high = 0xBF) {
    return byte(i) >= low && byte(i) <= high;
  };
  const unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const bool second = lead == 0xE0   ? continuation(1, 0xA0)
                        : lead == 0xED ? continuation(1, 0x80, 0x9F)
                                       : continuation(1);
    return second && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const bool second = lead == 0xF0   ? continuation(1, 0x90)
                        : lead == 0xF4 ? continuation(1, 0x80, 0x8F)
                                       : continuation(1);
    return second && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

inline void append_utf8(char32_t cp, std::string& out) {  // cp in U+10000..U+10FFFF
  out += static_cast<char>(0xF0 | (cp >> 18));
  out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out += static_cast<char>(0x80 | (cp & 0x3F));
}

inline std::string bytes_as_code_points(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    const size_t n = utf8_sequence_bytes(text, at);
    if (n == 0) {
      append_utf8(kByteBase + static_cast<unsigned char>(text[at]), out);
      ++at;
    } else {
      out.append(text.substr(at, n));
      at += n;
    }
  }
  return out;
}

inline std::string code_points_as_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    const size_t n = utf8_sequence_bytes(text, at);
    if (n == 4) {
      const auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[at + i]) & 0x3F); };
      const char32_t cp = (static_cast<char32_t>(static_cast<unsigned char>(text[at]) & 0x07) << 18) | (b(1) << 12) |
                          (b(2) << 6) | b(3);
      if (cp >= kByteBase + 0x80 && cp <= kByteBase + 0xFF) {
        out += static_cast<char>(cp - kByteBase);
        at += 4;
        continue;
      }
    }
    const size_t step = n == 0 ? 1 : n;
    out.append(text.substr(at, step));
    at += step;
  }
  return out;
}

inline void restore_bytes(Json& value) {
  if (value.is_string()) {
    value = code_points_as_bytes(value.get_ref<const std::string&>());
  } else if (value.is_structured()) {
    for (Json& child : value) restore_bytes(child);
  }
}

}  // namespace reference_json_detail

// Parses a reference file's text; strings keep their raw bytes.
inline Json parse_reference_json(std::string_view text) {
  Json doc = Json::parse(reference_json_detail::bytes_as_code_points(text));
  reference_json_detail::restore_bytes(doc);
  return doc;
}

}  // namespace sieve::test
