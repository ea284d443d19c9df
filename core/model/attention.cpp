#include "model/attention.h"

#include <cmath>

#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/ops.h"

namespace sieve::model {
namespace {

void round_to_half(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = tensor::fp16_to_fp32(tensor::fp32_to_fp16(x[i]));
}

struct Job {
  const AttentionShape& shape;
  const KvCache& cache;
  tensor::VecDotFn dot_f16;  // half-precision row . float vector
  int64_t layer, pos, n_tokens;
  float* q;
  float* scores;
  float* out;
  float scale;
};

// One head, one query: out = softmax(q . K[0..n_keys) * scale) V[0..n_keys).
void attend_one(const Job& j, int64_t kv_offset, float* q, int64_t n_keys, float* scores, float* out) {
  const int64_t head_dim = j.shape.head_dim;
  round_to_half(q, head_dim);
  for (int64_t s = 0; s < n_keys; ++s) {
    scores[s] = j.dot_f16(head_dim, j.cache.key(j.layer, s) + kv_offset, q) * j.scale;
  }
  tensor::softmax(scores, n_keys);
  round_to_half(scores, n_keys);
  for (int64_t i = 0; i < head_dim; ++i) out[i] = j.dot_f16(n_keys, j.cache.value_row(j.layer, kv_offset + i), scores);
}

}  // namespace

void attend(const AttentionShape& shape, const KvCache& cache, int64_t layer, float* q, int64_t pos,
            int64_t n_tokens, float* scores, float* out, ThreadPool& pool) {
  const Job job{shape,    cache, tensor::kernels()[tensor::TensorType::F16].vec_dot,
                layer,    pos,   n_tokens,
                q,        scores, out,
                1.0f / std::sqrt(static_cast<float>(shape.head_dim))};
  // The job is captured through one pointer so std::function keeps it inline
  // (no allocation per call in the token loop).
  pool.parallel_for(shape.n_heads, [j = &job](int64_t begin, int64_t end) {
    const int64_t head_dim = j->shape.head_dim;
    const int64_t q_dim = j->shape.n_heads * head_dim;
    const int64_t group = j->shape.n_heads / j->shape.n_kv_heads;
    for (int64_t h = begin; h < end; ++h) {
      const int64_t kv_offset = (h / group) * head_dim;
      float* head_scores = j->scores + h * j->cache.context();
      for (int64_t t = 0; t < j->n_tokens; ++t) {
        const int64_t offset = t * q_dim + h * head_dim;
        attend_one(*j, kv_offset, j->q + offset, j->pos + t + 1, head_scores, j->out + offset);
      }
    }
  });
}

}  // namespace sieve::model
