// SparseFeedForward against the exact FFN (flash's BundleFfn, bit-identical
// to dense mode) on synthetic ReLU-sparse packs: with an oracle predictor the
// outputs agree to float rounding whatever the store size (spill included),
// for neurons (F32/F16) and clusters (Q8_0); a full store keeps the neurons
// used most of late; prefill batches stream the layer;
// a failed read raises sieve::Error and the next call is right again.

#include <gtest/gtest.h>

#include <random>

#include "core/sparse/sparse_test_util.h"
#include "flash/bundle_ffn.h"
#include "flash/io/direct_file.h"
#include "sparse/sparse_feed_forward.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

using namespace testing_util;

const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempFolderCleanup);

const SynthModel kF32{"relu-f32", "f32"};
const SynthModel kF16{"relu-f16", "f16"};
const SynthModel kQ8{"relu-q8_0", "q8_0", 128, 2, 512, 0.9};
const SynthModel kWide{"relu-wide", "f32", 256, 2, 4096, 0.9};  // 12 MiB layers: several prefill chunks

// Everything one SparseFeedForward needs, over one pack.
struct Rig {
  Rig(const std::filesystem::path& path, bool offer_gate, int64_t capacity, flash::IoFaults faults = {})
      : pack(flash::PackFile::open(path)),
        hp(pack.hparams()),
        pool(2),
        file(flash::DirectFile::open(path.string())),
        io(flash::make_io_engine(file, {.backend = flash::IoBackend::automatic, .queue_depth = 8, .faults = faults})),
        oracle(pack, offer_gate) {
    std::vector<SparseLayer> layers;
    for (int64_t l = 0; l < pack.n_layers(); ++l) {
      SparseLayer layer;
      layer.layout = pack.layout(l);
      layer.file_offset = pack.bundles_file_offset(l);
      layer.capacity = std::min(capacity, layer.layout.n_clusters);
      layer.hot_capacity = layer.capacity / 4;
      layers.push_back(layer);
      layouts.push_back(layer.layout);
    }
    SparseFfnOptions o;
    o.gate_rows = !offer_gate;
    o.max_batch = 8;
    o.merge_gap = 8192;
    ffn = std::make_unique<SparseFeedForward>(hp, pool, *io, oracle, layers, o);
    exact = std::make_unique<flash::BundleFfn>(hp, pool, 8, layouts);
  }

  // The exact FFN of `layer` for n tokens.
  std::vector<float> expected(int layer, const std::vector<float>& x, int n) {
    std::vector<float> y(static_cast<size_t>(n) * static_cast<size_t>(hp.dim));
    const std::byte* bundles = pack.gguf().tensor_data(pack.bundles(layer)).data();
    exact->forward_bundles(layer, pack.layout(layer), bundles, x.data(), n, y.data());
    return y;
  }
  // The sparse FFN on n tokens at position `pos` of the sequence.
  std::vector<float> sparse(int layer, int64_t pos, const std::vector<float>& x, int n) {
    std::vector<float> y(static_cast<size_t>(n) * static_cast<size_t>(hp.dim), -1.0f);
    if (n == 1) ffn->forward(layer, pos, x.data(), y.data());
    else ffn->forward_batch(layer, pos, x.data(), n, y.data());
    return y;
  }

  flash::PackFile pack;
  model::HyperParams hp;
  ThreadPool pool;
  flash::DirectFile file;
  std::unique_ptr<flash::IoEngine> io;
  OraclePredictor oracle;
  std::vector<flash::BundleLayout> layouts;
  std::unique_ptr<SparseFeedForward> ffn;
  std::unique_ptr<flash::BundleFfn> exact;
};

// Inputs like a normalised hidden state (unit RMS), with a slowly changing
// part so consecutive tokens share some active neurons.
std::vector<float> token_input(int64_t dim, int token, int n = 1) {
  std::mt19937 rng(static_cast<uint32_t>(token * 7919 + 1));
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(dim * n));
  std::vector<float> shared(static_cast<size_t>(dim));
  std::mt19937 base(3);
  for (float& v : shared) v = normal(base);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.7f * shared[i % static_cast<size_t>(dim)] + 0.7f * normal(rng);
  return x;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  const float scale = std::max(1.0f, max_abs(want));
  EXPECT_LE(max_abs_diff(got, want), 2e-5f * scale) << what << " (largest output " << scale << ")";
}

struct Case {
  const SynthModel* model;
  bool offer_gate;
  int64_t capacity;
};

class SparseMatchesExact : public ::testing::TestWithParam<Case> {};

TEST_P(SparseMatchesExact, DecodeAgreesToFloatRounding) {
  const Case c = GetParam();
  Rig rig(synth_pack(*c.model), c.offer_gate, c.capacity);
  uint64_t units_seen = 0;
  for (int token = 0; token < 10; ++token) {
    for (int layer = 0; layer < rig.hp.n_layers; ++layer) {
      const std::vector<float> x = token_input(rig.hp.dim, token * 10 + layer);
      expect_close(rig.sparse(layer, token, x, 1), rig.expected(layer, x, 1),
                   c.model->name + " token " + std::to_string(token) + " layer " + std::to_string(layer));
      EXPECT_NO_THROW(rig.ffn->store(layer).check_invariants());
      EXPECT_LE(rig.ffn->store(layer).size(), rig.ffn->store(layer).capacity());
    }
  }
  const SparseStats s = rig.ffn->stats();
  EXPECT_EQ(s.tokens, 10);
  EXPECT_GT(s.neurons_predicted, 0u);
  units_seen = s.neurons_loaded + s.neuron_hits;
  EXPECT_GE(units_seen, s.neurons_predicted);  // clusters count all their neurons
  EXPECT_GT(s.bytes_read, 0u);
  EXPECT_GE(s.bytes_read, s.bytes_wanted);
  // Neurons predicted are a small part of the layer, as the model's sparsity says.
  const double per_layer = static_cast<double>(s.neurons_predicted) / (10.0 * static_cast<double>(rig.hp.n_layers));
  EXPECT_LT(per_layer, 0.5 * static_cast<double>(rig.hp.n_ff));
}

INSTANTIATE_TEST_SUITE_P(
    Stores, SparseMatchesExact,
    ::testing::Values(Case{&kF32, true, 1 << 20},  // everything fits
                      Case{&kF32, false, 1 << 20},
                      Case{&kF32, true, 120},      // full: the least used give way
                      Case{&kF32, true, 10},       // most units spill
                      Case{&kF16, true, 200}, Case{&kF16, false, 200},
                      Case{&kQ8, false, 1 << 20},  // clusters of 32 neurons with their gate rows
                      Case{&kQ8, false, 4}),
    [](const auto& info) {
      const Case& c = info.param;
      std::string name = c.model->name + (c.offer_gate ? "_gate_given" : "_gate_rows") + "_cap" +
                         std::to_string(c.capacity);
      for (char& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return name;
    });

TEST(SparseFeedForward, PrefillBatchesStreamTheLayerExactly) {
  for (const SynthModel* m : {&kF32, &kQ8, &kWide}) {
    Rig rig(synth_pack(*m), true, 1 << 20);
    for (int n : {2, 5, 8}) {
      for (int layer = 0; layer < rig.hp.n_layers; ++layer) {
        const std::vector<float> x = token_input(rig.hp.dim, n * 3 + layer, n);
        expect_close(rig.sparse(layer, n, x, n), rig.expected(layer, x, n), m->name + " batch " + std::to_string(n));
      }
    }
    uint64_t ffn_bytes = 0;
    for (int64_t l = 0; l < rig.pack.n_layers(); ++l) ffn_bytes += rig.pack.layout(l).layer_bytes();
    EXPECT_GE(rig.ffn->stats().prefill_bytes_read, 3 * ffn_bytes) << m->name;  // each batch reads every layer
    EXPECT_EQ(rig.ffn->stats().tokens, 0);
  }
}

// A full store gives up the neuron used least often of late, the least
// recently used first among equals — not merely the oldest: neuron 5, used
// by three tokens, outlives 9 and 7, used once each since. While there is
// room nothing is given up, however long unused.
TEST(SparseFeedForward, AFullStoreKeepsTheNeuronsUsedMostOfLate) {
  Rig rig(synth_pack(kF32), false, 64);
  ScriptedPredictor script(std::vector<std::vector<int32_t>>{{5}});
  for (int64_t capacity : {2, 64}) {
    SCOPED_TRACE("capacity " + std::to_string(capacity));
    std::vector<SparseLayer> layers;
    for (int64_t l = 0; l < rig.pack.n_layers(); ++l) {
      layers.push_back({rig.pack.layout(l), rig.pack.bundles_file_offset(l), capacity, 0, {}});
    }
    SparseFfnOptions o;
    o.pin_hot = false;
    SparseFeedForward ffn(rig.hp, rig.pool, *rig.io, script, layers, o);
    std::vector<float> x = token_input(rig.hp.dim, 1), y(static_cast<size_t>(rig.hp.dim));
    int64_t pos = 0;
    const auto layers_n = static_cast<uint64_t>(rig.hp.n_layers);
    // Loads and hits of one token (per layer).
    auto run_token = [&](std::vector<int32_t> neurons) {
      script.set(std::vector<std::vector<int32_t>>{neurons});
      const SparseStats before = ffn.stats();
      for (int layer = 0; layer < rig.hp.n_layers; ++layer) ffn.forward(layer, pos, x.data(), y.data());
      ++pos;
      const SparseStats after = ffn.stats();
      return std::pair{(after.neurons_loaded - before.neurons_loaded) / layers_n, (after.neuron_hits - before.neuron_hits) / layers_n};
    };
    using Counts = std::pair<uint64_t, uint64_t>;
    EXPECT_EQ(run_token({5}), (Counts{1, 0}));
    EXPECT_EQ(run_token({5}), (Counts{0, 1}));
    EXPECT_EQ(run_token({5}), (Counts{0, 1}));
    EXPECT_EQ(run_token({9}), (Counts{1, 0}));
    EXPECT_EQ(run_token({7}), (Counts{1, 0}));  // full at capacity 2: 9 gives way, not 5
    EXPECT_EQ(run_token({5}), (Counts{0, 1}));
    EXPECT_EQ(run_token({9}), (capacity == 2 ? Counts{1, 0} : Counts{0, 1}));
    const NeuronStore& store = ffn.store(0);
    EXPECT_TRUE(store.contains(5));
    EXPECT_EQ(store.contains(7), capacity > 2);  // 7 (once, before 5's last use) gave way to 9
    EXPECT_EQ(store.size(), capacity == 2 ? 2 : 3);
  }
}

// The reads of a range's missing neurons are submitted before the next range
// is predicted, so they land while the rest of the layer's gate is computed;
// the output is the exact FFN's all the same.
TEST(SparseFeedForward, ReadsStartBeforeTheWholeLayerIsPredicted) {
  Rig rig(synth_pack(kF32), true, 40);  // fewer slots than a token's neurons: every token reads
  std::vector<uint64_t> issued_at_range;  // reads issued when each range of layer 0 began
  rig.oracle.on_rows = [&](int layer, int64_t) {
    if (layer == 0) issued_at_range.push_back(rig.io->stats().reads_issued);
  };
  for (int token = 0; token < 3; ++token) {
    issued_at_range.clear();
    const std::vector<float> x = token_input(rig.hp.dim, token);
    expect_close(rig.sparse(0, token, x, 1), rig.expected(0, x, 1), "token " + std::to_string(token));
    ASSERT_EQ(issued_at_range.size(), 4u);  // predict_chunks
    EXPECT_GT(issued_at_range.back(), issued_at_range.front()) << "token " << token << ": no read before the last range";
  }
}

// A prompt batch fills the stores as it streams by: with room for all, the
// next token with the last prompt token's input finds every neuron in DRAM;
// with room for 10, the store holds 10 of the neurons the prompt used most.
TEST(SparseFeedForward, APromptFillsTheStoresWithItsMostUsedNeurons) {
  constexpr int kPrompt = 8;
  for (int64_t capacity : {int64_t{1} << 20, int64_t{10}}) {
    SCOPED_TRACE("capacity " + std::to_string(capacity));
    Rig rig(synth_pack(kF32), true, capacity);
    const std::vector<float> prompt = token_input(rig.hp.dim, 5, kPrompt);
    expect_close(rig.sparse(0, 0, prompt, kPrompt), rig.expected(0, prompt, kPrompt), "prompt");
    EXPECT_EQ(rig.ffn->stats().neurons_loaded, 0u);  // prefill reads bundles, not units
    std::vector<int> used(static_cast<size_t>(rig.hp.n_ff), 0);
    std::vector<int32_t> active;
    for (int t = 0; t < kPrompt; ++t) {
      rig.oracle.predict(0, prompt.data() + static_cast<size_t>(t) * static_cast<size_t>(rig.hp.dim), active);
      for (int32_t i : active) ++used[static_cast<size_t>(i)];
    }
    const NeuronStore& store = rig.ffn->store(0);
    if (capacity > rig.hp.n_ff) {
      const std::vector<float> last(prompt.end() - rig.hp.dim, prompt.end());
      expect_close(rig.sparse(0, kPrompt, last, 1), rig.expected(0, last, 1), "the last prompt token again");
      EXPECT_EQ(rig.ffn->stats().neurons_loaded, 0u);
      EXPECT_GT(rig.ffn->stats().neuron_hits, 0u);
    } else {
      ASSERT_EQ(store.size(), capacity);
      int least_held = kPrompt, most_left = 0;
      for (int32_t u = 0; u < rig.hp.n_ff; ++u) {
        if (store.contains(u)) least_held = std::min(least_held, used[static_cast<size_t>(u)]);
        else most_left = std::max(most_left, used[static_cast<size_t>(u)]);
      }
      EXPECT_GE(least_held, most_left);
    }
  }
}

TEST(SparseFeedForward, HotUnitsArePinnedAndNeverLeave) {
  Rig rig(synth_pack(kF32), false, 64);
  std::vector<SparseLayer> layers;
  for (int64_t l = 0; l < rig.pack.n_layers(); ++l) {
    SparseLayer layer{rig.pack.layout(l), rig.pack.bundles_file_offset(l), 3, 4, {}};
    layer.frequency.assign(static_cast<size_t>(rig.hp.n_ff), 0.01f);
    layer.frequency[3] = 0.9f;  // hot
    layer.frequency[4] = 0.5f;  // hot
    layers.push_back(std::move(layer));
  }
  ScriptedPredictor script(std::vector<std::vector<int32_t>>{{3, 4, 20}, {30}, {31}, {3, 32}});
  SparseFfnOptions o;
  SparseFeedForward ffn(rig.hp, rig.pool, *rig.io, script, layers, o);
  std::vector<float> x = token_input(rig.hp.dim, 2), y(static_cast<size_t>(rig.hp.dim));
  for (int t = 0; t < 4; ++t) ffn.forward(0, t, x.data(), y.data());
  const NeuronStore& store = ffn.store(0);
  EXPECT_EQ(store.pinned(), 2);
  EXPECT_TRUE(store.contains(3));
  EXPECT_TRUE(store.contains(4));  // unused for three tokens in a full store: kept because pinned
  EXPECT_FALSE(store.contains(20));
  EXPECT_FALSE(store.contains(31));
  EXPECT_EQ(ffn.stats().neurons_loaded, 6u);  // 3, 4, 20, 30, 31, 32: 3 was a hit the last time
}

TEST(SparseFeedForward, AFailedReadIsAnErrorAndTheNextCallIsRight) {
  for (flash::IoFaultKind kind : {flash::IoFaultKind::io_error, flash::IoFaultKind::end_of_file}) {
    flash::IoFaults faults;
    faults.faults = {flash::IoFault{3, kind, 0}};
    Rig rig(synth_pack(kF32), true, 1 << 20, faults);
    int failures = 0;
    for (int token = 0; token < 6; ++token) {
      for (int layer = 0; layer < rig.hp.n_layers; ++layer) {
        const std::vector<float> x = token_input(rig.hp.dim, token * 10 + layer);
        std::vector<float> got;
        try {
          got = rig.sparse(layer, token, x, 1);
        } catch (const Error& e) {
          ++failures;
          const std::string m = e.what();
          EXPECT_NE(m.find("relu-f32.sieve"), std::string::npos) << m;
          EXPECT_NE(m.find("(injected fault)"), std::string::npos) << m;
          EXPECT_NO_THROW(rig.ffn->store(layer).check_invariants());
          got = rig.sparse(layer, token, x, 1);  // again: the units that failed are read anew
        }
        expect_close(got, rig.expected(layer, x, 1), "after a fault, token " + std::to_string(token));
      }
    }
    EXPECT_EQ(failures, 1);
  }
}

}  // namespace
}  // namespace sieve::sparse
