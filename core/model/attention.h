#pragma once
// Causal multi-head attention over the KV cache, with grouped-query heads.
//
// Query token t of a batch sits at position pos + t and attends to cached
// positions 0..pos + t (the causal mask), or to the last `window` of them. Scores and weighted sums are dot
// products with the half-precision cache (the F16 kernel of kernels.h); the
// queries and the softmax weights are rounded to half precision first, as
// the reference engine does, so both sides multiply the same numbers.
//
// Two ways through, the same arithmetic but for the order of the sums:
// - a single token (decode): heads are split across the pool's threads, each
//   with its own row of score scratch, and every score and output value is one
//   F16 dot product;
// - a batch (prefill): for each KV head, the queries of its heads for a block
//   of tokens are multiplied with the cached keys as one matrix product
//   (matmul.h's GEMM paths), the scores turned into weights row by row (the
//   causal mask zeroes what a token must not see), and the weights multiplied
//   with the cached values as a second product. Attention then runs at GEMM
//   speed instead of one short dot product per (query, key) pair: at a
//   1024-token prompt the pairwise way spent about 40% of the prefill there.
// Nothing is allocated per call once the scratch has grown to the context.

#include <cstdint>
#include <vector>

#include "model/kv_cache.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::model {

struct AttentionParams {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  // A score is q . k, then capped to softcap * tanh(score / softcap) when
  // softcap > 0, then multiplied by score_scale (in that order, as the
  // reference does).
  float score_scale = 1.0f;
  float softcap = 0.0f;
  // > 0: the query at position p sees only positions p - window + 1 .. p.
  int64_t window = 0;
  // Attention sinks (gpt-oss): one learned logit per head that joins every
  // softmax as a key with no value, so a head may attend to nothing; the
  // layer's n_heads floats, or null.
  const float* sinks = nullptr;
};

// Buffers attend() works in, sized once for the model, context and batch.
struct AttentionScratch {
  AttentionScratch(int64_t n_heads, int64_t q_dim, int64_t context, int64_t max_batch);
  std::vector<float> scores;   // n_heads x context: a head's row (decode), a block's rows (prefill)
  std::vector<float> queries;  // max_batch x q_dim: a block's queries of one KV head, gathered
  std::vector<float> outputs;  // max_batch x q_dim: their outputs, before they are scattered
  tensor::MatmulScratch matmul;
};

// q: n_tokens x (n_heads * head_dim) queries (rounded in place to half
// precision); out: same shape, written. n_tokens <= the scratch's max_batch.
void attend(const AttentionParams& params, const KvCache& cache, int64_t layer, float* q, int64_t pos,
            int64_t n_tokens, AttentionScratch& scratch, float* out, ThreadPool& pool);

}  // namespace sieve::model
