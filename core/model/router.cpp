#include "model/router.h"

#include "tensor/ops.h"

namespace sieve::model {

void route_token(std::span<float> logits, bool normalize_weights, std::span<ExpertChoice> choice) {
  tensor::softmax(logits.data(), static_cast<int64_t>(logits.size()));
  // k is small (2 to 8): a selection by repeated scans keeps the order and
  // needs no scratch.
  size_t chosen = 0;
  for (ExpertChoice& slot : choice) {
    int32_t best = -1;
    for (size_t e = 0; e < logits.size(); ++e) {
      bool taken = false;
      for (size_t i = 0; i < chosen; ++i) taken = taken || choice[i].expert == static_cast<int32_t>(e);
      if (!taken && (best < 0 || logits[e] > logits[static_cast<size_t>(best)])) best = static_cast<int32_t>(e);
    }
    slot = {best, logits[static_cast<size_t>(best)]};
    ++chosen;
  }
  if (!normalize_weights) return;
  float sum = 0.0f;
  for (const ExpertChoice& c : choice) sum += c.weight;
  for (ExpertChoice& c : choice) c.weight /= sum;
}

}  // namespace sieve::model
