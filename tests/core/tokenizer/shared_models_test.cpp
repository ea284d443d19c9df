// Tokenizers loaded from the model files in ../shared/models against the
// reference outputs in ../shared/reference: the prompt's tokens (BOS
// included) and the text of every generated token, streamed.

#include <gtest/gtest.h>

#ifdef _WIN32
#include <process.h>
#define getpid _getpid
#else
#include <unistd.h>
#endif

#include "core/model/reference_json.h"
#include "gguf/gguf_file.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"
#include "tokenizer_test_util.h"
#include "util/error.h"
#include "util/json_text.h"

namespace sieve::tokenizer {
namespace {

namespace fs = std::filesystem;

struct ReferenceCase {
  fs::path model;
  Json reference;
};

std::vector<ReferenceCase> reference_cases() {
  std::vector<ReferenceCase> cases;
  const fs::path dir = fs::path(SIEVE_SHARED_DIR) / "reference";
  if (!fs::exists(dir)) return cases;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const fs::path model = fs::path(SIEVE_SHARED_DIR) / "models" / (name.substr(0, name.find('.')) + ".gguf");
    if (entry.path().extension() != ".json" || !fs::exists(model)) continue;
    cases.push_back({model, test::parse_reference_json(testing::read_file(entry.path()))});
  }
  return cases;
}

TEST(SharedModels, PromptsTokenizeAsTheReferenceDid) {
  const std::vector<ReferenceCase> cases = reference_cases();
  if (cases.empty()) GTEST_SKIP() << "no reference outputs under " << SIEVE_SHARED_DIR;
  for (const ReferenceCase& c : cases) {
    const Tokenizer t(load_vocab(gguf::GgufFile::open(c.model)));
    std::vector<TokenId> expected;
    for (const Json& id : c.reference.at("prompt_tokens")) {
      expected.push_back(static_cast<TokenId>(id.get<int64_t>()));
    }
    const std::string prompt = c.reference.at("prompt").get<std::string>();
    EXPECT_EQ(t.tokenize(prompt, {.add_bos = t.vocab().add_bos()}), expected) << c.model << ": " << prompt;
  }
}

TEST(SharedModels, GeneratedTokensStreamToTheReferenceText) {
  const std::vector<ReferenceCase> cases = reference_cases();
  if (cases.empty()) GTEST_SKIP() << "no reference outputs under " << SIEVE_SHARED_DIR;
  for (const ReferenceCase& c : cases) {
    const Tokenizer t(load_vocab(gguf::GgufFile::open(c.model)));
    // The reference writes control tokens a random model emits mid-text (<s>, </s>) as their text.
    StreamingDetokenizer stream(t, {.render_special = true, .at_text_start = false});
    std::string text;
    for (const Json& step : c.reference.at("steps")) {
      const auto id = static_cast<TokenId>(step.at("token").get<int64_t>());
      EXPECT_EQ(t.token_to_piece(id, true), step.at("piece").get<std::string>()) << c.model << " token " << id;
      text += stream.push(id);
    }
    text += stream.finish();
    // Random models emit byte tokens that form no character; the reference keeps those
    // bytes, the stream (what the app shows) gives U+FFFD for each: the same text otherwise.
    EXPECT_EQ(text, sanitize_utf8(c.reference.at("text").get<std::string>())) << c.model;
  }
}

TEST(SharedModels, Stories260KVocabulary) {
  const fs::path path = fs::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path;
  const Vocab v = load_vocab(gguf::GgufFile::open(path));
  EXPECT_EQ(v.model(), VocabModel::Spm);
  EXPECT_EQ(v.size(), 512u);
  EXPECT_EQ(v.bos(), 1);
  EXPECT_EQ(v.eos(), 2);
  EXPECT_EQ(v.unk(), 0);
  EXPECT_EQ(v.pad(), kNoToken);  // stored as 0xFFFFFFFF, "none"
  EXPECT_TRUE(v.warnings().empty());
  EXPECT_EQ(v.byte_token('\n'), 13);
}

TEST(SharedModels, VocabularyFilesLoadWithTheirSettings) {
  SIEVE_REQUIRE_SHARED_TOKENIZER(gpt2, "gpt-2");
  EXPECT_EQ(gpt2->vocab().model(), VocabModel::Bpe);
  EXPECT_EQ(gpt2->vocab().pre_tokenizer(), PreTokenizerKind::Gpt2);
  EXPECT_EQ(gpt2->vocab().bos(), 50256);
  EXPECT_FALSE(gpt2->vocab().add_bos());
  EXPECT_TRUE(gpt2->vocab().warnings().empty());
  SIEVE_REQUIRE_SHARED_TOKENIZER(deepseek, "deepseek-llm");
  EXPECT_EQ(deepseek->vocab().pre_tokenizer(), PreTokenizerKind::DeepseekLlm);
  EXPECT_TRUE(deepseek->vocab().add_bos());
  EXPECT_EQ(deepseek->vocab().bos(), 100000);
  EXPECT_EQ(deepseek->vocab().eot(), 100001);  // found by its text
  EXPECT_EQ(deepseek->tokenize("<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                               {.parse_special = true}),
            (std::vector<TokenId>{100000}));
  SIEVE_REQUIRE_SHARED_TOKENIZER(llama, "llama-spm");
  EXPECT_EQ(llama->tokenize("<s>Hello", {.parse_special = true}), (std::vector<TokenId>{1, 15043}));
  EXPECT_EQ(llama->tokenize("Hello", {.add_bos = true}), (std::vector<TokenId>{1, 15043}));
}

TEST(SharedModels, MissingTokenizerIsAClearError) {
  const fs::path dir = fs::temp_directory_path() / ("sieve_tokenizer_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A GGUF v3 header with no tensors and no metadata.
  const fs::path path = dir / "empty.gguf";
  {
    std::FILE* f = std::fopen(path.string().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const unsigned char header[] = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    std::fwrite(header, 1, sizeof header, f);
    std::fclose(f);
  }
  try {
    load_vocab(gguf::GgufFile::open(path));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "empty.gguf: no tokenizer (tokenizer.ggml.model is missing)");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sieve::tokenizer
