// Every architecture variant of the forward pass against a plain
// double-precision implementation of the same equations (tiny_model.cpp),
// and the loader's errors for malformed models.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "core/model/tiny_model.h"
#include "engine.h"
#include "flash/pack_writer.h"

namespace sieve::test {
namespace {

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("sieve-model-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<Engine> load(const std::filesystem::path& path, int threads = 2, int64_t batch = 64) {
  EngineOptions options;
  options.model_path = path;
  options.threads = threads;
  options.batch = batch;
  return Engine::load(options);
}

const std::vector<int32_t> kTokens = {1, 5, 17, 39, 2, 8, 8, 30, 11, 0, 23, 7};

// Logits from Sieve (decode per position, and one prefill) against the plain
// implementation, relative to the largest reference logit.
void expect_matches_naive(const TinySpec& spec, const std::string& label) {
  TempDir dir;
  const TinyWeights weights = make_tiny_weights(spec);
  const std::filesystem::path path = dir.file("tiny.gguf");
  write_tiny_model(path, spec, weights);
  const auto expected = naive_forward(spec, weights, kTokens);

  auto engine = load(path);
  for (size_t pos = 0; pos < kTokens.size(); ++pos) {
    const std::span<const float> logits = engine->decode(kTokens[pos]);
    double scale = 0;
    for (double v : expected[pos]) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < logits.size(); ++i) {
      ASSERT_NEAR(logits[i], expected[pos][i], 1e-4 * scale) << label << ", position " << pos << ", token " << i;
    }
  }
  auto batched = load(path, 2, /*batch=*/5);
  const std::span<const float> last = batched->prefill(kTokens);
  double scale = 0;
  for (double v : expected.back()) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < last.size(); ++i) ASSERT_NEAR(last[i], expected.back()[i], 1e-4 * scale) << label;
}

TEST(ModelVariants, LlamaSwiGluWithGroupedQueryAttention) { expect_matches_naive(TinySpec{}, "llama"); }

TEST(ModelVariants, Qwen2BiasesAndNeoxRope) {
  TinySpec spec;
  spec.arch = "qwen2";
  spec.rope_base = 1000000.0;
  expect_matches_naive(spec, "qwen2");
}

TEST(ModelVariants, TiedOutputUsesTokenEmbedding) {
  TinySpec spec;
  spec.tied_output = true;
  expect_matches_naive(spec, "tied");
}

TEST(ModelVariants, PartialAndLinearlyScaledRope) {
  TinySpec spec;
  spec.n_rot = 2;
  spec.rope_linear_factor = 4.0;
  spec.rope_base = 100.0;
  expect_matches_naive(spec, "rope");
  spec.arch = "qwen2";
  expect_matches_naive(spec, "rope qwen2");
}

TEST(ModelVariants, RopeFrequencyDivisorsTensor) {
  TinySpec spec;
  spec.rope_freqs = true;
  spec.rope_base = 50.0;
  expect_matches_naive(spec, "rope_freqs");
}

TEST(ModelVariants, ReluFamilyActivations) {
  TinySpec spec;
  spec.activation = "relu";
  expect_matches_naive(spec, "relu");
  spec.activation = "fatrelu";
  spec.relu_threshold = 0.3f;
  expect_matches_naive(spec, "fatrelu");
  spec.activation = "shifted_relu";
  spec.relu_shift = 0.25f;
  expect_matches_naive(spec, "shifted_relu");
}

TEST(ModelVariants, GeluGatedFeedForward) {
  TinySpec spec;
  spec.activation = "gelu";
  expect_matches_naive(spec, "gelu");
}

TEST(ModelVariants, ReluOnNormalisedBlockInputs) {
  TinySpec spec;
  spec.activation = "shifted_relu";
  spec.relu_shift = 0.25f;
  spec.norm_relu = true;
  spec.norm_relu_shift = 0.5f;
  expect_matches_naive(spec, "norm relu");
}

TEST(ModelVariants, MultiHeadAttentionWithoutGrouping) {
  TinySpec spec;
  spec.n_kv_heads = spec.n_heads;
  expect_matches_naive(spec, "mha");
}

// The loader's message names the problem; `fragment` must appear in it.
void expect_load_error(const TinySpec& spec, TinyWeights weights, const std::string& fragment) {
  TempDir dir;
  const std::filesystem::path path = dir.file("bad.gguf");
  write_tiny_model(path, spec, weights);
  try {
    load(path);
    FAIL() << "no error; expected one mentioning " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ModelLoading, MissingTensorIsNamed) {
  const TinySpec spec;
  TinyWeights weights = make_tiny_weights(spec);
  weights.erase("blk.1.ffn_up.weight");
  expect_load_error(spec, weights, "'blk.1.ffn_up.weight' is missing");
}

TEST(ModelLoading, MissingQwen2BiasIsNamed) {
  TinySpec spec;
  spec.arch = "qwen2";
  TinyWeights weights = make_tiny_weights(spec);
  weights.erase("blk.0.attn_k.bias");
  expect_load_error(spec, weights, "'blk.0.attn_k.bias' is missing");
}

TEST(ModelLoading, WrongShapeIsNamed) {
  const TinySpec spec;
  TinyWeights weights = make_tiny_weights(spec);
  weights["blk.0.attn_q.weight"].dims = {8, 32};  // same element count, wrong shape
  expect_load_error(spec, weights, "'blk.0.attn_q.weight' has shape [8, 32], expected [16, 16]");
}

TEST(ModelLoading, UnsupportedArchitecture) {
  TinySpec spec;
  spec.arch = "gpt2";
  expect_load_error(spec, make_tiny_weights(spec), "architecture 'gpt2' is not supported");
}

TEST(ModelLoading, UnknownActivation) {
  TinySpec spec;
  spec.activation = "swish-7";
  expect_load_error(spec, make_tiny_weights(spec), "sieve.ffn.activation");
}

TEST(ModelLoading, MissingQkNormIsNamed) {
  TinySpec spec;
  spec.arch = "qwen3";
  TinyWeights weights = make_tiny_weights(TinySpec{});
  expect_load_error(spec, weights, "'blk.0.attn_q_norm.weight' is missing");
}

// A feed-forward tensor the pack cannot bundle (here a router, as MoE files
// have) is an error, never silently kept resident.
TEST(ModelLoading, PackRefusesAFeedForwardTensorItCannotBundle) {
  TempDir dir;
  const TinySpec spec;
  TinyWeights weights = make_tiny_weights(spec);
  TinyTensor router = weights.at("blk.0.ffn_norm.weight");
  weights["blk.0.ffn_gate_inp.weight"] = router;
  const std::filesystem::path path = dir.file("router.gguf");
  write_tiny_model(path, spec, weights);
  try {
    flash::pack_model(path, dir.file("router.sieve"));
    FAIL() << "packed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'blk.0.ffn_gate_inp.weight' is a feed-forward tensor a pack cannot bundle"),
              std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("router.sieve")));
}

TEST(ModelLoading, HeadsNotDivisibleByKvHeads) {
  TinySpec spec;
  spec.n_kv_heads = 3;
  TinyWeights weights = make_tiny_weights(TinySpec{});
  expect_load_error(spec, weights, "cannot be shared");
}

}  // namespace
}  // namespace sieve::test
