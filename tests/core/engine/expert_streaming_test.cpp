// Flash mode on a Mixture-of-Experts GGUF (engine/expert_backend.h): the
// experts a token's router picks stream into an expert cache, and the logits
// equal dense mode's bit for bit at every budget, from the minimum (one
// layer's choice of experts) to every expert cached.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine.h"
#include "util/byte_size.h"

namespace sieve {
namespace {

std::filesystem::path arch_model(const std::string& name) {
  return std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "arch" / (name + ".gguf");
}

EngineOptions options_for(const std::filesystem::path& model, EngineMode mode, uint64_t budget = 0) {
  EngineOptions o;
  o.model_path = model;
  o.mode = mode;
  o.threads = 1;
  o.context = 64;
  o.dram_budget.bytes = budget;
  // Every hint read ahead at once (not only the ranks proved right): the
  // most reading ahead, which must change no result.
  o.flash.expert_read_ahead_precision = 0;
  return o;
}

// The logits of a prompt and of `steps` greedy tokens after it.
std::vector<std::vector<float>> run(Engine& engine, int steps) {
  std::vector<std::vector<float>> out;
  std::span<const float> logits = engine.prefill(engine.tokenize("Once upon a time", engine.model().add_bos));
  for (int i = 0;; ++i) {
    out.emplace_back(logits.begin(), logits.end());
    if (i == steps) return out;
    int32_t best = 0;
    for (size_t t = 1; t < logits.size(); ++t) {
      if (logits[t] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(t);
    }
    logits = engine.decode(best);
  }
}

class ExpertStreaming : public ::testing::TestWithParam<std::string> {};

TEST_P(ExpertStreaming, EqualsDenseBitForBitAtEveryBudget) {
  const auto model = arch_model(GetParam());
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
  constexpr int kSteps = 12;
  const auto dense = Engine::load(options_for(model, EngineMode::dense));
  const std::vector<std::vector<float>> expected = run(*dense, kSteps);
  const MemoryPlan all = Engine::plan(options_for(model, EngineMode::flash));
  ASSERT_EQ(all.expert_slots, all.experts);
  const uint64_t slot = all.expert_slot_bytes;
  const int64_t k = Engine::plan(options_for(model, EngineMode::flash, all.minimum)).expert_slots;
  // The minimum; a few slots more; room for two layers' choices (reads
  // ahead start); every expert.
  for (const uint64_t budget : {all.minimum, all.minimum + 3 * slot, all.minimum + static_cast<uint64_t>(k) * slot,
                                all.total}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    const MemoryPlan plan = Engine::plan(options_for(model, EngineMode::flash, budget));
    EXPECT_LE(plan.total, budget);
    const auto streamed = Engine::load(options_for(model, EngineMode::flash, budget));
    EXPECT_EQ(streamed->model().memory_plan, plan.text);
    const std::vector<std::vector<float>> got = run(*streamed, kSteps);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].size(), expected[i].size());
      EXPECT_EQ(std::memcmp(got[i].data(), expected[i].data(), got[i].size() * sizeof(float)), 0) << "step " << i;
    }
    const EngineStats s = streamed->stats();
    EXPECT_GT(s.expert_misses, 0u);
    EXPECT_GE(s.flash_bytes_read, s.expert_misses * slot / 2);  // each miss reads its expert's bytes
    if (plan.expert_slots >= 2 * k && plan.expert_slots < plan.experts) {
      EXPECT_GT(s.expert_prefetched, 0u) << "with room for two layers' choices, the next layer's are read ahead";
    }
    if (plan.expert_slots == plan.experts) {
      EXPECT_LE(s.expert_misses, static_cast<uint64_t>(plan.experts)) << "a full cache reads each expert once";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ExpertStreaming, ::testing::Values("qwen3moe", "mixtral", "gpt-oss", "gpt-oss-mxfp4"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// A prompt runs expert by expert over the union of its tokens' choices: each
// layer requests each chosen expert once, however many tokens chose it.
TEST_P(ExpertStreaming, APromptRequestsEachChosenExpertOncePerLayer) {
  const auto model = arch_model(GetParam());
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
  const MemoryPlan all = Engine::plan(options_for(model, EngineMode::flash));
  const auto streamed = Engine::load(options_for(model, EngineMode::flash, all.minimum));
  const std::vector<int32_t> prompt =
      streamed->tokenize("Once upon a time, a little fox found a shiny stone by the river.", streamed->model().add_bos);
  streamed->prefill(prompt);
  const EngineStats s = streamed->stats();
  const int64_t k = Engine::plan(options_for(model, EngineMode::flash, all.minimum)).expert_slots;
  const auto per_token = static_cast<uint64_t>(prompt.size()) * static_cast<uint64_t>(k);
  uint64_t requested = 0;
  for (const ExpertLayerHits& layer : streamed->expert_layer_stats()) {
    const uint64_t layer_requests = layer.hits + layer.misses;
    EXPECT_LE(layer_requests, static_cast<uint64_t>(all.experts) / streamed->expert_layer_stats().size());
    EXPECT_LT(layer_requests, per_token) << "token by token, each token would request its own k experts";
    requested += layer_requests;
  }
  EXPECT_EQ(requested, s.expert_hits + s.expert_misses);
}

TEST(ExpertStreaming, BelowTheMinimumNamesItAndSparseModeSaysWhy) {
  const auto model = arch_model("qwen3moe");
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
  const MemoryPlan all = Engine::plan(options_for(model, EngineMode::flash));
  try {
    Engine::load(options_for(model, EngineMode::flash, all.minimum - 1));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("below this model's minimum of " + format_size(all.minimum)),
              std::string::npos)
        << e.what();
  }
  try {
    Engine::load(options_for(model, EngineMode::sparse));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--mode flash"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sieve
