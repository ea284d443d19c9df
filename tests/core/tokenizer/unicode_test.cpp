// UTF-8 decoding, the generated category table and the byte-level BPE map.

#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer {
namespace {

TEST(Unicode, CategoriesOfRepresentativeCodePoints) {
  EXPECT_EQ(category_of('A'), Category::Letter);
  EXPECT_EQ(category_of(0x00E9), Category::Letter);   // é
  EXPECT_EQ(category_of(0x4E2D), Category::Letter);   // 中
  EXPECT_EQ(category_of('7'), Category::Number);
  EXPECT_EQ(category_of(0x00BD), Category::Number);   // ½ (No)
  EXPECT_EQ(category_of(0x216B), Category::Number);   // Ⅻ (Nl)
  EXPECT_EQ(category_of('!'), Category::Punctuation);
  EXPECT_EQ(category_of('_'), Category::Punctuation);
  EXPECT_EQ(category_of(0x3002), Category::Punctuation);  // 。
  EXPECT_EQ(category_of('$'), Category::Symbol);
  EXPECT_EQ(category_of(0x1F600), Category::Symbol);  // 😀
  EXPECT_EQ(category_of(0x0301), Category::Mark);     // combining acute
  EXPECT_EQ(category_of(' '), Category::Separator);
  EXPECT_EQ(category_of('\n'), Category::Control);
  EXPECT_EQ(category_of(0x0378), Category::Undefined);
  EXPECT_EQ(category_of(0x10FFFF), Category::Undefined);
  EXPECT_EQ(category_of(0x110000), Category::Undefined);
}

TEST(Unicode, WhitespaceIsTheUnicodeWhiteSpaceProperty) {
  for (uint32_t cp : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au,
                      0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(is_whitespace(cp)) << std::hex << cp;
  }
  for (uint32_t cp : {0x08u, 0x1Cu, 0x1Fu, 0x21u, 0x200Bu, 0xFEFFu, 0x110000u}) {
    EXPECT_FALSE(is_whitespace(cp)) << std::hex << cp;
  }
}

TEST(Unicode, DecodesValidSequences) {
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  const DecodedCodepoint a = decode_utf8(text, 0);
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.codepoint, 'a');
  const DecodedCodepoint e = decode_utf8(text, 1);
  EXPECT_EQ(e.codepoint, 0xE9u);
  EXPECT_EQ(e.length, 2u);
  EXPECT_EQ(decode_utf8(text, 3).codepoint, 0x4E2Du);
  const DecodedCodepoint smile = decode_utf8(text, 6);
  EXPECT_EQ(smile.codepoint, 0x1F600u);
  EXPECT_EQ(smile.length, 4u);
}

TEST(Unicode, MalformedSequencesDecodeAsOneInvalidByte) {
  const std::string cases[] = {
      "\x80",              // lone continuation
      "\xC0\x80",          // overlong NUL
      "\xE0\x80\xAF",      // overlong '/'
      "\xED\xA0\x80",      // surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xE4\xB8",          // truncated
      "\xC3\x28",          // bad continuation
      "\xFF",
  };
  for (const std::string& bytes : cases) {
    const DecodedCodepoint d = decode_utf8(bytes, 0);
    EXPECT_FALSE(d.valid);
    EXPECT_EQ(d.length, 1u);
    EXPECT_EQ(d.codepoint, kReplacementCharacter);
  }
}

TEST(Unicode, EncodesWhatItDecodes) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    append_utf8(s, cp);
    const DecodedCodepoint d = decode_utf8(s, 0);
    EXPECT_TRUE(d.valid);
    EXPECT_EQ(d.codepoint, cp);
    EXPECT_EQ(d.length, s.size());
  }
}

TEST(Unicode, IncompleteTailCountsOnlyPrefixesThatCanComplete) {
  EXPECT_EQ(incomplete_utf8_tail(""), 0u);
  EXPECT_EQ(incomplete_utf8_tail("abc"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("a\xC3"), 1u);
  EXPECT_EQ(incomplete_utf8_tail("a\xE4\xB8"), 2u);
  EXPECT_EQ(incomplete_utf8_tail("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_utf8_tail("\xF0\x9F\x98\x80"), 0u);  // complete
  EXPECT_EQ(incomplete_utf8_tail("a\x80"), 0u);             // can never complete
  EXPECT_EQ(incomplete_utf8_tail("\xE0\x80"), 0u);          // overlong prefix
  EXPECT_EQ(incomplete_utf8_tail("\xED\xA0"), 0u);          // surrogate prefix
  EXPECT_EQ(incomplete_utf8_tail("\xFF"), 0u);
}

TEST(Unicode, SanitizeReplacesEachMalformedByte) {
  EXPECT_EQ(sanitize_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(sanitize_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(sanitize_utf8("\xE4\xB8"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(ByteLevel, MapsEveryByteToADistinctPrintableCodePoint) {
  EXPECT_EQ(byte_to_codepoint(' '), 0x120u);  // "Ġ"
  EXPECT_EQ(byte_to_codepoint('\n'), 0x10Au);  // "Ċ"
  EXPECT_EQ(byte_to_codepoint('A'), static_cast<uint32_t>('A'));
  EXPECT_EQ(byte_to_codepoint(0xAD), 0x143u);
  for (unsigned b = 0; b < 256; ++b) {
    const uint32_t cp = byte_to_codepoint(static_cast<uint8_t>(b));
    EXPECT_EQ(codepoint_to_byte(cp), static_cast<int>(b));
    EXPECT_NE(category_of(cp), Category::Control) << b;
    EXPECT_FALSE(is_whitespace(cp)) << b;
  }
  EXPECT_EQ(codepoint_to_byte(0x144), -1);
  EXPECT_EQ(codepoint_to_byte(0x4E2D), -1);
}

TEST(ByteLevel, RoundTripsAllBytes) {
  std::string raw;
  for (int b = 0; b < 256; ++b) raw += static_cast<char>(b);
  std::string encoded;
  append_byte_level(encoded, raw);
  std::string decoded;
  append_raw_bytes(decoded, encoded);
  EXPECT_EQ(decoded, raw);
}

}  // namespace
}  // namespace sieve::tokenizer
