// Engine behaviour beyond the reference logits: prefill equals step-by-step
// decoding, thread counts agree, the context fills up cleanly, bad input is
// refused with sieve::Error.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/model/reference_case.h"
#include "engine.h"
#include "sampling/sampler.h"

namespace sieve::test {
namespace {

std::filesystem::path model_path(const char* file) { return shared_dir() / "models" / file; }

std::unique_ptr<Engine> load(const char* file, int threads = 1, int64_t context = 0, int64_t batch = 64) {
  EngineOptions options;
  options.model_path = model_path(file);
  options.threads = threads;
  options.context = context;
  options.batch = batch;
  return Engine::load(options);
}

std::vector<int32_t> some_tokens(int64_t n_vocab, size_t n) {
  std::vector<int32_t> ids{1};
  for (size_t i = 1; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(n_vocab)));
  return ids;
}

size_t argmax(std::span<const float> v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

double max_relative_difference(std::span<const float> a, std::span<const float> b) {
  double scale = 0, worst = 0;
  for (float v : b) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst / std::max(scale, 1e-12);
}

// Prefill (matrix x matrix, batched causal attention) and decode (matrix x
// vector, one token at a time) are the same computation.
// Float models agree to rounding. Quantized ones multiply prompt batches with
// float activations but single tokens with 8-bit ones (tensor/matmul.cpp), and
// their 8-bit roundings amplify tiny differences: a few percent, the tolerance
// the reference comparison allows them, with the same best token.
TEST(Engine, PrefillLogitsEqualSequentialDecode) {
  for (const char* file : {"stories260K.gguf", "synthA-f16.gguf", "synthA-q4_k_m.gguf", "synthA-q4_0.gguf"}) {
    const double tolerance = std::string(file).find("-q") != std::string::npos ? 3e-2 : 1e-4;
    for (int64_t batch : {int64_t{7}, int64_t{512}}) {  // prompt in 3 chunks, and in one
      auto batched = load(file, 1, 0, batch);
      auto stepwise = load(file, 1);
      const std::vector<int32_t> ids = some_tokens(batched->model().n_vocab, 20);
      const auto prefill_span = batched->prefill(ids);
      const std::vector<float> from_prefill(prefill_span.begin(), prefill_span.end());
      std::span<const float> from_decode;
      for (int32_t id : ids) from_decode = stepwise->decode(id);
      EXPECT_LT(max_relative_difference(from_prefill, from_decode), tolerance) << file << ", batch " << batch;
      EXPECT_EQ(argmax(from_prefill), argmax(from_decode)) << file << ", batch " << batch;
      EXPECT_EQ(batched->position(), 20);
      // And the caches agree: the next decode step is the same in both.
      const auto a = batched->decode(ids[3]);
      const std::vector<float> next_batched(a.begin(), a.end());
      EXPECT_LT(max_relative_difference(next_batched, stepwise->decode(ids[3])), tolerance) << file;
    }
  }
}

std::vector<int32_t> greedy_tokens(Engine& engine, const std::vector<int32_t>& prompt, int n) {
  sampling::Sampler sampler(sampling::SamplerOptions::greedy(), engine.model().n_vocab);
  std::vector<int32_t> out;
  std::span<const float> logits = engine.prefill(prompt);
  for (int i = 0; i < n; ++i) {
    out.push_back(sampler.sample(logits));
    logits = engine.decode(out.back());
  }
  return out;
}

TEST(Engine, OneAndTwoThreadsGiveTheSameTokens) {
  for (const char* file : {"stories260K.gguf", "synthA-q8_0.gguf"}) {
    auto one = load(file, 1);
    auto two = load(file, 2);
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
    EXPECT_EQ(greedy_tokens(*one, prompt, 24), greedy_tokens(*two, prompt, 24)) << file;
  }
}

TEST(Engine, ResetAndRewindReplayTheSameLogits) {
  auto engine = load("stories260K.gguf");
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  const auto first = engine->prefill(prompt);
  const std::vector<float> expected(first.begin(), first.end());
  engine->decode(432);
  engine->rewind(5);
  EXPECT_EQ(engine->position(), 5);
  const auto after_rewind = engine->decode(432);
  const std::vector<float> rewound(after_rewind.begin(), after_rewind.end());
  engine->reset();
  EXPECT_EQ(engine->position(), 0);
  EXPECT_LT(max_relative_difference(engine->prefill(prompt), expected), 1e-6);
  EXPECT_LT(max_relative_difference(engine->decode(432), rewound), 1e-6);
  EXPECT_THROW(engine->rewind(7), Error);
}

TEST(Engine, ContextFullIsReportedWithoutChangingState) {
  auto engine = load("stories260K.gguf", 1, /*context=*/8);
  EXPECT_EQ(engine->model().context, 8);
  EXPECT_THROW(engine->prefill(some_tokens(512, 9)), ContextFullError);
  EXPECT_EQ(engine->position(), 0);
  engine->prefill(some_tokens(512, 7));
  EXPECT_EQ(engine->remaining_context(), 1);
  engine->decode(300);
  EXPECT_EQ(engine->remaining_context(), 0);
  EXPECT_THROW(engine->decode(300), ContextFullError);
  EXPECT_EQ(engine->position(), 8);
  engine->rewind(4);
  EXPECT_NO_THROW(engine->decode(300));
}

TEST(Engine, DefaultContextIsTheModelsUpTo4096) {
  EXPECT_EQ(load("stories260K.gguf")->model().context, 2048);          // trained with 2048
  EXPECT_EQ(load("llama-2-tiny-random.gguf")->model().context, 4096);  // trained with 4096
}

TEST(Engine, BadInputRaisesError) {
  EXPECT_THROW(load("no-such-model.gguf"), Error);
  EXPECT_THROW(load("stories260K.gguf", 1, -5), Error);
  EXPECT_THROW(load("stories260K.gguf", 1, int64_t{1} << 30), Error);
  auto engine = load("stories260K.gguf");
  EXPECT_THROW(engine->prefill({}), Error);
  const std::vector<int32_t> out_of_range = {1, 512};
  EXPECT_THROW(engine->prefill(out_of_range), Error);
  EXPECT_THROW(engine->decode(-1), Error);
  EXPECT_EQ(engine->position(), 0);
}

TEST(Engine, SummaryAndStats) {
  auto engine = load("stories260K.gguf");
  const ModelSummary& m = engine->model();
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(m.n_vocab, 512);
  EXPECT_EQ(m.n_layers, 5);
  EXPECT_EQ(m.dim, 64);
  EXPECT_EQ(m.bos_id, 1);
  EXPECT_EQ(m.eos_id, 2);
  EXPECT_TRUE(engine->is_end_of_generation(2));
  EXPECT_FALSE(engine->is_end_of_generation(1));
  engine->prefill(std::vector<int32_t>{1, 403, 407});
  engine->decode(261);
  const EngineStats s = engine->stats();
  EXPECT_EQ(s.prompt_tokens, 3);
  EXPECT_EQ(s.decode_tokens, 1);
  EXPECT_GT(s.peak_rss_bytes, 0u);
}

}  // namespace
}  // namespace sieve::test
