#pragma once
// `sieve calibrate`'s last step: the fidelity figure auto mode quotes when it
// offers sparse mode (engine/auto_mode.h). Sparse mode — with the trained
// low-rank predictor of a ReLU-family model, or the gate predictor at a
// sparsity for SwiGLU/GeGLU — is compared with dense (the pack in mmap mode:
// identical output, and it works for models larger than memory),
// teacher-forced on tokens the predictor was not trained on, nor had its
// thresholds or quantiles computed from. The figure goes into placeholders
// the calibrated pack was written with (pack_format.h, pred_keys), in place:
// the pack is not copied again.
//
//   const auto tokens = held_out_tokens(ran, recorder.recorded_tokens(), 256);
//   store_sparse_fidelity(pack, measure_sparse_fidelity(pack, tokens, {}));

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "sparse/sparse_options.h"

namespace sieve {
class Engine;
}

namespace sieve::sparse {

struct SparseFidelityFigure {
  uint32_t positions = 0;  // next-token predictions compared; 0 = not measured
  double top1 = 0;         // share of them where sparse picks dense mode's top token
  double mean_kl = 0;      // mean KL(dense || sparse), nats
  // What sparse mode's decode steps cost (not stored): neurons selected per
  // token over all layers, and FFN bytes read per token.
  double neurons_per_token = 0;
  double bytes_per_token = 0;
};

// Held out from training: tokens run after the recorder stopped recording
// when at least kMinHeldOut of them exist, else the recorded tokens that
// split_tokens() kept for measuring only (its last 15%, neither trained on
// nor used to set thresholds). At most `limit` tokens. The gate quantiles
// leave out every token from `begin` on (calibration.h).
inline constexpr int64_t kMinHeldOut = 64;
struct TokenRange {
  int64_t begin = 0, end = 0;
};
TokenRange held_out_range(int64_t ran, int64_t recorded, int64_t limit);
std::span<const int32_t> held_out_tokens(std::span<const int32_t> ran, int64_t recorded, int64_t limit);

struct FidelityMeasureOptions {
  int threads = 0;        // 0 = all cores
  int64_t window = 256;   // tokens per window; each starts from an empty context
  uint64_t dram_budget = 0;  // for the sparse engine; 0 = flash::default_dram_budget()
  // Windows after the first start with this token (the model's BOS), as
  // `sieve fidelity` cuts a text; -1 = none (self-generated tokens carry
  // their own BOS at each window's start).
  int32_t window_start_token = -1;
  // The sparse engine's options; the default measures the low-rank predictor.
  SparseOptions sparse = {.predictor = PredictorKind::lowrank};
};

// Dense mode's output for `pack` (mmap mode: identical, without reading a
// larger-than-memory model in), to compare sparse runs against.
std::unique_ptr<Engine> load_reference(const std::filesystem::path& pack, const FidelityMeasureOptions& options);

// Loads `pack` in sparse mode (options.sparse) and compares its next-token
// predictions over `tokens` with `reference`'s. Throws sieve::Error when the
// predictor cannot run on the pack or fewer than 2 tokens are given.
SparseFidelityFigure measure_sparse_fidelity(Engine& reference, const std::filesystem::path& pack,
                                             std::span<const int32_t> tokens, const FidelityMeasureOptions& options);
// The same, loading the reference itself.
SparseFidelityFigure measure_sparse_fidelity(const std::filesystem::path& pack, std::span<const int32_t> tokens,
                                             const FidelityMeasureOptions& options);

// Writes `figure` into the pack's placeholders. Throws sieve::Error when the
// pack has none (it was not written by `sieve calibrate`).
void store_sparse_fidelity(const std::filesystem::path& pack, const SparseFidelityFigure& figure);

}  // namespace sieve::sparse
