// Hard inputs for every shared vocabulary: malformed UTF-8, NUL bytes, a
// megabyte-long word, emoji, CJK, mixed scripts, and thousands of seeded
// random byte strings. Tokenizing never fails, ids are in range, and
// detokenizing gives the input back byte for byte.

#include <gtest/gtest.h>

#include <random>

#include "tokenizer/unicode.h"
#include "tokenizer_test_util.h"

namespace sieve::tokenizer {
namespace {

class Robustness : public ::testing::TestWithParam<const char*> {};

// Whether every byte value has a token that decodes to exactly that byte. Not
// so in DeepSeek's vocabulary, which reuses the byte-level characters of the
// thirteen bytes valid UTF-8 never contains (0xC0, 0xC1, 0xF5..0xFF) as
// user-defined tokens with text such as "ÿ": a raw 0xFF byte cannot come back.
bool every_byte_has_a_token(const Tokenizer& t) {
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    if (t.detokenize(t.tokenize(byte)) != byte) return false;
  }
  return true;
}

void expect_round_trip(const Tokenizer& t, const std::string& text, const std::string& label,
                       bool every_byte_round_trips) {
  std::vector<TokenId> ids;
  ASSERT_NO_THROW(ids = t.tokenize(text)) << label;
  for (const TokenId id : ids) ASSERT_TRUE(t.vocab().contains(id)) << label;
  const bool lossless = every_byte_round_trips || sanitize_utf8(text) == text;
  if (lossless) {
    EXPECT_EQ(t.detokenize(ids), text) << label;
  }
}

TEST_P(Robustness, HardInputsRoundTrip) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, GetParam());
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"NUL", std::string("\0", 1)},
      {"NULs inside", std::string("a\0b\0\0c", 6)},
      {"lone continuation", "x\x80y"},
      {"truncated", "abc\xE4\xB8"},
      {"overlong", "\xC0\xAF\xE0\x80\xAF"},
      {"surrogate", "\xED\xA0\x80\xED\xBF\xBF"},
      {"above U+10FFFF", "\xF4\x90\x80\x80\xF8\x88\x80\x80\x80"},
      {"all 0xFF", std::string(64, '\xFF')},
      {"emoji", "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"},
      {"CJK", "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82\xE3\x81\x93\xE3\x82\x93"},
      {"mixed scripts", "English \xD0\xA0\xD1\x83\xD1\x81\xD1\x81\xD0\xBA\xD0\xB8\xD0\xB9 \xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A "
                        "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80 \xCE\x95\xCE\xBB\xCE\xBB "
                        "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 e\xCC\x81 123\xD9\xA3"},
      {"whitespace runs", " \t\n\r\v\f  \xC2\xA0\xE3\x80\x80\n\n\n   x   "},
      {"digits", std::string(5000, '7')},
      {"punctuation", "!!!???...,,,;;;'''\"\"\"(((]]]{{{}}}<<<>>>$$$%%%"},
      {"contractions", "I'm you're he'll we've they'd it's DON'T 's 't"},
      {"special-looking text", "<s> </s> <unk> <|endoftext|> <|im_start|> [INST]"},
  };
  const bool every_byte = every_byte_has_a_token(*t);
  for (const auto& [label, text] : cases) expect_round_trip(*t, text, label, every_byte);
}

TEST_P(Robustness, OneMegabyteWord) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, GetParam());
  const std::string word(1 << 20, 'a');
  std::vector<TokenId> ids;
  ASSERT_NO_THROW(ids = t->tokenize(word));
  EXPECT_LT(ids.size(), word.size());
  EXPECT_EQ(t->detokenize(ids), word);
}

TEST_P(Robustness, SeededRandomBytes) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, GetParam());
  const bool every_byte = every_byte_has_a_token(*t);
  EXPECT_EQ(every_byte, std::string(GetParam()) != "deepseek-llm");
  std::mt19937 rng(20240611);
  for (int i = 0; i < 2000; ++i) {
    std::string text(rng() % 48, '\0');
    // Mostly bytes from a small, UTF-8-heavy alphabet so multi-byte
    // characters and their broken forms both occur; sometimes any byte.
    for (char& c : text) {
      static const unsigned char kAlphabet[] = {' ', 'a', 'e', 'T', '\'', 's', '1', '\n', '<', '>', '|',
                                                0xC3, 0xA9, 0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0x00};
      c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : kAlphabet[rng() % sizeof kAlphabet]);
    }
    expect_round_trip(*t, text, "random string " + std::to_string(i), every_byte);
    if (::testing::Test::HasFailure()) return;
    // With parse_special, control tokens may be matched; it must still not fail.
    EXPECT_NO_THROW(t->tokenize(text, {.add_bos = true, .add_eos = true, .parse_special = true}));
  }
}

INSTANTIATE_TEST_SUITE_P(SharedVocabularies, Robustness, ::testing::Values("llama-spm", "gpt-2", "deepseek-llm"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace sieve::tokenizer
