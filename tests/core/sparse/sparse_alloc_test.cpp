// Decoding with SparseFeedForward allocates nothing once warm: the same
// cycle of inputs repeated after two warm-up cycles, with a window as long as
// the cycle (predict, expire, classify, compute, pin: everything but reads).
//
// Reads are left out: ReadPlanner::validate and QueuedEngine::validate (the
// flash I/O layer) build their error text for every request before checking
// it, two or more heap allocations per read; the sparse FFN's own read path
// (slot assignment, rounds, spill) allocates nothing once its vectors have
// grown (they are reserved for the largest layer at construction).

#include <gtest/gtest.h>

#include <random>

#include "core/sparse/alloc_counter.h"
#include "core/sparse/sparse_test_util.h"
#include "flash/io/direct_file.h"
#include "sparse/sparse_feed_forward.h"

namespace sieve::sparse {
namespace {

using namespace testing_util;

const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempFolderCleanup);

TEST(SparseFeedForwardAllocation, DecodeAllocatesNothingOnceWarm) {
  const auto path = synth_pack({"alloc-relu-f16", "f16", 128, 2, 512, 0.8});
  const flash::PackFile pack = flash::PackFile::open(path);
  const model::HyperParams hp = pack.hparams();
  ThreadPool pool(2);
  const flash::DirectFile file = flash::DirectFile::open(path.string());
  const auto io = flash::make_io_engine(file, {.backend = flash::IoBackend::automatic, .queue_depth = 8, .faults = {}});
  for (bool gate_given : {false, true}) {
    OraclePredictor oracle(pack, gate_given);
    std::vector<SparseLayer> layers;
    for (int64_t l = 0; l < pack.n_layers(); ++l) {
      layers.push_back({pack.layout(l), pack.bundles_file_offset(l), pack.layout(l).n_clusters, 20, {}});
    }
    SparseFfnOptions o;
    o.window = 6;
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
    const uint64_t before = allocations();
    cycle();
    cycle();
    EXPECT_EQ(allocations(), before) << (gate_given ? "gate given" : "gate rows");
    const SparseStats s = ffn.stats();
    EXPECT_GT(s.neurons_loaded, 0u);
    EXPECT_GT(s.neuron_hits, s.neurons_loaded);  // the measured cycles read nothing
  }
}

}  // namespace
}  // namespace sieve::sparse
