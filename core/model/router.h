#pragma once
// A Mixture-of-Experts layer's router: from the router's logits over all
// experts to the few a token runs and the weight of each. The router names
// them exactly, which is what makes streaming experts from the SSD lossless.
//
//   choice         the k highest logits, highest first (ties: lower id)
//   weights        SoftmaxAll: their probabilities under a softmax over every
//                  expert (Mixtral, Qwen3-MoE), renormalised to sum to one
//                  when `normalize` says so; SoftmaxChosen: a softmax over the
//                  chosen logits alone (gpt-oss)

#include <cstdint>
#include <span>

#include "model/arch_recipe.h"

namespace sieve::model {

struct ExpertChoice {
  int32_t expert = 0;
  float weight = 0.0f;
};

// Writes choice.size() experts (k <= logits.size()); `logits` may be
// overwritten (with the probabilities). Allocates nothing.
void route_token(std::span<float> logits, ExpertGating gating, bool normalize, std::span<ExpertChoice> choice);

}  // namespace sieve::model
