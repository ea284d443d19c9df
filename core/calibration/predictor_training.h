#pragma once
// Making low-rank predictors (docs/sparsity.md):
//
// * SVD (training-free, `sieve pack`, ReLU-family models): the gate rows G
//   (n_ff x dim) approximated as B A by randomized SVD (svd.h), so
//   B (A x) ~= the gate pre-activation. A neuron is predicted active when its
//   approximate gate passes the activation's threshold (0 for ReLU, the
//   FatReLU threshold, the shift of shifted ReLU) less a safety margin of
//   kSvdMarginSigmas x the residual's estimated spread for this token,
//   |x| x RMS_i |G_i - B_i A| / sqrt(dim) (stored as sieve.pred.margins).
// * Trained (`sieve calibrate`): started from the SVD factors, then gradient
//   descent (Adam, full batch) on a logistic loss of (score - t) / tau with
//   the positive and negative terms weighted 1/2p and 1/2(1-p), so misses and
//   false alarms weigh the same in total. Each layer's rank is the smallest of
//   4, 8, 16, ... (up to the memory cap) that no larger rank tried beats by
//   10% in predicted fraction (trying stops after two doublings without such a
//   gain); the threshold is set on
//   held-out tokens for the recall target, and the figures reported on
//   further held-out tokens.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "calibration/calibration.h"
#include "sparse/predictor.h"
#include "sparse/predictor_set.h"
#include "util/thread_pool.h"

namespace sieve::sparse {

inline constexpr double kSvdMarginSigmas = 3.0;
inline constexpr double kSvdAutoEnergy = 0.9;   // auto rank: capture this much of ||G||^2 ...
inline constexpr double kSvdMinEnergy = 0.5;    // ... and give up when the cap captures less than this
inline constexpr int64_t kSvdProbeRank = 64;     // the cheap first look at the spectrum

struct RankChoice {
  int64_t fixed = 0;             // > 0: this rank for every layer; 0: automatic
  uint64_t max_layer_bytes = 0;  // cap per layer (0: 10% of the layer's FFN bytes; half the width for tiny models)
};

// The largest rank the cap allows for this model.
int64_t max_rank(const model::HyperParams& hp, uint64_t layer_ffn_bytes, const RankChoice& choice);

// Whether the activation makes exact zeros (ReLU, FatReLU, shifted ReLU).
bool is_relu_family(const model::HyperParams& hp);
// The gate value above which act(gate) != 0 (ReLU family).
float activation_threshold(const model::HyperParams& hp);

// Layer `layer`'s gate rows as floats (n_ff x dim), from a plain GGUF
// (blk.L.ffn_gate.weight) or a pack (out of the bundles), through the mapping.
std::vector<float> gate_rows(const gguf::GgufFile& file, const model::HyperParams& hp, int64_t layer);

struct SvdReport {
  std::vector<int64_t> ranks;
  std::vector<double> captured;  // fraction of ||G||^2 per layer
  bool skipped = false;          // the spectrum is too flat for a useful predictor
  std::string note;
};

// SVD predictors for every layer of a ReLU-family model (file: source GGUF or
// pack). With an automatic rank, returns a set with no layers (and
// report.skipped) when the cap captures under kSvdMinEnergy of a layer.
// progress(layer) after each layer.
PredictorSet build_svd_predictors(const gguf::GgufFile& file, const model::HyperParams& hp, const RankChoice& choice,
                                  ThreadPool& pool, SvdReport& report,
                                  const std::function<void(int64_t)>& progress = {});

struct Metrics {
  double recall = 0;              // of the neurons that fired, the fraction predicted
  double precision = 0;           // of the predicted, the fraction that fired
  double predicted_fraction = 0;  // predicted / (tokens x n_ff)
  double true_fraction = 0;       // fired / (tokens x n_ff)
  uint64_t tokens = 0;
};

struct LayerResult {
  LowRankLayer predictor;
  Metrics held_out;  // on the evaluation tokens
  // The SVD start of the chosen rank, its threshold set the same way: what
  // training added.
  Metrics svd_held_out;
  uint64_t bytes = 0;
};

struct TrainingOptions {
  RankChoice rank;
  double recall = 0.95;  // target on held-out tokens
  int steps = 150;
  double learning_rate = 0.01;  // relative to each matrix's initial RMS
  uint64_t seed = 11;
};

// Token ranges of the recorded tokens: train on the first 70%, set the
// threshold on the next 15%, report on the last 15%.
struct Split {
  int64_t train_end = 0, threshold_end = 0, total = 0;
};
Split split_tokens(int64_t n_tokens);

// Trains layer `layer` from the recorder's tokens.
LayerResult train_layer(const ActivationRecorder& recorded, const std::vector<float>& gate, int64_t layer,
                        const TrainingOptions& options, ThreadPool& pool);

// Scores B (A x) for tokens [t0, t1) of a layer's record: n_ff x (t1 - t0).
std::vector<float> layer_scores(const LowRankLayer& p, const ActivationRecorder& recorded, int64_t layer, int64_t t0,
                                int64_t t1, ThreadPool& pool);
// Fired pairs set the threshold, and other tokens are measured against it: a
// threshold that meets `recall` exactly on the pairs it was set on meets it on
// new tokens only half of the time. So it is set for the target raised by
// kRecallMarginSigmas binomial standard errors of the pairs at hand
// (sqrt(r (1 - r) / positives)): recall on new tokens then falls short of the
// target only by chance of that many sigmas.
inline constexpr double kRecallMarginSigmas = 2.5;
double recall_target_with_margin(double recall, size_t positives);

// The threshold for which at least `recall` (raised as above) of the fired
// (token, neuron) pairs of [t0, t1) score above it.
float threshold_for_recall(const std::vector<float>& scores, const ActivationRecorder& recorded, int64_t layer,
                           int64_t t0, int64_t t1, double recall);
// For each recall target, every layer's threshold set on the threshold
// tokens as train_layer sets it: result[i][layer] for recalls[i]. What
// `sieve calibrate --fidelity` tries (fidelity_target.h).
std::vector<std::vector<float>> thresholds_for_recalls(const PredictorSet& set, const ActivationRecorder& recorded,
                                                       std::span<const double> recalls, ThreadPool& pool);
// Runs a built predictor (any kind) on tokens [t0, t1) of a layer's record
// and compares with what fired.
Metrics measure_predictor(Predictor& predictor, const ActivationRecorder& recorded, int64_t layer, int64_t t0,
                          int64_t t1);
Metrics measure(const std::vector<float>& scores, float threshold, const ActivationRecorder& recorded, int64_t layer,
                int64_t t0, int64_t t1);

}  // namespace sieve::sparse
