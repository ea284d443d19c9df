// Decoding with SparseFeedForward allocates nothing once warm: the same
// cycle of inputs repeated after two warm-up cycles. With room for every unit
// the measured cycles find every unit in DRAM (predict, age, classify,
// compute, pin); with a store too small for a token's units they read every
// token, through the store and the spill buffer — the
// flash I/O layer included (read planning and the engine's queues are sized
// at construction, error text is built only for a bad request). The whole
// engine in every mode: tests/core/engine/decode_alloc_test.cpp.

#include <gtest/gtest.h>

#include <random>

#include "core/alloc_counter.h"
#include "core/sparse/sparse_test_util.h"
#include "flash/io/direct_file.h"
#include "sparse/sparse_feed_forward.h"

namespace sieve::sparse {
namespace {

using namespace testing_util;

const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempFolderCleanup);

// Neurons (F16 bundles) and per-neuron units of a quantized pack (Q4_K rows,
// Q8_0 down columns).
class SparseFeedForwardAllocation : public ::testing::TestWithParam<SynthModel> {};

TEST_P(SparseFeedForwardAllocation, DecodeAllocatesNothingOnceWarm) {
  const auto path = synth_pack(GetParam());
  const flash::PackFile pack = flash::PackFile::open(path);
  const model::HyperParams hp = pack.hparams();
  ThreadPool pool(2);
  const flash::DirectFile file = flash::DirectFile::open(path.string());
  const auto io = flash::make_io_engine(file, {.backend = flash::IoBackend::automatic, .queue_depth = 8, .faults = {}});
  struct Case {
    bool reads;  // in the measured cycles
  };
  for (const Case c : {Case{false}, Case{true}}) {
    for (bool gate_given : {false, true}) {
      SCOPED_TRACE(std::string(gate_given ? "gate given, " : "gate rows, ") + (c.reads ? "reading" : "all in DRAM"));
      OraclePredictor oracle(pack, gate_given);
      std::vector<SparseLayer> layers;
      for (int64_t l = 0; l < pack.n_layers(); ++l) {
        layers.push_back({pack.layout(l), pack.bundles_file_offset(l), pack.layout(l).n_ff, 20, {}});
        if (pack.has_neuron_units()) {
          layers.back().neuron_units = pack.neuron_unit_layout(l);
          layers.back().units_file_offset = pack.neuron_units_file_offset(l);
        }
        if (c.reads) layers.back().capacity = 2;  // fewer than a token's units: some spill
      }
      SparseFfnOptions o;
      o.gate_rows = !gate_given;
      o.merge_gap = 8192;
      SparseFeedForward ffn(hp, pool, *io, oracle, layers, o);
      std::vector<std::vector<float>> inputs;
      std::mt19937 rng(5);
      std::normal_distribution<float> normal;
      for (int t = 0; t < 6; ++t) {
        inputs.emplace_back(static_cast<size_t>(hp.dim));
        for (float& v : inputs.back()) v = normal(rng);
      }
      std::vector<float> y(static_cast<size_t>(hp.dim));
      int64_t pos = 0;
      auto cycle = [&] {
        for (const std::vector<float>& x : inputs) {
          for (int layer = 0; layer < hp.n_layers; ++layer) ffn.forward(layer, pos, x.data(), y.data());
          ++pos;
        }
      };
      cycle();
      cycle();
      const SparseStats warm = ffn.stats();
      uint64_t allocated = 0;
      {
        const sieve::testing_util::AllocationWindow counting;
        cycle();
        cycle();
        allocated = counting.count();
      }
      EXPECT_EQ(allocated, 0u);
      const SparseStats s = ffn.stats();
      if (c.reads) {
        EXPECT_GT(s.bytes_read, warm.bytes_read);
        EXPECT_GT(s.neurons_spilled, warm.neurons_spilled);
      } else {
        EXPECT_GT(s.neurons_loaded, 0u);
        EXPECT_EQ(s.bytes_read, warm.bytes_read);  // the measured cycles read nothing
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Units, SparseFeedForwardAllocation,
                         ::testing::Values(SynthModel{"alloc-relu-f16", "f16", 128, 2, 512, 0.8},
                                           SynthModel{"alloc-relu-q4_k", "q4_k", 256, 2, 512, 0.8, tensor::TensorType::Q8_0}),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           for (char& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return name;
                         });

}  // namespace
}  // namespace sieve::sparse
