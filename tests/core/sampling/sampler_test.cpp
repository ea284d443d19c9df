#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "sampling/sampler.h"
#include "util/error.h"

namespace sieve::sampling {
namespace {

SamplerOptions plain(float temperature = 1.0f) {
  SamplerOptions o;
  o.temperature = temperature;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  return o;
}

// Logits whose softmax at temperature 1 is exactly `probs`.
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(p > 0 ? static_cast<float>(std::log(p)) : -1e30f);
  return logits;
}

std::map<int32_t, int> histogram(Sampler& sampler, const std::vector<float>& logits, int n) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) ++counts[sampler.sample(logits)];
  return counts;
}

TEST(Sampler, GreedyTakesTheHighestLogitAndTheLowestIdOnTies) {
  Sampler s(SamplerOptions::greedy(), 5);
  EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 2.9f, 0.0f}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 2.0f, 2.0f, 0.0f, 2.0f}), 1);
}

TEST(Sampler, FollowsTheDistribution) {
  Sampler s(plain(), 4);
  const auto counts = histogram(s, logits_for({0.1, 0.2, 0.3, 0.4}), 40000);
  const double expected[] = {0.1, 0.2, 0.3, 0.4};
  for (int id = 0; id < 4; ++id) EXPECT_NEAR(counts.at(id) / 40000.0, expected[id], 0.01) << id;
}

TEST(Sampler, SameSeedSameTokensOtherSeedOtherTokens) {
  const std::vector<float> logits = logits_for({0.25, 0.25, 0.25, 0.25});
  SamplerOptions o = plain();
  o.seed = 42;
  Sampler a(o, 4), b(o, 4);
  o.seed = 43;
  Sampler c(o, 4);
  std::vector<int32_t> ta, tb, tc;
  for (int i = 0; i < 64; ++i) {
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
    tc.push_back(c.sample(logits));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
  a.reset();
  EXPECT_EQ(a.sample(logits), ta[0]);
}

TEST(Sampler, LowTemperatureSharpensHighFlattens) {
  const std::vector<float> logits = logits_for({0.2, 0.8});
  Sampler cold(plain(0.25f), 2), hot(plain(4.0f), 2);
  // p(1) at T: 0.8^(1/T) / (0.2^(1/T) + 0.8^(1/T)): 0.996 cold, 0.586 hot.
  EXPECT_NEAR(histogram(cold, logits, 20000)[1] / 20000.0, 0.996, 0.01);
  EXPECT_NEAR(histogram(hot, logits, 20000)[1] / 20000.0, 0.586, 0.015);
}

TEST(Sampler, TopKKeepsOnlyTheKBest) {
  SamplerOptions o = plain();
  o.top_k = 2;
  Sampler s(o, 5);
  const auto counts = histogram(s, logits_for({0.3, 0.1, 0.25, 0.2, 0.15}), 5000);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts.at(0) / 5000.0, 0.3 / 0.55, 0.03);
  EXPECT_GT(counts.at(2), 0);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  SamplerOptions o = plain();
  o.top_p = 0.6f;  // 0.4 + 0.3 reaches it; 0.2 and 0.1 go
  Sampler s(o, 4);
  const auto counts = histogram(s, logits_for({0.1, 0.4, 0.2, 0.3}), 5000);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_TRUE(counts.count(1) && counts.count(3));
}

TEST(Sampler, MinPDropsTokensFarBelowTheBest) {
  SamplerOptions o = plain();
  o.min_p = 0.5f;  // keep p >= 0.5 * 0.4 = 0.2
  Sampler s(o, 5);
  const auto counts = histogram(s, logits_for({0.4, 0.05, 0.3, 0.2, 0.05}), 5000);
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_FALSE(counts.count(1) || counts.count(4));
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplerOptions o = SamplerOptions::greedy();
  o.repeat_penalty = 2.0f;
  Sampler s(o, 3);
  const std::vector<float> logits{3.0f, 2.0f, -0.5f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);  // 3 -> 1.5: token 1 (2.0) now wins
  EXPECT_EQ(s.sample(logits), 1);
  s.accept(1);  // 2 -> 1.0: token 0 (1.5) wins again
  EXPECT_EQ(s.sample(logits), 0);
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountOccurrences) {
  SamplerOptions o = SamplerOptions::greedy();
  o.frequency_penalty = 0.5f;
  Sampler s(o, 2);
  const std::vector<float> logits{2.0f, 1.0f};
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 0);  // 2 - 0.5 = 1.5 > 1
  s.accept(0);
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);  // 2 - 1.5 = 0.5 < 1

  o.frequency_penalty = 0.0f;
  o.presence_penalty = 0.6f;  // once, however often
  Sampler p(o, 2);
  for (int i = 0; i < 5; ++i) p.accept(0);
  EXPECT_EQ(p.sample(logits), 0);  // 2 - 0.6 = 1.4 > 1
  o.presence_penalty = 1.5f;
  Sampler q(o, 2);
  q.accept(0);
  EXPECT_EQ(q.sample(logits), 1);
}

TEST(Sampler, PenaltiesSeeOnlyTheLastNTokens) {
  SamplerOptions o = SamplerOptions::greedy();
  o.presence_penalty = 5.0f;
  o.penalty_last_n = 2;
  Sampler s(o, 4);
  const std::vector<float> logits{3.0f, 2.0f, 1.0f, 0.0f};
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);
  s.accept(3);
  s.accept(3);  // token 0 has left the window of 2
  EXPECT_EQ(s.sample(logits), 0);
}

TEST(Sampler, BadOptionsAndLogitCountAreErrors) {
  SamplerOptions o = plain();
  o.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler(o, 4), Error);
  o = plain();
  o.top_p = 0.0f;
  EXPECT_THROW(Sampler(o, 4), Error);
  o = plain();
  o.min_p = 1.5f;
  EXPECT_THROW(Sampler(o, 4), Error);
  o = plain();
  o.frequency_penalty = -1.0f;
  EXPECT_THROW(Sampler(o, 4), Error);
  EXPECT_THROW(Sampler(plain(), 0), Error);
  Sampler s(plain(), 4);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, 2.0f}), Error);
}

}  // namespace
}  // namespace sieve::sampling
