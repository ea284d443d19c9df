#pragma once
// What `--mode sparse` needs from a pack, put together for the pack backend
// (engine/pack_backend.cpp): the planner's inputs (unit sizes, the expected
// active fraction, hot units, predictor bytes, the merge gap) and the
// SparseFeedForward built by the plan.
//
// The expected fraction of active neurons per token, per layer, comes from
// the first of:
//   1. the gate predictor's target sparsity (1 - target)
//   2. calibration: the mean of the layer's neuron frequencies (sieve.pred.hot)
//   3. a synthetic model's recorded target (sieve.synth.target_sparsity)
//   4. a default: 25% for ReLU-family models; every neuron for SwiGLU with
//      the exact gate predictor (nothing is skipped without a target)

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash/io/io_engine.h"
#include "flash/pack_file.h"
#include "flash/planner.h"
#include "sparse/predictor.h"
#include "sparse/sparse_feed_forward.h"
#include "sparse/sparse_options.h"
#include "sparse/sparse_plan.h"

namespace sieve::sparse {

struct SparsePackRequest {
  SparseOptions options;
  uint64_t budget = UINT64_MAX;          // UINT64_MAX: none
  std::vector<flash::MemoryItem> fixed;  // resident weights, KV cache, run state (this adds its own parts)
  int threads = 1;
  int max_batch = 64;
  uint32_t queue_depth = 32;
  std::string disk_profile;              // a probe-disk JSON file, or empty
  // The pack file's direct-I/O alignment (DirectFile::required_alignment):
  // per-neuron units are read to it (SparseLayer::unit_read_alignment) when
  // options.sector_unit_reads; 0: whole units.
  uint32_t io_alignment = 0;
};

// Whether units carry their gate rows: unless the predictor hands over the
// exact gate (gate kind whose copy is every layer's own gate type).
bool units_carry_gate_rows(const flash::PackFile& pack, const SparseOptions& options);

// Throws sieve::Error (naming the pack) below the minimum, or when the pack
// lacks what the predictor needs.
SparsePlan plan_sparse_pack(const flash::PackFile& pack, const SparsePackRequest& request);

// request.options with the gate copy settled. Given (`--gate-copy TYPE` or
// `exact`), or a predictor other than the gate: unchanged. Otherwise a float
// gate (wider than Q8_0) under a budget its stores cannot fill the window in
// becomes a Q8_0 copy when that plan is feasible and its stores hold more
// neurons (the copy frees half the gate's DRAM; each unit then carries its
// gate row) — or when only that plan is feasible, or neither is (its refusal
// then names the smaller minimum). Else the exact gate.
SparseOptions choose_gate_copy(const flash::PackFile& pack, const SparsePackRequest& request);

// The FFN laid out by `plan`. The pack, pool, io and predictor must outlive it.
std::unique_ptr<SparseFeedForward> build_sparse_ffn(const flash::PackFile& pack, const SparsePlan& plan,
                                                    const SparsePackRequest& request, ThreadPool& pool,
                                                    flash::IoEngine& io, Predictor& predictor, uint32_t max_read);

}  // namespace sieve::sparse
