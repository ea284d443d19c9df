#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/unicode.h"

namespace sieve::tokenizer {
namespace {

// Bytes printed as themselves: '!'..'~', '¡'..'¬', '®'..'ÿ'.
constexpr bool is_self_printing(unsigned byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

constexpr std::array<uint16_t, 256> make_byte_to_codepoint() {
  std::array<uint16_t, 256> map{};
  uint16_t next_extra = 0x100;  // the others take U+0100.. in byte order
  for (unsigned byte = 0; byte < 256; ++byte) {
    map[byte] = is_self_printing(byte) ? static_cast<uint16_t>(byte) : next_extra++;
  }
  return map;
}

constexpr std::array<uint16_t, 256> kByteToCodepoint = make_byte_to_codepoint();
constexpr uint32_t kLargestMapped = 0x100 + 68;  // 68 bytes are not self-printing

constexpr std::array<int16_t, kLargestMapped> make_codepoint_to_byte() {
  std::array<int16_t, kLargestMapped> map{};
  for (auto& entry : map) entry = -1;
  for (unsigned byte = 0; byte < 256; ++byte) map[kByteToCodepoint[byte]] = static_cast<int16_t>(byte);
  return map;
}

constexpr std::array<int16_t, kLargestMapped> kCodepointToByte = make_codepoint_to_byte();

}  // namespace

uint32_t byte_to_codepoint(uint8_t byte) { return kByteToCodepoint[byte]; }

int codepoint_to_byte(uint32_t codepoint) {
  return codepoint < kLargestMapped ? kCodepointToByte[codepoint] : -1;
}

void append_byte_level(std::string& out, std::string_view raw) {
  for (const char c : raw) append_utf8(out, byte_to_codepoint(static_cast<uint8_t>(c)));
}

void append_raw_bytes(std::string& out, std::string_view byte_level_text) {
  for (size_t pos = 0; pos < byte_level_text.size();) {
    const DecodedCodepoint d = decode_utf8(byte_level_text, pos);
    const int byte = d.valid ? codepoint_to_byte(d.codepoint) : -1;
    if (byte >= 0) {
      out += static_cast<char>(byte);
    } else {
      out.append(byte_level_text.substr(pos, d.length));
    }
    pos += d.length;
  }
}

}  // namespace sieve::tokenizer
