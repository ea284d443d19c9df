#pragma once
// The DRAM budget of `--mode sparse` (docs/sparsity.md), split like flash
// mode's (flash/planner.h) but with neuron stores instead of whole layers:
//
//   fixed        resident weights, KV cache, activations and scratch, I/O
//                staging — as flash mode counts them (staging here: the
//                prefill chunks, two rounds of unit reads, the spill buffer)
//   predictor    what the predictor keeps in DRAM (predictor_factory.h)
//   stores       per layer: slots for the units the sliding window wants
//                (window_units), plus the calibrated hot units pinned on top
//
// The window wants, per layer, the units that k + 1 tokens are expected to
// touch when tokens activate a fraction a of the neurons independently:
// n (1 - (1 - a_u)^(k+1)) with a_u = 1 - (1 - a)^B for clusters of B
// neurons, plus three standard deviations of headroom. When the budget
// cannot hold that, every layer's store shrinks in proportion towards the
// minimum: one token's expected units (n a_u). Below the minimum loading
// stops with an error naming the minimum and its parts.

#include <cstdint>
#include <string>
#include <vector>

#include "flash/io/disk_profile.h"
#include "flash/planner.h"

namespace sieve::sparse {

struct SparseLayerNeeds {
  int64_t n_units = 0;           // neurons, or clusters of `cluster` neurons
  int64_t cluster = 1;
  size_t unit_bytes = 0;         // stored per unit
  bool per_neuron_units = false; // the pack's per-neuron units (requantized down columns)
  double active_fraction = 0.1;  // of neurons, per token
  int64_t hot_units = -1;        // calibrated hot units (pinned beside the window); -1: learned at run time
};

struct SparsePlanInputs {
  uint64_t budget = UINT64_MAX;  // UINT64_MAX: no budget
  std::vector<flash::MemoryItem> fixed;
  uint64_t predictor_bytes = 0;
  std::string predictor_text;    // "gate, exact F16 copy"
  std::vector<SparseLayerNeeds> layers;
  int window = 4;
  bool pin_hot = true;
  std::string active_source;     // where the active fraction comes from
  bool gate_rows = true;         // units carry their gate rows
  uint32_t merge_gap = 0;
  std::string merge_source;      // "default", "probe-disk profile FILE"
};

struct SparseLayerPlan {
  int64_t wanted = 0;        // units the window (and hot units) would like
  int64_t minimum = 0;       // one token's expected units
  int64_t capacity = 0;      // slots allocated
  int64_t hot_capacity = 0;  // of which at most this many pinned
  uint64_t bytes = 0;        // NeuronStore::bytes_for(capacity)
};

struct SparsePlan {
  uint64_t budget = UINT64_MAX;
  std::vector<flash::MemoryItem> fixed;
  uint64_t fixed_bytes = 0;
  uint64_t predictor_bytes = 0;
  std::vector<SparseLayerPlan> layers;
  uint64_t store_bytes = 0;
  uint64_t minimum = 0;
  bool shrunk = false;  // the budget could not hold what the window wants
  SparsePlanInputs inputs;

  uint64_t total() const { return fixed_bytes + predictor_bytes + store_bytes; }
  // The split, one item per line, for `sieve run -v` and `sieve bench`.
  std::string describe() const;
};

// Units one layer's window of `window` tokens is expected to need (hot units included).
int64_t window_units(const SparseLayerNeeds& layer, int window);
// One token's expected units: the least a store should hold.
int64_t minimum_units(const SparseLayerNeeds& layer);

// FFN bytes one token is expected to read: per layer, the units it needs
// (n a_u) that the last k tokens did not bring in ((1 - a_u)^k), k being the
// window, or less when the budget shrank the store. An upper estimate: the
// stores keep the units used most of late, and skewed activation
// frequencies make them hold more of a token's units than k tokens' worth. 0 when the active
// fraction is only a default guess (nothing to estimate from).
double expected_read_bytes_per_token(const SparsePlan& plan);

// Throws sieve::Error (prefixed with `where`) below the minimum.
SparsePlan plan_sparse_memory(const SparsePlanInputs& inputs, const std::string& where);

// The hole worth reading through between two wanted units, by the disk's
// measured curve at (the measured depth nearest) this queue depth, fitted as
// a fixed cost per read plus bytes at a bandwidth — least squares over the
// chunks up to 256 KiB (or the two smallest measured, if fewer are), so one
// noisy point moves it little and the slower large reads of some disks do not
// hide the fixed cost. Reading a hole of G
// bytes costs G / bandwidth, a second read the fixed cost: G = fixed cost x
// bandwidth, rounded down to 4 KiB, at most 256 KiB. Without a profile (or a
// curve with no fixed cost): 0, read only what is wanted.
uint32_t choose_merge_gap(const flash::DiskProfile* profile, uint32_t queue_depth);

}  // namespace sieve::sparse
