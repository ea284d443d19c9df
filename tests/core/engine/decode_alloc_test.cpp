// Engine::decode allocates nothing in any mode: dense, mmap, flash and sparse
// each load a real model through the public API, warm up (a prompt and a few
// decode steps), then run more decode steps while every operator new is
// counted (alloc_counter.h) — none may happen. Flash and sparse run at their
// minimum DRAM budget, so the measured steps stream layers and neurons from
// the file with real reads (the stats must show bytes read in the window).
//
// A failure names the count; SIEVE_ALLOC_BACKTRACE=1 prints where the first
// allocation came from.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/alloc_counter.h"
#include "core/sparse/sparse_test_util.h"
#include "engine.h"
#include "engine/pack_backend.h"

namespace sieve {
namespace {

using sparse::testing_util::SynthModel;
using sparse::testing_util::synth_pack;
using sparse::testing_util::temp_folder;
using testing_util::AllocationWindow;

const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new sparse::testing_util::TempFolderCleanup);

constexpr int kPrompt = 6, kWarmSteps = 4, kMeasuredSteps = 12;

// Several layers; F16 (float rows) and Q8_0 (activations quantized for the dot).
const SynthModel kF16{"decode-alloc-relu-f16", "f16", 128, 4, 512, 0.8};
const SynthModel kQ8{"decode-alloc-relu-q8_0", "q8_0", 128, 4, 1024, 0.97};

EngineOptions options_for(const std::filesystem::path& model, EngineMode mode) {
  EngineOptions o;
  o.model_path = model;
  o.mode = mode;
  o.threads = 2;
  o.context = 64;
  o.batch = 4;  // the prompt runs in two batches
  return o;
}

flash::BackendOptions backend_options(const EngineOptions& o) {
  flash::BackendOptions b;
  b.mode = o.mode;
  b.context = o.context;
  b.batch = o.batch;
  b.sparse = o.sparse;
  return b;
}

// The smallest budget the mode accepts: every flash layer streamed, the
// fewest neurons kept in sparse mode.
uint64_t minimum_budget(const EngineOptions& o) {
  const flash::PackFile pack = flash::PackFile::open(o.model_path);
  if (o.mode == EngineMode::flash) return flash::plan_pack_memory(pack, backend_options(o), o.threads).minimum;
  return flash::plan_sparse_pack_memory(pack, backend_options(o), o.threads).minimum;
}

int32_t argmax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

struct Window {
  uint64_t allocations = 0;
  uint64_t flash_bytes_read = 0;   // in the measured steps
  uint64_t sparse_bytes_read = 0;
};

// Prompt and warm-up, then the measured decode steps (greedy: argmax
// allocates nothing, and sampling is not the engine's).
Window measure_decode(Engine& engine) {
  std::vector<int32_t> prompt{engine.model().bos_id >= 0 ? engine.model().bos_id : 1};
  for (int i = 1; i < kPrompt; ++i) prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % engine.model().n_vocab));
  std::span<const float> logits = engine.prefill(prompt);
  for (int i = 0; i < kWarmSteps; ++i) logits = engine.decode(argmax(logits));
  const EngineStats before = engine.stats();
  Window w;
  {
    const AllocationWindow counting;
    for (int i = 0; i < kMeasuredSteps; ++i) logits = engine.decode(argmax(logits));
    w.allocations = counting.count();
  }
  const EngineStats after = engine.stats();
  w.flash_bytes_read = after.flash_bytes_read - before.flash_bytes_read;
  w.sparse_bytes_read = after.sparse_bytes_read - before.sparse_bytes_read;
  return w;
}

class DecodeAllocation : public ::testing::TestWithParam<SynthModel> {
 protected:
  std::filesystem::path pack() const { return synth_pack(GetParam()); }
  std::filesystem::path gguf() const { return temp_folder() / (GetParam().name + ".gguf"); }  // written by synth_pack
};

TEST_P(DecodeAllocation, DenseAllocatesNothing) {
  pack();
  auto engine = Engine::load(options_for(gguf(), EngineMode::dense));
  EXPECT_EQ(measure_decode(*engine).allocations, 0u);
}

TEST_P(DecodeAllocation, MmapAllocatesNothing) {
  pack();
  auto engine = Engine::load(options_for(gguf(), EngineMode::mmap));
  EXPECT_EQ(measure_decode(*engine).allocations, 0u);
}

TEST_P(DecodeAllocation, FlashStreamingEveryLayerAllocatesNothing) {
  EngineOptions o = options_for(pack(), EngineMode::flash);
  o.dram_budget.bytes = minimum_budget(o);
  o.flash.read_bytes = 64 * 1024;  // several reads per layer
  auto engine = Engine::load(o);
  const Window w = measure_decode(*engine);
  EXPECT_EQ(w.allocations, 0u);
  EXPECT_GT(w.flash_bytes_read, 0u) << engine->model().memory_plan;
}

// The gate predictor (the default) with the gate's own type and with a
// smaller Q8_0 copy (a safety margin), and no window (every token's neurons
// are read anew) or the default one.
TEST_P(DecodeAllocation, SparseReadingNeuronsAllocatesNothing) {
  for (const bool q8_copy : {false, true}) {
    for (const int window : {0, 4}) {
      SCOPED_TRACE((q8_copy ? "Q8_0 gate copy, window " : "exact gate, window ") + std::to_string(window));
      EngineOptions o = options_for(pack(), EngineMode::sparse);
      o.sparse.window = window;
      if (q8_copy) o.sparse.gate_copy = tensor::TensorType::Q8_0;
      o.dram_budget.bytes = minimum_budget(o);
      auto engine = Engine::load(o);
      const Window w = measure_decode(*engine);
      EXPECT_EQ(w.allocations, 0u);
      EXPECT_GT(w.sparse_bytes_read, 0u) << engine->model().memory_plan;
    }
  }
}

// Flash mode on a Mixture-of-Experts GGUF: experts streamed into the expert
// cache at its minimum (one layer's choice), and with room for reads ahead
// (the next layer's router applied early).
TEST(DecodeAllocationExperts, StreamingExpertsAllocatesNothing) {
  const auto model = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "arch" / "qwen3moe.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
  EngineOptions o = options_for(model, EngineMode::flash);
  const MemoryPlan all = Engine::plan(o);
  o.dram_budget.bytes = all.minimum;
  const int64_t k = Engine::plan(o).expert_slots;  // the minimum: one layer's choice
  // With room for reads ahead: the ranks of a hint trusted by their record
  // (the default), and every hint at once.
  for (const double precision : {o.flash.expert_read_ahead_precision, 0.0}) {
    for (const int64_t extra_slots : {int64_t{0}, k + 2}) {
      SCOPED_TRACE("slots beyond the minimum: " + std::to_string(extra_slots) +
                   ", read-ahead precision: " + std::to_string(precision));
      o.flash.expert_read_ahead_precision = precision;
      o.dram_budget.bytes = all.minimum + static_cast<uint64_t>(extra_slots) * all.expert_slot_bytes;
      auto engine = Engine::load(o);
      const Window w = measure_decode(*engine);
      EXPECT_EQ(w.allocations, 0u);
      EXPECT_GT(w.flash_bytes_read, 0u) << engine->model().memory_plan;
      if (extra_slots > 0 && precision == 0) {
        EXPECT_GT(engine->stats().expert_prefetched, 0u);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Synth, DecodeAllocation, ::testing::Values(kF16, kQ8),
                         [](const ::testing::TestParamInfo<SynthModel>& info) {
                           return info.param.type == "f16" ? std::string("F16") : std::string("Q8_0");
                         });

}  // namespace
}  // namespace sieve
