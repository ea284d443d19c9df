#pragma once
// The GPT-2 byte-to-unicode map of byte-level BPE: every byte value is shown
// as a printable code point (printable Latin-1 bytes as themselves, the rest
// as U+0100 and up: the space 0x20 becomes "Ġ" U+0120), so token texts are
// valid UTF-8 whatever bytes they stand for.

#include <cstdint>
#include <string>
#include <string_view>

namespace sieve::tokenizer {

// The code point byte `byte` is written as in token texts.
uint32_t byte_to_codepoint(uint8_t byte);
// The byte a code point stands for, or -1 when it is not in the map.
int codepoint_to_byte(uint32_t codepoint);

// Appends the byte-level form of raw bytes (each byte -> its code point, UTF-8).
void append_byte_level(std::string& out, std::string_view raw);
// Decodes a byte-level token text back to raw bytes. Code points outside the
// map (only in hand-made vocabularies) are kept as their UTF-8.
void append_raw_bytes(std::string& out, std::string_view byte_level_text);

}  // namespace sieve::tokenizer
