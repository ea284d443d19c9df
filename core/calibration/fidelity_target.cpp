#include "calibration/fidelity_target.h"

#include <algorithm>
#include <memory>

#include "engine.h"
#include "flash/pack_format.h"
#include "gguf/gguf_patch.h"
#include "util/error.h"

namespace sieve::sparse {
namespace keys = flash::pred_keys;
namespace {

void require_tokens(std::span<const int32_t> tokens) {
  if (tokens.size() < 2) {
    throw Error("--fidelity: only " + std::to_string(tokens.size()) +
                " held-out token(s) to measure on; give a longer text or more --self-generate tokens");
  }
}

}  // namespace

FidelityChoice search_knob(const std::vector<double>& knobs, double target,
                           const std::function<SparseFidelityFigure(size_t)>& measure, const StepReport& report) {
  if (knobs.empty()) throw Error("search_knob: no settings to try");
  FidelityChoice choice;
  std::vector<SparseFidelityFigure> figures(knobs.size());
  const auto good = [&](size_t i) {
    figures[i] = measure(i);
    choice.steps.push_back({knobs[i], figures[i]});
    if (report) report(choice.steps.back());
    return figures[i].top1 >= target;
  };
  size_t best = 0;
  if (good(0) && knobs.size() > 1) {
    size_t bad = knobs.size() - 1;
    if (good(bad)) {
      best = bad;
    } else {
      while (bad - best > 1) {
        const size_t mid = best + (bad - best) / 2;
        (good(mid) ? best : bad) = mid;
      }
    }
  }
  choice.knob = knobs[best];
  choice.figure = figures[best];
  choice.met = figures[best].top1 >= target;
  return choice;
}

FidelityChoice choose_gate_sparsity(const std::filesystem::path& pack, std::span<const int32_t> tokens, double target,
                                    const FidelityMeasureOptions& options, const StepReport& report) {
  require_tokens(tokens);
  std::vector<double> sparsities = {0.0};
  if (target < 1.0) {
    for (int p = 1; p <= kMaxSearchedSparsityPercent; ++p) sparsities.push_back(p / 100.0);
  }
  const std::unique_ptr<Engine> reference = load_reference(pack, options);
  FidelityMeasureOptions at = options;
  at.sparse.predictor = PredictorKind::gate;
  return search_knob(sparsities, target, [&](size_t i) {
    at.sparse.target_sparsity = sparsities[i];
    return measure_sparse_fidelity(*reference, pack, tokens, at);
  }, report);
}

FidelityChoice choose_recall(const std::filesystem::path& pack, std::span<const int32_t> tokens, double target,
                             std::span<const double> recalls, const std::vector<std::vector<float>>& thresholds,
                             const FidelityMeasureOptions& options, const StepReport& report) {
  require_tokens(tokens);
  if (recalls.empty() || recalls.size() != thresholds.size()) throw Error("choose_recall: one threshold set per recall");
  // Most faithful first: the highest recall.
  const std::vector<double> knobs(recalls.rbegin(), recalls.rend());
  const auto thresholds_of = [&](size_t i) { return std::span<const float>(thresholds[recalls.size() - 1 - i]); };
  const std::unique_ptr<Engine> reference = load_reference(pack, options);
  FidelityMeasureOptions at = options;
  at.sparse.predictor = PredictorKind::lowrank;
  FidelityChoice choice;
  try {
    choice = search_knob(knobs, target, [&](size_t i) {
      gguf::overwrite_f32_array(pack, keys::kThresholds, thresholds_of(i));
      return measure_sparse_fidelity(*reference, pack, tokens, at);
    }, report);
  } catch (...) {
    // The pack says sieve.pred.recall = recalls[0] until a choice is stored:
    // leave the thresholds that match it.
    gguf::overwrite_f32_array(pack, keys::kThresholds, thresholds.front());
    throw;
  }
  const auto kept = static_cast<size_t>(std::find(knobs.begin(), knobs.end(), choice.knob) - knobs.begin());
  gguf::overwrite_f32_array(pack, keys::kThresholds, thresholds_of(kept));
  return choice;
}

void store_gate_choice(const std::filesystem::path& pack, double target, const FidelityChoice& choice) {
  const auto f32 = [](double v) { return gguf::Value::f32(static_cast<float>(v)); };
  gguf::overwrite_scalar(pack, keys::kFidelityTarget, f32(target));
  gguf::overwrite_scalar(pack, keys::kGateSparsity, f32(choice.knob));
  gguf::overwrite_scalar(pack, keys::kGateFidelityTop1, f32(choice.figure.top1));
  gguf::overwrite_scalar(pack, keys::kGateFidelityKl, f32(choice.figure.mean_kl));
  // Last: a figure counts as measured only once the numbers are in place.
  gguf::overwrite_scalar(pack, keys::kGateFidelityTokens, gguf::Value::u32(choice.figure.positions));
}

void store_recall_choice(const std::filesystem::path& pack, double target, const FidelityChoice& choice) {
  gguf::overwrite_scalar(pack, keys::kFidelityTarget, gguf::Value::f32(static_cast<float>(target)));
  gguf::overwrite_scalar(pack, keys::kRecall, gguf::Value::f32(static_cast<float>(choice.knob)));
  store_sparse_fidelity(pack, choice.figure);
}

std::vector<double> recall_ladder(double from) {
  std::vector<double> ladder = {from};
  for (double r : {0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 1.0}) {
    if (r > from) ladder.push_back(r);
  }
  return ladder;
}

}  // namespace sieve::sparse
