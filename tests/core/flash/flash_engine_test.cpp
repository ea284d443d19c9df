// Flash mode against dense mode: the same logits, bit for bit, on every
// shared model at budgets from the minimum to the whole model; prefill in
// batches and decode; mmap and dense modes over the pack; budgets below the
// minimum; and a read failure in the middle of generation.

#include <gtest/gtest.h>

#include "core/flash/pack_test_util.h"
#include "engine.h"
#include "flash/pinned_ffn.h"
#include "util/byte_size.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using namespace testing_util;

constexpr int kSteps = 5;

struct Budget {
  std::string label;
  uint64_t bytes;  // 0: no budget
};

// minimum, minimum + one layer, halfway, the whole model, no budget.
std::vector<Budget> budgets_for(const EngineOptions& o) {
  const MemoryPlan all = unlimited_plan(o);
  const PackFile pack = PackFile::open(o.model_path);
  const uint64_t one_layer = pinned_layer_bytes(pack.layout(0));
  return {{"minimum", all.minimum},
          {"minimum + 1 layer", all.minimum + one_layer},
          {"halfway", (all.minimum + all.total()) / 2},
          {"whole model", all.total()},
          {"unset", 0}};
}

class FlashMatchesDense : public ::testing::TestWithParam<std::string> {};

TEST_P(FlashMatchesDense, BitIdenticalLogitsAtEveryBudget) {
  const std::string name = GetParam();
  auto dense = Engine::load(engine_options(shared_model(name), EngineMode::dense));
  const std::vector<int32_t> prompt = some_tokens(dense->model().n_vocab, 12);  // batches of 9 and 3: matmat for wide and narrow batches
  const auto expected = run_greedy(*dense, prompt, kSteps);

  EngineOptions o = engine_options(packed(name), EngineMode::flash);
  for (const Budget& budget : budgets_for(o)) {
    o.dram_budget = DramBudget{budget.bytes, 0};
    auto flash = Engine::load(o);
    EXPECT_FALSE(flash->model().memory_plan.empty());
    const auto got = run_greedy(*flash, prompt, kSteps);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(bit_identical(got[i], expected[i])) << name << ", budget " << budget.label << ", step " << i << "\n"
                                                      << flash->model().memory_plan;
    }
    const EngineStats s = flash->stats();
    const bool streams = flash->model().memory_plan.find("(0 layers streamed") == std::string::npos;
    EXPECT_EQ(s.flash_bytes_read > 0, streams) << budget.label << "\n" << flash->model().memory_plan;
  }
  for (EngineMode mode : {EngineMode::mmap, EngineMode::dense}) {
    auto other = Engine::load(engine_options(packed(name), mode));
    const auto got = run_greedy(*other, prompt, kSteps);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(bit_identical(got[i], expected[i])) << name << ", pack in mode " << to_string(mode) << ", step " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, FlashMatchesDense, ::testing::ValuesIn(shared_model_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(FlashEngine, MmapModeOnTheGgufMatchesDense) {
  auto dense = Engine::load(engine_options(shared_model("synthA-q6_k"), EngineMode::dense));
  auto mapped = Engine::load(engine_options(shared_model("synthA-q6_k"), EngineMode::mmap));
  const auto prompt = some_tokens(dense->model().n_vocab, 7);
  const auto a = run_greedy(*dense, prompt, 3), b = run_greedy(*mapped, prompt, 3);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(bit_identical(a[i], b[i])) << i;
}

TEST(FlashEngine, BudgetBelowTheMinimumIsRefusedWithTheMinimum) {
  EngineOptions o = engine_options(packed("synthA-f16"), EngineMode::flash);
  const uint64_t minimum = unlimited_plan(o).minimum;
  o.dram_budget.bytes = minimum - 1;
  try {
    Engine::load(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("synthA-f16.sieve: the DRAM budget"), std::string::npos) << m;
    EXPECT_NE(m.find("is below this model's minimum of " + format_size(minimum)), std::string::npos) << m;
    for (const char* part : {"resident weights", "KV cache", "activations and scratch", "FFN streaming buffers"}) {
      EXPECT_NE(m.find(part), std::string::npos) << part << ": " << m;
    }
  }
  o.dram_budget = *parse_dram_budget("10%");
  EXPECT_THROW(Engine::load(o), Error);
}

TEST(FlashEngine, ReadErrorMidGenerationIsAnErrorAndTheEngineCarriesOn) {
  EngineOptions o = engine_options(packed("synthA-f16"), EngineMode::flash);
  o.dram_budget.bytes = unlimited_plan(o).minimum;  // every layer streamed
  o.flash.read_bytes = 64 * 1024;                   // several reads per layer
  auto clean = Engine::load(o);
  const auto prompt = some_tokens(clean->model().n_vocab, 6);
  std::span<const float> l = clean->prefill(prompt);
  const uint64_t after_prefill = clean->stats().flash_read_requests;
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> expected;
  for (int i = 0; i < 6; ++i) {
    tokens.push_back(argmax(l));
    l = clean->decode(tokens.back());
    expected.emplace_back(l.begin(), l.end());
  }
  const uint64_t after_decode = clean->stats().flash_read_requests;
  ASSERT_GT(after_decode, after_prefill + 10);

  for (IoFaultKind kind : {IoFaultKind::io_error, IoFaultKind::end_of_file}) {
    o.flash.faults.faults = {IoFault{after_prefill + (after_decode - after_prefill) / 3, kind, 0}};
    auto faulty = Engine::load(o);
    faulty->prefill(prompt);
    int failures = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::span<const float> got;
      try {
        got = faulty->decode(tokens[i]);
      } catch (const Error& e) {
        ++failures;
        const std::string m = e.what();
        EXPECT_NE(m.find("synthA-f16.sieve"), std::string::npos) << m;
        EXPECT_NE(m.find("(injected fault)"), std::string::npos) << m;
        EXPECT_EQ(faulty->position(), static_cast<int64_t>(prompt.size() + i));  // nothing advanced
        got = faulty->decode(tokens[i]);  // the same step again: the engine recovered
      }
      EXPECT_TRUE(bit_identical(std::vector<float>(got.begin(), got.end()), expected[i])) << "step " << i;
    }
    EXPECT_EQ(failures, 1);
  }
  // And a new engine over the same pack works as before.
  auto again = Engine::load(o);
  EXPECT_NO_THROW(again->prefill(prompt));
}

TEST(FlashEngine, StatsCountStreamedBytes) {
  EngineOptions o = engine_options(packed("synthA-q8_0"), EngineMode::flash);
  o.dram_budget.bytes = unlimited_plan(o).minimum;
  auto engine = Engine::load(o);
  const PackFile pack = PackFile::open(o.model_path);
  uint64_t per_pass = 0;
  for (int64_t layer = 0; layer < pack.n_layers(); ++layer) per_pass += pack.layout(layer).layer_bytes();
  engine->prefill(some_tokens(engine->model().n_vocab, 3));  // one batch: one pass over the layers
  const uint64_t after_prefill = engine->stats().flash_bytes_read;
  EXPECT_EQ(after_prefill, per_pass);
  engine->decode(5);
  engine->decode(6);
  const EngineStats s = engine->stats();
  EXPECT_EQ(s.flash_bytes_read, 3 * per_pass);
  EXPECT_GE(s.flash_io_wait_seconds, 0.0);
  EXPECT_GT(s.flash_compute_seconds, 0.0);
}

}  // namespace
}  // namespace sieve::flash
