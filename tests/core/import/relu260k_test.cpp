// Acceptance: ../shared/models/relu260K (a llama2.c version 2 int8 checkpoint
// with shifted-ReLU activations), imported, reproduces the reference greedy
// tokens from BOS exactly, with the reference's fractions of exactly-zero
// activations.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/model/reference_case.h"
#include "engine.h"
#include "import/llama2c.h"
#include "model/activation_stats.h"
#include "sampling/sampler.h"
#include "util/json_text.h"

namespace sieve::test {
namespace {

const std::filesystem::path kModelDir = shared_dir() / "models" / "relu260K";

class ImportedRelu260K : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModelDir / "model_qint80.bin")) GTEST_SKIP() << "no " << kModelDir;
    gguf_ = std::filesystem::temp_directory_path() / ("sieve-relu260K-" + std::to_string(::getpid()) + ".gguf");
    importer::Llama2cImportOptions o;
    o.model_path = kModelDir / "model_qint80.bin";
    o.tokenizer_path = kModelDir / "tok1024.bin";
    o.output_path = gguf_;
    // FORMAT.md: shifted ReLU on the norm outputs (shift 1) and on the FFN gate (shift 0.25).
    o.activation.ffn = "shifted_relu";
    o.activation.ffn_relu_shift = 0.25f;
    o.activation.norm_relu_shift = 1.0f;
    importer::import_llama2c(o);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove(gguf_, ignored);
  }

  std::unique_ptr<Engine> load(model::ActivationObserver* observer) const {
    EngineOptions options;
    options.model_path = gguf_;
    options.threads = 1;
    options.activation_observer = observer;
    return Engine::load(options);
  }

  // Greedy from BOS, one decode per token as the reference does.
  static std::vector<int32_t> greedy_from_bos(Engine& engine, size_t n, std::vector<float>* all_logits = nullptr) {
    sampling::Sampler sampler(sampling::SamplerOptions::greedy(), engine.model().n_vocab);
    std::vector<int32_t> tokens;
    int32_t token = 1;
    while (tokens.size() < n) {
      const std::span<const float> logits = engine.decode(token);
      if (all_logits != nullptr) all_logits->insert(all_logits->end(), logits.begin(), logits.end());
      token = sampler.sample(logits);
      tokens.push_back(token);
    }
    return tokens;
  }

  std::filesystem::path gguf_;
};

TEST_F(ImportedRelu260K, ReproducesTheReferenceGreedyTokensAndZeroFractions) {
  const Json ref = Json::parse(read_text(shared_dir() / "reference" / "relu260K.greedy.json"));
  ASSERT_EQ(ref.at("start_token").get<int64_t>(), 1);
  std::vector<int32_t> expected;
  for (const Json& id : ref.at("greedy_tokens")) expected.push_back(static_cast<int32_t>(id.get<int64_t>()));

  model::ZeroCounter zeros;
  const auto engine = load(&zeros);
  EXPECT_EQ(engine->model().bos_id, 1);
  const std::vector<int32_t> tokens = greedy_from_bos(*engine, expected.size());
  EXPECT_EQ(tokens, expected);
  tokenizer::DetokenizeOptions continuation;
  continuation.at_text_start = false;
  EXPECT_EQ(engine->tokenizer().detokenize(tokens, continuation), ref.at("text").get<std::string>());

  // Over the same 64 forward passes (BOS and the first 63 generated tokens).
  const Json& fractions = ref.at("fraction_exactly_zero");
  using model::ActivationSite;
  ASSERT_EQ(zeros.layers(), 4);
  EXPECT_EQ(zeros.total(ActivationSite::FfnGate).total, 64u * 4u * 192u);
  EXPECT_NEAR(zeros.total(ActivationSite::AttentionInput).fraction(), fractions.at("attn_in_zero").get<double>(), 1e-3);
  EXPECT_NEAR(zeros.total(ActivationSite::FfnInput).fraction(), fractions.at("ffn_in_zero").get<double>(), 1e-3);
  EXPECT_NEAR(zeros.total(ActivationSite::FfnGate).fraction(), fractions.at("ffn_gate_zero").get<double>(), 1e-3);
  std::printf("%s", zeros.report().c_str());
}

TEST_F(ImportedRelu260K, ObservingActivationsDoesNotChangeTheLogits) {
  std::vector<float> plain, observed;
  model::ZeroCounter zeros;
  greedy_from_bos(*load(nullptr), 16, &plain);
  greedy_from_bos(*load(&zeros), 16, &observed);
  EXPECT_EQ(plain, observed);
}

TEST_F(ImportedRelu260K, PrefillCountsEveryPromptToken) {
  model::ZeroCounter zeros;
  const auto engine = load(&zeros);
  const std::vector<int32_t> prompt = engine->tokenize("Once upon a time", true);
  engine->prefill(prompt);
  using model::ActivationSite;
  for (ActivationSite site : {ActivationSite::AttentionInput, ActivationSite::FfnInput}) {
    EXPECT_EQ(zeros.total(site).total, prompt.size() * 4u * 64u);
  }
  EXPECT_EQ(zeros.total(ActivationSite::FfnGate).total, prompt.size() * 4u * 192u);
  EXPECT_GT(zeros.total(ActivationSite::FfnGate).fraction(), 0.5);
}

}  // namespace
}  // namespace sieve::test
