#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "tensor/kernels.h"
#include "tensor/ops.h"

namespace sieve::model {
namespace {

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

// The first position a query at position `at` sees.
int64_t first_visible(const AttentionParams& p, int64_t at) {
  return p.window > 0 ? std::max<int64_t>(0, at + 1 - p.window) : 0;
}

// In place: a head's scores q . k of the n positions a query sees become its
// attention weights, rounded to half precision for the product with the values.
void scores_to_weights(const AttentionParams& p, int64_t head, float* scores, int64_t n) {
  if (p.softcap > 0.0f) cap_scores(scores, n, p.softcap);
  if (p.score_scale != 1.0f) {
    for (int64_t s = 0; s < n; ++s) scores[s] *= p.score_scale;
  }
  if (p.sinks != nullptr) softmax_with_sink(scores, n, p.sinks[head]);
  else tensor::softmax(scores, n);
  tensor::round_to_half(scores, n);
}

// One head, one query at position `at`: out = softmax(scores) V over the
// positions it sees, scores = q . K as AttentionParams describes.
void attend_one(const Job& j, int64_t head, int64_t kv_offset, float* q, int64_t at, float* scores, float* out) {
  const AttentionParams& p = j.params;
  const int64_t first = first_visible(p, at);
  const int64_t n_keys = at + 1 - first;
  tensor::round_to_half(q, p.head_dim);
  for (int64_t s = 0; s < n_keys; ++s) {
    scores[s] = j.dot_f16(p.head_dim, j.cache.key(j.layer, first + s) + kv_offset, q);
  }
  scores_to_weights(p, head, scores, n_keys);
  for (int64_t i = 0; i < p.head_dim; ++i) {
    out[i] = j.dot_f16(n_keys, j.cache.value_row(j.layer, kv_offset + i) + first, scores);
  }
}

// Decode's way: heads across the threads, one dot product per score and value.
void attend_per_head(const AttentionParams& params, const KvCache& cache, int64_t layer, float* q, int64_t pos,
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


// A block of a batch for the matrix products: one KV head, the queries of its
// `group` heads for tokens [t0, t1), against the cached positions [key0, key0 + n_keys).
struct Block {
  int64_t kv_head, t0, t1, key0, n_keys;
  int64_t vectors(int64_t group) const { return (t1 - t0) * group; }
};

// Prefill's way (see the header): for each KV head and block of tokens, two
// matrix products over the cache with the scores turned into weights between.
class BatchedAttention {
 public:
  BatchedAttention(const AttentionParams& p, const KvCache& cache, int64_t layer, const float* q, int64_t pos,
                   AttentionScratch& scratch, float* out, ThreadPool& pool)
      : p_(p), cache_(cache), layer_(layer), q_(q), pos_(pos), s_(scratch), out_(out), pool_(pool),
        group_(p.n_heads / p.n_kv_heads), q_dim_(p.n_heads * p.head_dim) {}

  void run(int64_t n_tokens) {
    // As many tokens per block as the score scratch holds for every key the
    // batch's last token sees (at least one token).
    const int64_t max_keys = pos_ + n_tokens;
    const int64_t per_token = group_ * max_keys;
    const int64_t block_tokens = std::max<int64_t>(1, static_cast<int64_t>(s_.scores.size()) / per_token);
    for (int64_t g = 0; g < p_.n_kv_heads; ++g) {
      for (int64_t t0 = 0; t0 < n_tokens; t0 += block_tokens) {
        const int64_t t1 = std::min(n_tokens, t0 + block_tokens);
        const int64_t key0 = first_visible(p_, pos_ + t0);
        run_block({g, t0, t1, key0, pos_ + t1 - key0});
      }
    }
  }

 private:
  void run_block(const Block& b) {
    const int64_t n_vectors = b.vectors(group_);
    gather_queries(b);
    // scores[v * n_keys + s] = query v . key (key0 + s)
    const tensor::MatrixView keys{cache_.key(layer_, b.key0) + b.kv_head * p_.head_dim, tensor::TensorType::F16,
                                  b.n_keys, p_.head_dim, static_cast<size_t>(cache_.kv_dim()) * sizeof(uint16_t)};
    tensor::matmat(keys, s_.queries.data(), n_vectors, s_.scores.data(), pool_, s_.matmul);
    pool_.parallel_for(n_vectors, [this, &b](int64_t begin, int64_t end) {
      for (int64_t v = begin; v < end; ++v) weigh_row(b, v);
    });
    // outputs[v * head_dim + i] = weights v . values of dimension i
    const tensor::MatrixView values{cache_.value_row(layer_, b.kv_head * p_.head_dim) + b.key0,
                                    tensor::TensorType::F16, p_.head_dim, b.n_keys,
                                    static_cast<size_t>(cache_.context()) * sizeof(uint16_t)};
    tensor::matmat(values, s_.scores.data(), n_vectors, s_.outputs.data(), pool_, s_.matmul);
    scatter_outputs(b);
  }

  // Vector v of a block is head g * group + v % group at token t0 + v / group;
  // a token's heads of one group sit side by side in q and out.
  const float* query(const Block& b, int64_t t) const {
    return q_ + t * q_dim_ + b.kv_head * group_ * p_.head_dim;
  }

  void gather_queries(const Block& b) {
    const int64_t row = group_ * p_.head_dim;
    for (int64_t t = b.t0; t < b.t1; ++t) {
      std::copy_n(query(b, t), row, s_.queries.data() + (t - b.t0) * row);
    }
  }

  void scatter_outputs(const Block& b) {
    const int64_t row = group_ * p_.head_dim;
    for (int64_t t = b.t0; t < b.t1; ++t) {
      std::copy_n(s_.outputs.data() + (t - b.t0) * row, row, out_ + t * q_dim_ + b.kv_head * row);
    }
  }

  // Row v of the block's scores: the positions its token sees become weights,
  // the others (later positions, or before a window) weigh nothing.
  void weigh_row(const Block& b, int64_t v) const {
    float* row = s_.scores.data() + v * b.n_keys;
    const int64_t at = pos_ + b.t0 + v / group_;
    const int64_t first = first_visible(p_, at) - b.key0;
    const int64_t end = at + 1 - b.key0;
    std::fill(row, row + first, 0.0f);
    std::fill(row + end, row + b.n_keys, 0.0f);
    scores_to_weights(p_, b.kv_head * group_ + v % group_, row + first, end - first);
  }

  const AttentionParams& p_;
  const KvCache& cache_;
  int64_t layer_;
  const float* q_;
  int64_t pos_;
  AttentionScratch& s_;
  float* out_;
  ThreadPool& pool_;
  int64_t group_, q_dim_;
};

// Below this many query vectors per KV head a batch takes decode's way: the
// matrix products' GEMM paths start at 8 vectors.
constexpr int64_t kBatchedMinVectors = 8;

}  // namespace

AttentionScratch::AttentionScratch(int64_t n_heads, int64_t q_dim, int64_t context, int64_t max_batch)
    : scores(static_cast<size_t>(n_heads * context)),
      queries(static_cast<size_t>(max_batch * q_dim)),
      outputs(static_cast<size_t>(max_batch * q_dim)) {}

void attend(const AttentionParams& params, const KvCache& cache, int64_t layer, float* q, int64_t pos,
            int64_t n_tokens, AttentionScratch& scratch, float* out, ThreadPool& pool) {
  const int64_t group = params.n_heads / params.n_kv_heads;
  if (n_tokens < 2 || n_tokens * group < kBatchedMinVectors) {
    attend_per_head(params, cache, layer, q, pos, n_tokens, scratch.scores.data(), out, pool);
    return;
  }
  pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
    tensor::round_to_half(q + begin * params.n_heads * params.head_dim, (end - begin) * params.n_heads * params.head_dim);
  });
  BatchedAttention(params, cache, layer, q, pos, scratch, out, pool).run(n_tokens);
}

}  // namespace sieve::model
