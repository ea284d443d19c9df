#pragma once
// Builds the predictor `--mode sparse` asked for from what a pack carries
// (docs/sparsity.md), and tells the planner what it will cost before loading.
//
//   auto io = flash::make_io_engine(direct_file);
//   auto predictor = sparse::make_predictor(pack, pack.hparams(), options.sparse, pool, *io);
//   predictor->predict(layer, x, active);
//
// What each kind needs from the pack:
//   gate        nothing extra: each layer's gate rows are read once out of
//               its bundles (`blk.L.ffn_bundles`) with direct I/O and kept in
//               DRAM, in their own type or converted to options.gate_copy.
//               target_sparsity > 0 also needs `sieve.pred.gate_quantiles`
//               (`sieve calibrate`).
//   lowrank     `blk.L.ffn_pred_a` / `blk.L.ffn_pred_b` for every layer and
//               `sieve.pred.ranks` / `sieve.pred.thresholds` (`sieve pack`
//               adds SVD ones for ReLU-family models; `sieve calibrate`
//               trains them).
//   powerinfer  PowerInfer-style tensors `blk.L.fc1.weight` / `blk.L.fc2.weight`
//               (score = fc2 relu(fc1 x), active when score > 0).
// When something is missing, make_predictor throws sieve::Error with one
// sentence naming the pack and what to run, e.g.
//   "m.sieve: the lowrank predictor needs predictor tensors, which this pack
//    lacks; run `sieve calibrate m.sieve --text FILE` or re-pack."

#include <cstdint>
#include <memory>
#include <vector>

#include "model/hparams.h"
#include "sparse/predictor.h"
#include "sparse/sparse_options.h"
#include "util/thread_pool.h"

namespace sieve::flash {
class PackFile;
class IoEngine;
}  // namespace sieve::flash

namespace sieve::sparse {

// `io` must be an engine over the pack's file (used only while building: the
// gate rows / predictor tensors are read with it, then it is free again).
// `pool` is kept by the predictor for predict(); both pack and pool must
// outlive it. Throws sieve::Error (one sentence) when the pack lacks what
// options.predictor needs, or for PredictorKind::none.
std::unique_ptr<Predictor> make_predictor(const flash::PackFile& pack, const model::HyperParams& hp,
                                          const SparseOptions& options, ThreadPool& pool, flash::IoEngine& io);

// The DRAM each layer's predictor will keep (n_layers entries), computed from
// the pack's metadata and tensor table without reading any data; the same
// figures resident_bytes() reports once built (scratch included in layer 0's
// entry). Throws like make_predictor when the pack lacks what the kind needs.
std::vector<uint64_t> predictor_layer_bytes(const flash::PackFile& pack, const model::HyperParams& hp,
                                            const SparseOptions& options);

// Calibrated activation frequency of each neuron of `layer` (n_ff floats in
// [0, 1]: the fraction of calibration tokens for which act(gate) != 0), for
// pinning hot neurons; empty when the pack was not calibrated. Stored as the
// metadata key `sieve.pred.hot` (f32, n_layers x n_ff, layer-major).
std::vector<float> neuron_frequencies(const flash::PackFile& pack, int layer);

}  // namespace sieve::sparse
