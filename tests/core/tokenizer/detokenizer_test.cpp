// Streaming detokenization: complete UTF-8 only, held-back partial
// characters, the SentencePiece leading space, special tokens.

#include <gtest/gtest.h>

#include "tokenizer/detokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace sieve::tokenizer {
namespace {

bool valid_utf8(const std::string& s) { return sanitize_utf8(s) == s; }

// Feeds ids one by one; checks every chunk is valid UTF-8; returns the chunks.
std::vector<std::string> stream(const Tokenizer& t, const std::vector<TokenId>& ids, DetokenizeOptions options = {}) {
  StreamingDetokenizer d(t, options);
  std::vector<std::string> chunks;
  for (const TokenId id : ids) {
    chunks.push_back(d.push(id));
    EXPECT_TRUE(valid_utf8(chunks.back()));
  }
  chunks.push_back(d.finish());
  return chunks;
}

std::string joined(const std::vector<std::string>& chunks) {
  std::string s;
  for (const std::string& c : chunks) s += c;
  return s;
}

TEST(StreamingDetokenizer, SentencePieceWords) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "llama-spm");
  const auto chunks = stream(*t, t->tokenize("Hello world"));
  EXPECT_EQ(chunks, (std::vector<std::string>{"Hello", " world", ""}));
}

TEST(StreamingDetokenizer, HoldsBackAByteFallbackCharacterUntilComplete) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "llama-spm");
  const std::string llama = "\xF0\x9F\xA6\x99";  // 🦙: four byte tokens in this vocabulary
  const std::vector<TokenId> ids = t->tokenize(llama + "!");
  const auto chunks = stream(*t, ids);
  ASSERT_GE(chunks.size(), 5u);
  EXPECT_EQ(joined(chunks), llama + "!");
  // No chunk splits the character: it appears whole in one chunk.
  size_t with_llama = 0;
  for (const std::string& c : chunks) with_llama += c.find(llama) != std::string::npos;
  EXPECT_EQ(with_llama, 1u);
}

TEST(StreamingDetokenizer, ByteLevelBpeCharactersSplitAcrossTokens) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "gpt-2");
  const std::string text = "emoji \xF0\x9F\x98\x80 and \xE4\xB8\xAD\xE6\x96\x87 text";
  const std::vector<TokenId> ids = t->tokenize(text);
  EXPECT_EQ(joined(stream(*t, ids)), text);
}

TEST(StreamingDetokenizer, IncompleteOrInvalidBytesBecomeReplacementCharacters) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "llama-spm");
  const TokenId e4 = t->vocab().byte_token(0xE4);
  const TokenId b8 = t->vocab().byte_token(0xB8);
  const TokenId ff = t->vocab().byte_token(0xFF);
  const TokenId a = t->vocab().byte_token('A');
  StreamingDetokenizer d(*t);
  EXPECT_EQ(d.push(e4), "");
  EXPECT_EQ(d.push(b8), "");
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD\xEF\xBF\xBD");  // the stream ended mid-character
  d.reset();
  EXPECT_EQ(d.push(ff), "\xEF\xBF\xBD");  // can never start a character
  EXPECT_EQ(d.push(e4), "");
  EXPECT_EQ(d.push(a), "\xEF\xBF\xBD" "A");  // interrupted sequence
}

TEST(StreamingDetokenizer, LeadingSpaceOnlyAtTheStartOfText) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "llama-spm");
  const std::vector<TokenId> ids = t->tokenize("Hi");  // "▁Hi"
  EXPECT_EQ(joined(stream(*t, ids)), "Hi");
  EXPECT_EQ(joined(stream(*t, ids, {.render_special = false, .at_text_start = false})), " Hi");
  // A BOS in front renders to nothing and does not use up the strip.
  std::vector<TokenId> with_bos = {t->vocab().bos()};
  with_bos.insert(with_bos.end(), ids.begin(), ids.end());
  EXPECT_EQ(joined(stream(*t, with_bos)), "Hi");
  EXPECT_EQ(t->detokenize(with_bos), "Hi");
}

TEST(StreamingDetokenizer, SpecialTokensRenderOnlyWhenAsked) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "gpt-2");
  const std::vector<TokenId> ids = t->tokenize("a<|endoftext|>b", {.parse_special = true});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], 50256);
  EXPECT_EQ(joined(stream(*t, ids)), "ab");
  EXPECT_EQ(joined(stream(*t, ids, {.render_special = true})), "a<|endoftext|>b");
}

TEST(StreamingDetokenizer, RejectsIdsOutsideTheVocabulary) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(t, "gpt-2");
  StreamingDetokenizer d(*t);
  EXPECT_THROW(d.push(-1), Error);
  EXPECT_THROW(d.push(50257), Error);
}

}  // namespace
}  // namespace sieve::tokenizer
