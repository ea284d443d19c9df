// model::attend against a plain double-precision attention over the same
// half-precision cache: grouped heads, the causal order, and attention sinks
// (a logit per head that takes a share of the softmax and brings no value).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "model/attention.h"
#include "model/kv_cache.h"
#include "tensor/fp16.h"
#include "util/thread_pool.h"

namespace sieve::model {
namespace {

constexpr int64_t kHeads = 4, kKvHeads = 2, kHeadDim = 16, kContext = 12;

float half(float x) { return tensor::fp16_to_fp32(tensor::fp32_to_fp16(x)); }

struct Fixture {
  AttentionParams params;
  KvCache cache{1, kContext, kKvHeads * kHeadDim};
  std::vector<float> q;  // kContext x kHeads x kHeadDim: one query per position

  Fixture() {
    params.n_heads = kHeads;
    params.n_kv_heads = kKvHeads;
    params.head_dim = kHeadDim;
    params.score_scale = 1.0f / std::sqrt(float(kHeadDim));
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    std::vector<float> k(kContext * kKvHeads * kHeadDim), v(k.size());
    for (float& x : k) x = normal(rng);
    for (float& x : v) x = normal(rng);
    q.resize(kContext * kHeads * kHeadDim);
    for (float& x : q) x = 2.0f * normal(rng);
    cache.store_keys(0, 0, kContext, k.data());
    cache.store_values(0, 0, kContext, v.data());
  }

  // All positions' outputs through model::attend, in batches of `batch`
  // tokens (1: decode's way; more: the matrix products, from 4 query vectors
  // per KV head on); score_rows > 0 shrinks the score scratch to that many
  // rows of kContext, so a batch runs in blocks of fewer tokens.
  std::vector<float> attend_all(int64_t batch = kContext, int64_t score_rows = 0) {
    ThreadPool pool(2);
    std::vector<float> queries = q, out(q.size());
    AttentionScratch scratch(kHeads, kHeads * kHeadDim, kContext, batch);
    if (score_rows > 0) scratch.scores.resize(static_cast<size_t>(score_rows * kContext));
    const int64_t q_dim = kHeads * kHeadDim;
    for (int64_t pos = 0; pos < kContext; pos += batch) {
      const int64_t n = std::min(batch, kContext - pos);
      attend(params, cache, 0, queries.data() + pos * q_dim, pos, n, scratch, out.data() + pos * q_dim, pool);
    }
    return out;
  }

  // The same in doubles from the rounded inputs; `sinks` null: none.
  std::vector<double> expected(const float* sinks) const {
    std::vector<double> out(q.size());
    const int64_t group = kHeads / kKvHeads;
    for (int64_t at = 0; at < kContext; ++at) {
      for (int64_t h = 0; h < kHeads; ++h) {
        const float* query = q.data() + (at * kHeads + h) * kHeadDim;
        const int64_t kv = (h / group) * kHeadDim;
        const int64_t first = params.window > 0 ? std::max<int64_t>(0, at + 1 - params.window) : 0;
        std::vector<double> p(at + 1, 0.0);
        double max = sinks ? sinks[h] : -std::numeric_limits<double>::infinity();
        for (int64_t s = first; s <= at; ++s) {
          double dot = 0;
          for (int64_t i = 0; i < kHeadDim; ++i) {
            dot += double(half(query[i])) * tensor::fp16_to_fp32(cache.key(0, s)[kv + i]);
          }
          p[s] = dot * params.score_scale;
          max = std::max(max, p[s]);
        }
        double sum = sinks ? std::exp(sinks[h] - max) : 0.0;
        for (int64_t s = first; s <= at; ++s) sum += (p[s] = std::exp(p[s] - max));
        for (int64_t i = 0; i < kHeadDim; ++i) {
          double acc = 0;
          for (int64_t s = first; s <= at; ++s) acc += p[s] / sum * tensor::fp16_to_fp32(cache.value_row(0, kv + i)[s]);
          out[(at * kHeads + h) * kHeadDim + i] = acc;
        }
      }
    }
    return out;
  }
};

double max_abs_diff(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - want[i]));
  return worst;
}

TEST(Attention, GroupedCausalHeadsMatchAPlainSoftmax) {
  Fixture f;
  // One batch; decode's token-by-token way; batches of 5, 5 and 2 (the last
  // has 4 query vectors per KV head, below the matrix products' minimum).
  for (int64_t batch : {kContext, int64_t{1}, int64_t{5}}) {
    EXPECT_LT(max_abs_diff(f.attend_all(batch), f.expected(nullptr)), 5e-3) << "batch " << batch;
  }
}

TEST(Attention, BatchedAndTokenByTokenAgreeToRounding) {
  Fixture f;
  const std::vector<float> by_token = f.attend_all(1);
  const std::vector<double> as_double(by_token.begin(), by_token.end());
  EXPECT_LT(max_abs_diff(f.attend_all(), as_double), 1e-5);
}

TEST(Attention, BlocksOfFewerTokensThanTheBatchGiveTheSameOutputs) {
  Fixture f;
  // Room for 3 rows of scores: one token's 2 heads at a time, then blocks of
  // one token each for every later batch position.
  const std::vector<float> whole = f.attend_all();
  const std::vector<float> blocked = f.attend_all(kContext, 3);
  const std::vector<double> as_double(whole.begin(), whole.end());
  EXPECT_LT(max_abs_diff(blocked, as_double), 1e-6);
}

TEST(Attention, ASlidingWindowHidesOlderPositionsInEveryWay) {
  Fixture f;
  f.params.window = 4;
  const std::vector<double> want = f.expected(nullptr);
  for (int64_t batch : {kContext, int64_t{1}, int64_t{5}}) {
    EXPECT_LT(max_abs_diff(f.attend_all(batch), want), 5e-3) << "batch " << batch;
  }
  EXPECT_LT(max_abs_diff(f.attend_all(kContext, 3), want), 5e-3);
  f.params.window = 0;
  EXPECT_GT(max_abs_diff(f.attend_all(), want), 1e-2) << "the window must matter on this data";
}

TEST(Attention, SinksTakeTheirShareOfTheSoftmax) {
  Fixture f;
  const std::vector<float> sinks = {-1.0f, 0.0f, 1.5f, 3.0f};
  f.params.sinks = sinks.data();
  const std::vector<float> got = f.attend_all();
  EXPECT_LT(max_abs_diff(got, f.expected(sinks.data())), 5e-3);
  // The sink only removes weight: each head's output shrinks towards zero as its sink grows.
  const std::vector<double> without = f.expected(nullptr);
  double with_norm = 0, without_norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    with_norm += double(got[i]) * got[i];
    without_norm += without[i] * without[i];
  }
  EXPECT_LT(with_norm, without_norm);
}

TEST(Attention, AVeryLowSinkChangesNothingAndAVeryHighOneSilencesTheHead) {
  Fixture f;
  const std::vector<float> plain = f.attend_all();
  const std::vector<float> low(kHeads, -1e4f), high(kHeads, 1e4f);
  f.params.sinks = low.data();
  const std::vector<float> with_low = f.attend_all();
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_NEAR(with_low[i], plain[i], 1e-5f) << i;
  f.params.sinks = high.data();
  for (const float x : f.attend_all()) EXPECT_EQ(x, 0.0f);
}

}  // namespace
}  // namespace sieve::model
