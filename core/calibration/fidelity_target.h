#pragma once
// `sieve calibrate --fidelity T` (docs/sparsity.md): sparse mode calibrated
// to a fidelity target rather than a raw knob. A knob trades reads for
// fidelity; the search measures sparse mode against dense, teacher-forced on
// the held-out tokens (calibrated_fidelity.h), at a few settings of it and
// keeps the cheapest setting whose top-1 agreement is >= T:
//
//   SwiGLU / GeGLU, gate predictor   the fraction of neurons skipped, in whole
//                                    percents 0..kMaxSearchedSparsity: the
//                                    largest that meets T
//   ReLU family, trained low-rank    the recall target the thresholds are set
//                                    for (--recall .. 1): the lowest that meets T
//
// Agreement is assumed to fall as the knob saves more (the stories260K table
// in docs/sparsity.md), so the search bisects; whatever it assumes, the
// setting it keeps is one it measured to meet T. When even the most faithful
// setting falls short, that one is kept and the result says the target was
// not met.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "calibration/calibrated_fidelity.h"

namespace sieve::sparse {

// The largest fraction of neurons the gate search tries to skip.
inline constexpr int kMaxSearchedSparsityPercent = 95;

struct FidelityStep {
  double knob = 0;  // the sparsity or recall target measured
  SparseFidelityFigure figure;
};

struct FidelityChoice {
  double knob = 0;                  // the setting kept
  SparseFidelityFigure figure;      // measured at it
  bool met = false;                 // figure.top1 >= the target
  std::vector<FidelityStep> steps;  // every measurement, in the order made
};

using StepReport = std::function<void(const FidelityStep&)>;

// The search itself: `knobs` ordered from the most faithful to the most
// saving, measure(i) measures knobs[i]. Index 0 first (if it falls short,
// nothing will: it is kept, not met), then the last, then bisection between
// the last index that met the target and the first that did not; so the
// setting kept met it and the next one (when measured) did not.
FidelityChoice search_knob(const std::vector<double>& knobs, double target,
                           const std::function<SparseFidelityFigure(size_t)>& measure, const StepReport& report = {});

// Gate predictor: the largest sparsity whose top-1 agreement is >= target.
// A target of 1 means dense mode's choice everywhere, which only skipping
// nothing promises: sparsity 0, measured. The pack needs the gate quantiles.
FidelityChoice choose_gate_sparsity(const std::filesystem::path& pack, std::span<const int32_t> tokens, double target,
                                    const FidelityMeasureOptions& options, const StepReport& report = {});

// Trained low-rank predictors: `recalls` ascending, thresholds[i] the
// per-layer thresholds set for recalls[i]. Each is written into the pack's
// sieve.pred.thresholds in place and measured; the lowest recall that meets
// the target (else the highest) is left in the pack.
FidelityChoice choose_recall(const std::filesystem::path& pack, std::span<const int32_t> tokens, double target,
                             std::span<const double> recalls, const std::vector<std::vector<float>>& thresholds,
                             const FidelityMeasureOptions& options, const StepReport& report = {});

// Into the placeholders `sieve calibrate` wrote (pack_format.h, pred_keys):
// the gate's chosen sparsity and figure, or the chosen recall and sparse
// mode's figure with it; both with the target.
void store_gate_choice(const std::filesystem::path& pack, double target, const FidelityChoice& choice);
void store_recall_choice(const std::filesystem::path& pack, double target, const FidelityChoice& choice);

// The recall targets the low-rank search tries: `from` (the --recall given),
// then the standard steps above it up to 1.
std::vector<double> recall_ladder(double from);

}  // namespace sieve::sparse
