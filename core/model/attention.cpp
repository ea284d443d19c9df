#include "model/attention.h"

#include <algorithm>
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
  const AttentionParams& params;
  const KvCache& cache;
  tensor::VecDotFn dot_f16;  // half-precision row . float vector
  int64_t layer, pos, n_tokens;
  float* q;
  float* scores;
  float* out;
};

void cap_scores(float* scores, int64_t n, float cap) {
  const float inverse = 1.0f / cap;
  for (int64_t s = 0; s < n; ++s) scores[s] = cap * std::tanh(scores[s] * inverse);
}

// softmax over the scores and a sink logit that takes its share of the sum
// but has no value: the probabilities of the scores sum to less than one.
void softmax_with_sink(float* scores, int64_t n, float sink) {
  float max = sink;
  for (int64_t s = 0; s < n; ++s) max = std::max(max, scores[s]);
  float sum = std::exp(sink - max);
  for (int64_t s = 0; s < n; ++s) {
    scores[s] = std::exp(scores[s] - max);
    sum += scores[s];
  }
  const float inverse = 1.0f / sum;
  for (int64_t s = 0; s < n; ++s) scores[s] *= inverse;
}

// One head, one query at position `at`: out = softmax(scores) V over the
// positions it sees, scores = q . K as AttentionParams describes.
void attend_one(const Job& j, int64_t head, int64_t kv_offset, float* q, int64_t at, float* scores, float* out) {
  const AttentionParams& p = j.params;
  const int64_t first = p.window > 0 ? std::max<int64_t>(0, at + 1 - p.window) : 0;
  const int64_t n_keys = at + 1 - first;
  round_to_half(q, p.head_dim);
  for (int64_t s = 0; s < n_keys; ++s) {
    scores[s] = j.dot_f16(p.head_dim, j.cache.key(j.layer, first + s) + kv_offset, q);
  }
  if (p.softcap > 0.0f) cap_scores(scores, n_keys, p.softcap);
  if (p.score_scale != 1.0f) {
    for (int64_t s = 0; s < n_keys; ++s) scores[s] *= p.score_scale;
  }
  if (p.sinks != nullptr) softmax_with_sink(scores, n_keys, p.sinks[head]);
  else tensor::softmax(scores, n_keys);
  round_to_half(scores, n_keys);
  for (int64_t i = 0; i < p.head_dim; ++i) {
    out[i] = j.dot_f16(n_keys, j.cache.value_row(j.layer, kv_offset + i) + first, scores);
  }
}

}  // namespace

void attend(const AttentionParams& params, const KvCache& cache, int64_t layer, float* q, int64_t pos,
            int64_t n_tokens, float* scores, float* out, ThreadPool& pool) {
  const tensor::VecDotFn dot_f16 = tensor::kernels()[tensor::TensorType::F16].vec_dot;
  const Job job{params, cache, dot_f16, layer, pos, n_tokens, q, scores, out};
  // The job is captured through one pointer (parallel_for's RangeFn holds
  // only a reference to the lambda; nothing is allocated either way).
  pool.parallel_for(params.n_heads, [j = &job](int64_t begin, int64_t end) {
    const int64_t head_dim = j->params.head_dim;
    const int64_t q_dim = j->params.n_heads * head_dim;
    const int64_t group = j->params.n_heads / j->params.n_kv_heads;
    for (int64_t h = begin; h < end; ++h) {
      const int64_t kv_offset = (h / group) * head_dim;
      float* head_scores = j->scores + h * j->cache.context();
      for (int64_t t = 0; t < j->n_tokens; ++t) {
        const int64_t offset = t * q_dim + h * head_dim;
        attend_one(*j, h, kv_offset, j->q + offset, j->pos + t, head_scores, j->out + offset);
      }
    }
  });
}

}  // namespace sieve::model
