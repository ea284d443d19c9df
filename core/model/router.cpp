#include "model/router.h"

#include <cmath>

#include "tensor/ops.h"

namespace sieve::model {
namespace {

// The k largest values, largest first. k is small (2 to 8): repeated scans
// keep the order and need no scratch.
void pick_largest(std::span<const float> values, std::span<ExpertChoice> choice) {
  size_t chosen = 0;
  for (ExpertChoice& slot : choice) {
    int32_t best = -1;
    for (size_t e = 0; e < values.size(); ++e) {
      bool taken = false;
      for (size_t i = 0; i < chosen; ++i) taken = taken || choice[i].expert == static_cast<int32_t>(e);
      if (!taken && (best < 0 || values[e] > values[static_cast<size_t>(best)])) best = static_cast<int32_t>(e);
    }
    slot = {best, values[static_cast<size_t>(best)]};
    ++chosen;
  }
}

void scale_to_one(std::span<ExpertChoice> choice) {
  float sum = 0.0f;
  for (const ExpertChoice& c : choice) sum += c.weight;
  for (ExpertChoice& c : choice) c.weight /= sum;
}

}  // namespace

void route_token(std::span<float> logits, ExpertGating gating, bool normalize, std::span<ExpertChoice> choice) {
  if (gating == ExpertGating::SoftmaxChosen) {
    pick_largest(logits, choice);  // weights hold the logits, the largest first
    const float max = choice.front().weight;
    for (ExpertChoice& c : choice) c.weight = std::exp(c.weight - max);
    scale_to_one(choice);
    return;
  }
  tensor::softmax(logits.data(), static_cast<int64_t>(logits.size()));
  pick_largest(logits, choice);
  if (normalize) scale_to_one(choice);
}

}  // namespace sieve::model
