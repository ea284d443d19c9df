#pragma once
// The knobs of `--mode sparse` (docs/sparsity.md): which predictor picks the
// neurons each token loads, and how many recent tokens' neurons stay in DRAM.
// Part of EngineOptions (engine.h).

#include <cstdint>
#include <optional>

#include "sparse/predictor.h"
#include "tensor/tensor_type.h"

namespace sieve::sparse {

struct SparseOptions {
  PredictorKind predictor = PredictorKind::gate;
  // Gate kind: the type of the resident gate copy. A smaller type (Q8_0,
  // Q4_0) saves DRAM and is used with a safety margin, so neurons near the
  // threshold are loaded rather than missed; the loaded neurons' gates are
  // then computed exactly from their units. Unset: chosen for the budget
  // (choose_gate_copy, sparse_setup.h) — the gate's own type (exact) unless
  // a Q8_0 copy lets the neuron stores hold more neurons.
  std::optional<tensor::TensorType> gate_copy = std::nullopt;
  // `--gate-copy exact`: the gate's own type whatever the budget.
  bool exact_gate = false;
  // Gate kind: the fraction of neurons to skip, by the calibrated quantiles of
  // |act(gate)| (`sieve calibrate`); 0 = skip exactly the zero activations
  // (the oracle, for ReLU-family models). Unset: the fraction `sieve
  // calibrate --fidelity` chose and stored in the pack, else 0
  // (gate_sparsity() resolves it).
  std::optional<double> target_sparsity = std::nullopt;
  // Each layer's store holds the neurons `window` + 1 tokens are expected to
  // touch (LLM in a flash's sliding window; 0 = one token's), budget
  // permitting; when it is full the least used of late give way.
  int window = 4;
  // Pin the neurons calibration found most often active (PowerInfer-2's hot
  // neurons) in part of each layer's store.
  bool pin_hot = true;
  // Read the pack's per-neuron units in decode when it has them (`sieve pack
  // --neuron-units`); false: the bundles' clusters (`--no-neuron-units`).
  bool neuron_units = true;
  // Per-neuron units are read as their used bytes rounded up to the file's
  // direct-I/O alignment (512 B on most disks) into slots of that size, when
  // that is below the unit's whole pages; false: whole units, page padding
  // included (`--whole-unit-reads`). The same bytes are computed either way.
  bool sector_unit_reads = true;
  // Holes up to this many bytes between wanted units are read through
  // (`--merge-gap`); unset: chosen from the disk profile (sparse_plan.h).
  std::optional<uint32_t> merge_gap = {};
};

}  // namespace sieve::sparse
