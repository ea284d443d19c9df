#pragma once
// `sieve calibrate`'s last step: the fidelity figure auto mode quotes when it
// offers sparse mode (engine/auto_mode.h). Sparse mode with the trained
// low-rank predictor — what the app runs when a user picks the "lowrank"
// predictor — is compared with dense (the pack in mmap mode: identical
// output, and it works for models larger than memory), teacher-forced on
// tokens the predictor was not trained on. The figure goes into placeholders
// the calibrated pack was written with (pack_format.h, pred_keys), in place:
// the pack is not copied again.
//
//   const auto tokens = held_out_tokens(ran, recorder.recorded_tokens(), 256);
//   store_sparse_fidelity(pack, measure_sparse_fidelity(pack, tokens, {}));

#include <cstdint>
#include <filesystem>
#include <span>

namespace sieve::sparse {

struct SparseFidelityFigure {
  uint32_t positions = 0;  // next-token predictions compared; 0 = not measured
  double top1 = 0;         // share of them where sparse picks dense mode's top token
  double mean_kl = 0;      // mean KL(dense || sparse), nats
};

// Held out from training: tokens run after the recorder stopped recording
// when at least kMinHeldOut of them exist, else the recorded tokens that
// split_tokens() kept for measuring only (its last 15%, neither trained on
// nor used to set thresholds). At most `limit` tokens.
inline constexpr int64_t kMinHeldOut = 64;
std::span<const int32_t> held_out_tokens(std::span<const int32_t> ran, int64_t recorded, int64_t limit);

struct FidelityMeasureOptions {
  int threads = 0;        // 0 = all cores
  int64_t window = 256;   // tokens per window; each starts from an empty context
  uint64_t dram_budget = 0;  // for the sparse engine; 0 = flash::default_dram_budget()
};

// Loads `pack` in mmap and sparse (low-rank predictor) modes and compares
// their next-token predictions over `tokens`. Throws sieve::Error when the
// pack has no low-rank predictors or fewer than 2 tokens are given.
SparseFidelityFigure measure_sparse_fidelity(const std::filesystem::path& pack, std::span<const int32_t> tokens,
                                             const FidelityMeasureOptions& options);

// Writes `figure` into the pack's placeholders. Throws sieve::Error when the
// pack has none (it was not written by `sieve calibrate`).
void store_sparse_fidelity(const std::filesystem::path& pack, const SparseFidelityFigure& figure);

}  // namespace sieve::sparse
