// `--mode sparse` through the Engine: relu260K continues exactly as dense
// mode does; a synthetic ReLU model's logits follow dense mode's at every
// window and budget (the minimum included); the plan respects the budget and
// refuses less than the minimum; a failed read is an error the engine
// recovers from; the statistics add up.

#include <gtest/gtest.h>

#include "core/sparse/sparse_test_util.h"
#include "engine.h"
#include "engine/pack_backend.h"
#include "flash/io/disk_profile.h"
#include "sparse/sparse_plan.h"
#include "util/byte_size.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

using namespace testing_util;

const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempFolderCleanup);

const SynthModel kF16{"engine-relu-f16", "f16", 128, 3, 512, 0.9};
const SynthModel kQ8{"engine-relu-q8_0", "q8_0", 128, 2, 512, 0.9};

EngineOptions options_for(const std::filesystem::path& model, EngineMode mode, int window = 4) {
  EngineOptions o;
  o.model_path = model;
  o.mode = mode;
  o.threads = 2;
  o.context = 128;
  o.batch = 8;
  o.sparse.window = window;
  return o;
}

std::vector<int32_t> prompt_for(const Engine& engine, size_t n) {
  std::vector<int32_t> ids{engine.model().bos_id >= 0 ? engine.model().bos_id : 1};
  for (size_t i = 1; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(engine.model().n_vocab)));
  return ids;
}

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Logits after the prompt and after each greedy step, and the tokens chosen.
struct Greedy {
  std::vector<std::vector<float>> logits;
  std::vector<int32_t> tokens;
};

Greedy greedy(Engine& engine, const std::vector<int32_t>& prompt, int steps) {
  Greedy run;
  std::span<const float> l = engine.prefill(prompt);
  run.logits.emplace_back(l.begin(), l.end());
  for (int i = 0; i < steps; ++i) {
    run.tokens.push_back(argmax(l));
    l = engine.decode(run.tokens.back());
    run.logits.emplace_back(l.begin(), l.end());
  }
  return run;
}

sparse::SparsePlan plan_of(const EngineOptions& o, uint64_t budget) {
  const flash::PackFile pack = flash::PackFile::open(o.model_path);
  flash::BackendOptions b;
  b.mode = EngineMode::sparse;
  if (budget > 0) b.budget.bytes = budget;
  b.context = o.context;
  b.batch = o.batch;
  b.sparse = o.sparse;
  return flash::plan_sparse_pack_memory(pack, b, o.threads);
}

TEST(SparseEngine, Relu260KContinuesExactlyAsDenseMode) {
  if (!std::filesystem::exists(kRelu260K)) GTEST_SKIP() << "no " << kRelu260K;
  auto dense = Engine::load(options_for(relu260k(false), EngineMode::dense));
  const std::vector<int32_t> prompt = dense->tokenize("Once upon a time", true);
  const Greedy expected = greedy(*dense, prompt, 60);
  for (int window : {0, 4}) {
    EngineOptions o = options_for(relu260k(true), EngineMode::sparse, window);
    for (uint64_t budget : {uint64_t{0}, plan_of(o, 0).minimum}) {
      o.dram_budget.bytes = budget;
      auto sparse = Engine::load(o);
      const Greedy got = greedy(*sparse, prompt, 60);
      EXPECT_EQ(got.tokens, expected.tokens) << "window " << window << ", budget " << budget << "\n"
                                             << sparse->model().memory_plan;
      for (size_t i = 0; i < got.logits.size(); ++i) {
        // Summation order differs, and the differences grow over 60 positions of attention.
        EXPECT_LE(max_abs_diff(got.logits[i], expected.logits[i]), 5e-4f * std::max(1.0f, max_abs(expected.logits[i])))
            << "step " << i;
      }
      const EngineStats s = sparse->stats();
      EXPECT_EQ(s.sparse_tokens, 60);
      // relu260K: about 77% of gate activations are exactly zero.
      const double active = static_cast<double>(s.sparse_neurons_predicted) / (60.0 * 4 * 192);
      EXPECT_GT(active, 0.05);
      EXPECT_LT(active, 0.45);
      EXPECT_EQ(s.sparse_ffn_bytes_per_token, 4u * 192 * 768);
    }
  }
}

TEST(SparseEngine, SyntheticReluModelFollowsDenseAtEveryWindowAndBudget) {
  for (const SynthModel* m : {&kF16, &kQ8}) {
    const std::filesystem::path pack = synth_pack(*m);
    auto dense = Engine::load(options_for(pack, EngineMode::dense));
    const std::vector<int32_t> prompt = prompt_for(*dense, 11);  // batches of 8 and 3
    const Greedy expected = greedy(*dense, prompt, 6);
    for (int window : {0, 2}) {
      EngineOptions o = options_for(pack, EngineMode::sparse, window);
      const SparsePlan full = plan_of(o, 0);
      for (uint64_t budget : {uint64_t{0}, full.minimum, (full.minimum + full.total()) / 2}) {
        o.dram_budget.bytes = budget;
        auto sparse = Engine::load(o);
        const Greedy got = greedy(*sparse, prompt, 6);
        for (size_t i = 0; i < got.logits.size(); ++i) {
          EXPECT_LE(max_abs_diff(got.logits[i], expected.logits[i]), 1e-3f * std::max(1.0f, max_abs(expected.logits[i])))
              << m->name << " window " << window << " budget " << budget << " step " << i;
        }
        EXPECT_EQ(got.tokens, expected.tokens) << m->name;
        const EngineStats s = sparse->stats();
        EXPECT_EQ(s.sparse_tokens, 6);
        // (Decode may read nothing here: the prompt fills the stores with what these small models use.)
        EXPECT_GT(s.flash_bytes_read, s.sparse_bytes_read);  // the prompt streamed every layer
        EXPECT_GE(s.sparse_neurons_loaded + s.sparse_neuron_hits, s.sparse_neurons_predicted);
      }
    }
  }
}

// The architectures of models/arch in sparse mode with the gate predictor and
// no target sparsity: their SiLU and GELU gates have no exact zeros, so every
// neuron is computed and the logits follow dense mode's, through QK norms,
// post-norms, soft caps, sliding windows and fused gate+up tensors.
TEST(SparseEngine, EveryArchitectureFollowsDenseWithItsGate) {
  for (const char* name : {"qwen3", "gemma2", "gemma3", "phi3-q8_0"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path model = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "arch" / (std::string(name) + ".gguf");
    const std::filesystem::path pack = temp_folder() / (std::string(name) + ".sieve");
    flash::pack_model(model, pack);
    auto dense = Engine::load(options_for(model, EngineMode::dense));
    const std::vector<int32_t> prompt = prompt_for(*dense, 11);  // batches of 8 and 3; past gemma's window of 8
    const Greedy expected = greedy(*dense, prompt, 6);
    auto sparse = Engine::load(options_for(pack, EngineMode::sparse));
    const Greedy got = greedy(*sparse, prompt, 6);
    EXPECT_EQ(got.tokens, expected.tokens);
    for (size_t i = 0; i < got.logits.size(); ++i) {
      EXPECT_LE(max_abs_diff(got.logits[i], expected.logits[i]), 1e-3f * std::max(1.0f, max_abs(expected.logits[i])))
          << "step " << i;
    }
    const model::HyperParams hp = flash::PackFile::open(pack).hparams();  // a copy: the file closes here
    EXPECT_EQ(sparse->stats().sparse_neurons_predicted, static_cast<uint64_t>(6 * hp.n_layers * hp.n_ff));
  }
}

// The merge gap from a disk's curve: reads of s bytes taking 10 us + s at
// 2 GB/s make a hole worth reading up to 10 us x 2 GB/s = 20 000 bytes (16 KiB
// in 4 KiB steps); other depths' points do not matter, a noisy point little; no
// profile, or no fixed cost per read: 0.
TEST(SparseEngine, TheMergeGapIsTheDisksFixedCostPerReadInBytes) {
  flash::DiskProfile disk;
  for (uint32_t chunk : {4096u, 16384u, 65536u, 262144u, 1048576u}) {
    const double seconds = 10e-6 + chunk / 2e9;
    disk.points.push_back({chunk, 32, chunk / seconds / 1e6, 32 / seconds, 0, 0, 0});
    disk.points.push_back({chunk, 1, chunk / (4 * seconds) / 1e6, 1 / (4 * seconds), 0, 0, 0});
  }
  EXPECT_EQ(choose_merge_gap(&disk, 32), 16384u);
  EXPECT_EQ(choose_merge_gap(&disk, 24), 16384u);  // the nearest measured depth
  disk.points[2].mb_per_s *= 0.9;                 // 16 KiB reads at depth 32, 10% slower: 21 217 bytes
  EXPECT_EQ(choose_merge_gap(&disk, 32), 20480u);
  EXPECT_EQ(choose_merge_gap(nullptr, 32), 0u);
  // 1 MiB reads at 60% of the line (a disk that slows down on large reads):
  // not part of the fit, which still finds the fixed cost of the small ones.
  disk.points[2].mb_per_s /= 0.9;
  disk.points[8].mb_per_s *= 0.6;
  EXPECT_EQ(choose_merge_gap(&disk, 32), 16384u);
  // Measured with large reads only: the two smallest still give a fit.
  flash::DiskProfile large_reads;
  for (uint32_t chunk : {262144u, 1048576u, 4194304u}) {
    const double seconds = 10e-6 + chunk / 2e9;
    large_reads.points.push_back({chunk, 32, chunk / seconds / 1e6, 32 / seconds, 0, 0, 0});
  }
  EXPECT_EQ(choose_merge_gap(&large_reads, 32), 16384u);
  flash::DiskProfile no_fixed_cost;
  for (uint32_t chunk : {4096u, 65536u, 1048576u}) no_fixed_cost.points.push_back({chunk, 32, 2000, 2e9 / chunk, 0, 0, 0});
  EXPECT_EQ(choose_merge_gap(&no_fixed_cost, 32), 0u);
}

TEST(SparseEngine, ThePlanRespectsTheBudgetAndRefusesLessThanTheMinimum) {
  EngineOptions o = options_for(synth_pack(kF16), EngineMode::sparse, 8);
  o.sparse.exact_gate = true;  // below its minimum the default would keep a Q8_0 copy (next test)
  const SparsePlan full = plan_of(o, 0);
  EXPECT_NE(full.describe().find("neuron stores"), std::string::npos) << full.describe();
  for (double f : {0.0, 0.1, 0.5, 0.9, 1.0, 2.0}) {
    const auto budget = static_cast<uint64_t>(static_cast<double>(full.minimum) +
                                              f * static_cast<double>(full.total() - full.minimum));
    const SparsePlan plan = plan_of(o, budget);
    EXPECT_LE(plan.total(), budget) << "f " << f << "\n" << plan.describe();
    for (const SparseLayerPlan& l : plan.layers) {
      EXPECT_GE(l.capacity, l.minimum);
      EXPECT_LE(l.capacity, l.wanted);
    }
    EXPECT_EQ(plan.shrunk, f < 1.0) << plan.describe();
  }
  o.dram_budget.bytes = full.minimum - 1;
  try {
    Engine::load(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("engine-relu-f16.sieve: the DRAM budget"), std::string::npos) << m;
    EXPECT_NE(m.find("below sparse mode's minimum of " + format_size(full.minimum)), std::string::npos) << m;
    for (const char* part : {"resident weights", "KV cache", "predictor", "neuron stores"}) {
      EXPECT_NE(m.find(part), std::string::npos) << part << ": " << m;
    }
  }
  // A larger window wants more.
  EngineOptions small = o;
  small.sparse.window = 0;
  EXPECT_LT(plan_of(small, 0).store_bytes, full.store_bytes);
}

// `--gate-copy auto` (the default): a float gate stays exact unless a tight
// budget's stores would hold more neurons beside a Q8_0 copy, or only the copy
// fits. The copy is used with a margin and the loaded neurons' gates are
// computed exactly, so the output still follows dense mode.
TEST(SparseEngine, ATightBudgetKeepsAQ8CopyOfAFloatGate) {
  const std::filesystem::path pack = synth_pack(kF16);
  EngineOptions o = options_for(pack, EngineMode::sparse, 8);
  EngineOptions exact = o;
  exact.sparse.exact_gate = true;
  const SparsePlan exact_full = plan_of(exact, 0);
  auto predictor_of = [](const SparsePlan& p) { return p.inputs.predictor_text; };
  EXPECT_NE(predictor_of(plan_of(o, 0)).find("exact"), std::string::npos);  // no budget
  EXPECT_NE(predictor_of(plan_of(o, exact_full.total())).find("exact"), std::string::npos);  // the window fits
  const uint64_t tight = exact_full.minimum - 1;  // below the exact gate's minimum
  const SparsePlan copy = plan_of(o, tight);
  EXPECT_NE(predictor_of(copy).find("Q8_0 copy"), std::string::npos) << copy.describe();
  EXPECT_LE(copy.total(), tight);

  auto dense = Engine::load(options_for(pack, EngineMode::dense));
  const std::vector<int32_t> prompt = prompt_for(*dense, 11);
  const Greedy expected = greedy(*dense, prompt, 6);
  o.dram_budget.bytes = tight;
  auto sparse = Engine::load(o);
  EXPECT_NE(sparse->model().memory_plan.find("Q8_0 copy"), std::string::npos) << sparse->model().memory_plan;
  const Greedy got = greedy(*sparse, prompt, 6);
  EXPECT_EQ(got.tokens, expected.tokens);
  for (size_t i = 0; i < got.logits.size(); ++i) {
    EXPECT_LE(max_abs_diff(got.logits[i], expected.logits[i]), 1e-3f * std::max(1.0f, max_abs(expected.logits[i])))
        << "step " << i;
  }
  // A Q8_0 gate is never copied to Q8_0; `--gate-copy exact` is refused below its minimum.
  EngineOptions q8 = options_for(synth_pack(kQ8), EngineMode::sparse, 8);
  EXPECT_NE(predictor_of(plan_of(q8, plan_of(q8, 0).minimum)).find("exact"), std::string::npos);
  exact.dram_budget.bytes = tight;
  EXPECT_THROW(Engine::load(exact), Error);
  // Below the copy's minimum too: the refusal names that minimum, the least budget that works.
  EngineOptions copy_options = o;
  copy_options.sparse.gate_copy = tensor::TensorType::Q8_0;
  const uint64_t copy_minimum = plan_of(copy_options, 0).minimum;
  o.dram_budget.bytes = copy_minimum - 1;
  try {
    Engine::load(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("below sparse mode's minimum of " + format_size(copy_minimum)), std::string::npos)
        << e.what();
  }
}

TEST(SparseEngine, AReadErrorIsAnErrorAndTheEngineCarriesOn) {
  EngineOptions o = options_for(synth_pack(kF16), EngineMode::sparse, 2);
  auto clean = Engine::load(o);
  const std::vector<int32_t> prompt = prompt_for(*clean, 5);
  Greedy reference;
  std::span<const float> l = clean->prefill(prompt);
  const uint64_t after_prefill = clean->stats().flash_read_requests;
  for (int i = 0; i < 6; ++i) {
    reference.tokens.push_back(argmax(l));
    l = clean->decode(reference.tokens.back());
    reference.logits.emplace_back(l.begin(), l.end());
  }
  const uint64_t after_decode = clean->stats().flash_read_requests;
  ASSERT_GT(after_decode, after_prefill + 4);

  for (flash::IoFaultKind kind : {flash::IoFaultKind::io_error, flash::IoFaultKind::end_of_file}) {
    o.flash.faults.faults = {flash::IoFault{after_prefill + (after_decode - after_prefill) / 2, kind, 0}};
    auto faulty = Engine::load(o);
    faulty->prefill(prompt);
    int failures = 0;
    for (size_t i = 0; i < reference.tokens.size(); ++i) {
      std::span<const float> got;
      try {
        got = faulty->decode(reference.tokens[i]);
      } catch (const Error& e) {
        ++failures;
        const std::string m = e.what();
        EXPECT_NE(m.find("engine-relu-f16.sieve"), std::string::npos) << m;
        EXPECT_NE(m.find("(injected fault)"), std::string::npos) << m;
        EXPECT_EQ(faulty->position(), static_cast<int64_t>(prompt.size() + i));
        got = faulty->decode(reference.tokens[i]);
      }
      const std::vector<float> l(got.begin(), got.end());
      EXPECT_LE(max_abs_diff(l, reference.logits[i]), 1e-3f * std::max(1.0f, max_abs(l))) << "step " << i;
    }
    EXPECT_EQ(failures, 1);
  }
}

TEST(SparseEngine, NeedsAPackAndAPredictorThePackCanServe) {
  EngineOptions o = options_for(relu260k(false), EngineMode::sparse);
  try {
    Engine::load(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sparse mode needs a Sieve pack"), std::string::npos) << e.what();
  }
  o = options_for(synth_pack(kF16), EngineMode::sparse);
  o.sparse.target_sparsity = 0.5;  // uncalibrated
  EXPECT_THROW(Engine::load(o), Error);
}

}  // namespace
}  // namespace sieve::sparse
