#pragma once
// The skewed router of a synthetic Mixture-of-Experts model, built into the
// weights so that every engine routes the file alike (derivation and measured
// figures in docs/synthetic-models.md, "Routers"). Three seeded unit
// directions of the residual stream, u, w1 and w2 (orthonormal):
//
//  Popularity (Zipf-like): every token embedding gets sqrt(dim) * u, so every
//  token's residual stream leans along u; router row e of layer l
//  (ffn_gate_inp) gets beta_e * u with beta_e set so the expert's logit
//  moves by -strength * ln(1 + rank), its rank a seeded permutation per layer.
//
//  Temporal correlation (a "topic" carried by attention): every token
//  embedding gets +-sqrt(dim) * w1 (a seeded sign per token); each layer's
//  value projection copies the token's w1 component into a seeded +-1 pattern
//  s over the KV dimensions, and its output projection reads that pattern
//  back from every head and writes it along w2. Attention averages values
//  over the context, so the w2 component of the residual stream is an average
//  of the signs of the tokens before, and router rows carry
//  strength * tau_e * w2 (tau_e a seeded N(0,1)-like affinity).
//
//  Recency (so that average is over the recent tokens and drifts instead of
//  settling): query and key rows get a * c_d * u / sqrt(dim / 3) for one
//  seeded +-1 pattern c over the head dimensions, so every query and key
//  holds the same vector c, which RoPE rotates by the position: the score of
//  a key d positions back gains A * mean_i cos(theta_i * d), which falls
//  roughly like ln(d) / ln(rope base). With A = 0.3 ln(rope base) the
//  weights fall about as d^-0.3: an average over the recent context that
//  drifts as it moves on. QK-norm models (qwen3moe) scale q_norm and k_norm
//  by the factor that gives the same A.

#include <cstdint>
#include <span>
#include <vector>

#include "synth/synth_model.h"

namespace sieve::synth {

class RouterSkew {
 public:
  RouterSkew(const ModelShape& shape, uint64_t seed, double strength);

  // Token embedding row `token`: plus u and the token's topic sign along w1.
  void shape_embedding_row(uint64_t token, std::span<float> row) const;
  // attn_v row `j` (KV dimension j) of `layer`: copies w1 into pattern s.
  void shape_value_row(int layer, uint64_t j, std::span<float> row) const;
  // attn_output row `i` (model dimension i) of `layer`: reads s back along w2.
  void shape_output_row(int layer, uint64_t i, std::span<float> row) const;
  // attn_q row `j` (query dimension j) / attn_k row `j` (KV dimension j):
  // the shared vector c along u.
  void shape_query_row(uint64_t j, std::span<float> row) const;
  void shape_key_row(uint64_t j, std::span<float> row) const;
  // attn_q_norm / attn_k_norm weights (QK-norm models): scaled for the recency gain.
  void shape_qk_norm(std::span<float> row) const;
  // Router row `expert` of `layer`: its popularity along u and topic affinity along w2.
  void shape_router_row(int layer, uint64_t expert, std::span<float> row) const;

  // The popularity rank (0 = most popular) of `expert` in `layer`.
  int rank(int layer, uint64_t expert) const;

 private:
  float pattern(int layer, uint64_t kv_index) const;  // s: +-1
  void add_shared_vector(uint64_t j, std::span<float> row) const;
  double uniform(uint64_t key, uint64_t a, uint64_t b) const;  // [0, 1)

  ModelShape shape_;
  double strength_;
  uint64_t seed_;
  std::vector<float> u_, w1_, w2_;  // unit length, orthogonal
  double qk_amplitude_ = 0;  // a: the size of c in a query or key, against unit-size noise
  double qk_norm_scale_ = 1;
};

}  // namespace sieve::synth
