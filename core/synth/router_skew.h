#pragma once
// The skewed router of a synthetic Mixture-of-Experts model, built into the
// weights so that every engine routes the file alike (derivation in
// docs/synthetic-models.md, "Routers"):
//
//  - a seeded unit vector u (the shared direction) is added to every token
//    embedding with norm kSharedShare * sqrt(dim), so the residual stream of
//    every token leans along u;
//  - router row e of layer l (ffn_gate_inp) gets beta_e * u, with beta_e
//    following the expert's popularity rank in that layer (a seeded
//    permutation): the logit offset of the rank-r expert is
//    -strength * ln(1 + r), i.e. Zipf-like odds, centred over the experts.
//
// Popular experts then win the top-k for most tokens, and consecutive tokens
// share most of their experts.

#include <cstdint>
#include <span>
#include <vector>

#include "synth/synth_model.h"

namespace sieve::synth {

class RouterSkew {
 public:
  RouterSkew(const ModelShape& shape, uint64_t seed, double strength);

  // A token embedding row: plus the shared direction.
  void shape_embedding_row(std::span<float> row) const;
  // Router row `expert` of `layer`: plus the expert's popularity along u.
  void shape_router_row(int layer, uint64_t expert, std::span<float> row) const;

  // The popularity rank (0 = most popular) of `expert` in `layer`.
  int rank(int layer, uint64_t expert) const;

 private:
  int64_t dim_;
  int64_t n_experts_;
  double strength_;
  uint64_t seed_;
  std::vector<float> direction_;  // u, unit length
};

}  // namespace sieve::synth
