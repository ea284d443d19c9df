// The reference test vectors in ../shared/vocab: every string of NAME.inp must
// tokenize to the ids on the same line of NAME.out (no BOS, special text not
// parsed). See ../shared/README.md.

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "gguf/gguf_file.h"
#include "tokenizer/vocab_gguf.h"
#include "tokenizer_test_util.h"

namespace sieve::tokenizer {
namespace {

using testing::read_file;
using testing::shared_vocab_dir;
using testing::split;

std::vector<TokenId> parse_ids(const std::string& line) {
  std::vector<TokenId> ids;
  std::istringstream in(line);
  for (long id; in >> id;) ids.push_back(static_cast<TokenId>(id));
  return ids;
}

std::string escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

class VocabVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabVectors, EveryStringTokenizesToTheReferenceIds) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(tokenizer, GetParam());
  const auto base = shared_vocab_dir() / (std::string("ggml-vocab-") + GetParam() + ".gguf");
  std::vector<std::string> inputs = split(read_file(base.string() + ".inp"), "\n__ggml_vocab_test__\n");
  std::vector<std::string> lines = split(read_file(base.string() + ".out"), "\n");
  // Both files end with their separator, which leaves one empty trailing part.
  ASSERT_FALSE(inputs.empty());
  ASSERT_TRUE(inputs.back().empty());
  inputs.pop_back();
  ASSERT_TRUE(lines.back().empty());
  lines.pop_back();
  ASSERT_EQ(inputs.size(), lines.size());
  ASSERT_GE(inputs.size(), 40u);

  size_t passed = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<TokenId> expected = parse_ids(lines[i]);
    const std::vector<TokenId> actual = tokenizer->tokenize(inputs[i]);
    EXPECT_EQ(actual, expected) << "string " << i << ": \"" << escaped(inputs[i]) << "\"";
    if (actual == expected) ++passed;
  }
  EXPECT_EQ(passed, inputs.size());
}

TEST_P(VocabVectors, EveryStringDetokenizesBackToItself) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(tokenizer, GetParam());
  const auto base = shared_vocab_dir() / (std::string("ggml-vocab-") + GetParam() + ".gguf");
  std::vector<std::string> inputs = split(read_file(base.string() + ".inp"), "\n__ggml_vocab_test__\n");
  inputs.pop_back();
  for (const std::string& input : inputs) {
    EXPECT_EQ(tokenizer->detokenize(tokenizer->tokenize(input)), input) << escaped(input);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedVocabularies, VocabVectors,
                         ::testing::Values("llama-spm", "gpt-2", "deepseek-llm"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace sieve::tokenizer

namespace sieve::tokenizer {
namespace {

// Cutting SentencePiece text into words before merging (the speed-up behind
// Vocab::spm_spaces_lead_tokens) must give the ids merging the whole text gives.
TEST(SpmWordSplitting, GivesTheIdsOfWholeTextMerging) {
  const auto path = testing::shared_vocab_dir() / "ggml-vocab-llama-spm.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  VocabSpec spec = read_vocab_spec(gguf::GgufFile::open(path));
  const Tokenizer split(Vocab::build(spec));
  spec.tokens.push_back("\x01\xE2\x96\x81\x01");  // a token with "▁" inside: splitting must turn off
  spec.scores.push_back(0.0f);
  spec.token_types.push_back(1);
  const Tokenizer whole(Vocab::build(spec));
  ASSERT_TRUE(split.vocab().spm_spaces_lead_tokens());
  ASSERT_FALSE(whole.vocab().spm_spaces_lead_tokens());

  std::string text = testing::read_file(path.string() + ".inp");
  std::mt19937 rng(99);
  const std::vector<std::string> words = testing::split(text, " ");
  std::string salad;
  for (int i = 0; i < 20000; ++i) salad += words[rng() % words.size()] + std::string(1 + rng() % 3, ' ');
  for (const std::string& sample : {text, salad}) {
    EXPECT_EQ(split.tokenize(sample), whole.tokenize(sample));
  }
}

}  // namespace
}  // namespace sieve::tokenizer
