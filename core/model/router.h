#pragma once
// A Mixture-of-Experts layer's router: from the router's logits over all
// experts to the few a token runs and the weight of each. The router names
// them exactly, which is what makes streaming experts from the SSD lossless.
//
//   probabilities  softmax over all experts' logits
//   choice         the k most probable, most probable first (ties: lower id)
//   weights        their probabilities, renormalised to sum to one when the
//                  recipe says so (Mixtral, Qwen3-MoE), else as they are

#include <cstdint>
#include <span>

namespace sieve::model {

struct ExpertChoice {
  int32_t expert = 0;
  float weight = 0.0f;
};

// Writes choice.size() experts (k <= logits.size()); `logits` is overwritten
// with the probabilities. Allocates nothing.
void route_token(std::span<float> logits, bool normalize_weights, std::span<ExpertChoice> choice);

}  // namespace sieve::model
