// The fidelity measures on hand-made logits whose values are known in closed
// form, and the two-engine runner on stories260K (dense against dense: the
// same computation, so agreement 1 and KL 0 exactly).

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine.h"
#include "calibration/fidelity.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

const double kLn3 = std::log(3.0);

TEST(Fidelity, ArgmaxTakesTheLowestIndexOfATie) {
  const std::vector<float> logits = {1, 5, 2, 5};
  EXPECT_EQ(argmax(logits), 1);
  EXPECT_THROW(argmax(std::span<const float>{}), Error);
}

TEST(Fidelity, LogSoftmaxIsStableForLargeLogits) {
  const std::vector<float> logits = {10000, 10000};  // exp(10000) overflows a double
  std::vector<double> out(2);
  log_softmax(logits, out);
  EXPECT_NEAR(out[0], std::log(0.5), 1e-12);
  EXPECT_NEAR(out[1], std::log(0.5), 1e-12);
  std::vector<double> wrong_size(3);
  EXPECT_THROW(log_softmax(logits, wrong_size), Error);
}

TEST(Fidelity, KlOfIdenticalLogitsIsExactlyZero) {
  const std::vector<float> logits = {0.3f, -1.7f, 4.25f, 4.0f, -30.f};
  EXPECT_EQ(kl_divergence(logits, logits), 0.0);
}

TEST(Fidelity, KlHasItsClosedFormValue) {
  // P = (1/2, 1/2), Q = (1/4, 3/4): KL = 1/2 ln(2) + 1/2 ln(2/3) = 1/2 ln(4/3).
  const std::vector<float> p = {0, 0};
  const std::vector<float> q = {0, static_cast<float>(kLn3)};
  EXPECT_NEAR(kl_divergence(p, q), 0.5 * std::log(4.0 / 3.0), 1e-7);
  // Logits are defined up to a constant; far from zero the same value holds
  // (to the float rounding of 1000 + ln 3).
  const std::vector<float> p_shifted = {1000, 1000};
  const std::vector<float> q_shifted = {1000, static_cast<float>(1000 + kLn3)};
  EXPECT_NEAR(kl_divergence(p_shifted, q_shifted), 0.5 * std::log(4.0 / 3.0), 1e-4);
  // KL is not symmetric: KL(Q || P) = 1/4 ln(1/2) + 3/4 ln(3/2).
  EXPECT_NEAR(kl_divergence(q, p), 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-7);
}

TEST(Fidelity, KlCountsProbabilitiesThatUnderflow) {
  // Q gives the second token e^-2000 (0 as a double); in log space the term
  // 1/2 (ln 1/2 + 2000) is still there.
  const std::vector<float> p = {0, 0};
  const std::vector<float> q = {0, -2000};
  EXPECT_NEAR(kl_divergence(p, q), std::log(0.5) + 1000.0, 1e-9);
}

TEST(Fidelity, NegativeLogLikelihoodAndMaxDifference) {
  const std::vector<float> logits = {0, static_cast<float>(kLn3)};
  EXPECT_NEAR(negative_log_likelihood(logits, 1), std::log(4.0 / 3.0), 1e-7);
  EXPECT_NEAR(negative_log_likelihood(logits, 0), std::log(4.0), 1e-7);
  EXPECT_THROW(negative_log_likelihood(logits, 2), Error);
  const std::vector<float> a = {1, -2, 3};
  const std::vector<float> b = {1.5f, -4, 3};
  EXPECT_DOUBLE_EQ(max_abs_difference(a, b), 2.0);
  EXPECT_THROW(max_abs_difference(a, logits), Error);
}

TEST(FidelityAccumulator, IdenticalStreamsAgreeFullyWithZeroKl) {
  FidelityAccumulator acc(4);
  const std::vector<std::vector<float>> stream = {{1, 2, 3, 4}, {4, 3, 2, 1}, {0, 9, -9, 0}};
  for (size_t i = 0; i < stream.size(); ++i) acc.add(stream[i], stream[i], static_cast<int32_t>(i));
  const FidelitySummary s = acc.summary();
  EXPECT_EQ(s.positions, 3);
  EXPECT_EQ(s.top1_matches, 3);
  EXPECT_EQ(s.top1_agreement(), 1.0);
  EXPECT_EQ(s.first_disagreement, -1);
  EXPECT_EQ(s.mean_kl, 0.0);
  EXPECT_EQ(s.max_kl, 0.0);
  EXPECT_EQ(s.max_abs_logit_diff, 0.0);
  EXPECT_EQ(s.scored, 3);
  EXPECT_EQ(s.reference_perplexity, s.candidate_perplexity);
}

TEST(FidelityAccumulator, PerplexityOfAUniformDistributionIsTheVocabularySize) {
  const int64_t n_vocab = 512;
  FidelityAccumulator acc(n_vocab);
  const std::vector<float> uniform(n_vocab, 7.5f);
  for (int32_t token : {0, 17, 511}) acc.add(uniform, uniform, token);
  const FidelitySummary s = acc.summary();
  EXPECT_NEAR(s.reference_perplexity, 512.0, 1e-9);
  EXPECT_NEAR(s.candidate_perplexity, 512.0, 1e-9);
}

TEST(FidelityAccumulator, MeansAgreementAndPerplexityOverPositions) {
  FidelityAccumulator acc(2);
  const std::vector<float> half = {0, 0};
  const std::vector<float> quarter = {0, static_cast<float>(kLn3)};  // (1/4, 3/4)
  const std::vector<float> flipped = {static_cast<float>(kLn3), 0};  // (3/4, 1/4)
  acc.add(quarter, quarter, 0);   // both p(next) = 1/4
  acc.add(quarter, quarter, 1);   // both 3/4
  acc.add(quarter, flipped, -1);  // top-1 differs; not scored
  acc.add(half, quarter, -1);     // tie at 0 vs 1: differs
  const FidelitySummary s = acc.summary();
  EXPECT_EQ(s.positions, 4);
  EXPECT_EQ(s.top1_matches, 2);
  EXPECT_DOUBLE_EQ(s.top1_agreement(), 0.5);
  EXPECT_EQ(s.first_disagreement, 2);
  EXPECT_EQ(s.scored, 2);
  // exp((ln 4 + ln 4/3) / 2) = sqrt(16/3)
  EXPECT_NEAR(s.reference_perplexity, std::sqrt(16.0 / 3.0), 1e-6);
  EXPECT_NEAR(s.candidate_perplexity, std::sqrt(16.0 / 3.0), 1e-6);
  // KL(quarter || flipped) = 1/4 ln(1/3) + 3/4 ln 3 = 1/2 ln 3; KL(half || quarter) = 1/2 ln(4/3).
  const double kl_flip = 0.5 * kLn3;
  const double kl_half = 0.5 * std::log(4.0 / 3.0);
  EXPECT_NEAR(s.mean_kl, (kl_flip + kl_half) / 4, 1e-6);
  EXPECT_NEAR(s.max_kl, kl_flip, 1e-6);
  EXPECT_NEAR(s.max_abs_logit_diff, kLn3, 1e-6);
}

TEST(FidelityAccumulator, RejectsWrongSizesAndTokens) {
  FidelityAccumulator acc(3);
  const std::vector<float> three = {1, 2, 3};
  const std::vector<float> two = {1, 2};
  EXPECT_THROW(acc.add(three, two, 0), Error);
  EXPECT_THROW(acc.add(three, three, 3), Error);
  EXPECT_THROW(acc.add(three, three, -2), Error);
  EXPECT_THROW(FidelityAccumulator(0), Error);
  EXPECT_EQ(acc.summary().positions, 0);
  EXPECT_EQ(acc.summary().reference_perplexity, 0.0);
}

TEST(DecodeCost, IsTheDifferenceOfTwoSnapshots) {
  EngineStats before, after;
  before.decode_tokens = 3;
  before.decode_seconds = 1.0;
  before.flash_bytes_read = 1000;
  before.flash_read_requests = 4;
  after.decode_tokens = 7;
  after.decode_seconds = 3.0;
  after.flash_bytes_read = 9000;
  after.flash_read_requests = 12;
  before.sparse_tokens = 3;
  before.sparse_neurons_predicted = 100;
  before.sparse_bytes_read = 500;
  after.sparse_tokens = 7;
  after.sparse_neurons_predicted = 300;
  after.sparse_neurons_loaded = 40;
  after.sparse_neuron_hits = 160;
  after.sparse_bytes_read = 8500;
  after.sparse_ffn_bytes_per_token = 20000;
  before.sparse_ffn_bytes_per_token = 20000;
  DecodeCost cost = decode_cost_between(before, after);
  EXPECT_EQ(cost.sparse_tokens, 4);
  EXPECT_DOUBLE_EQ(cost.per_sparse_token(cost.neurons_predicted), 50.0);
  EXPECT_DOUBLE_EQ(cost.per_sparse_token(cost.neurons_loaded), 10.0);
  EXPECT_DOUBLE_EQ(cost.per_sparse_token(cost.neuron_hits), 40.0);
  EXPECT_EQ(cost.ffn_bytes_per_token, 20000u);
  EXPECT_DOUBLE_EQ(cost.ffn_fraction_read(), 0.1);  // 2000 of 20000 bytes per token
  EXPECT_EQ(cost.tokens, 4);
  EXPECT_DOUBLE_EQ(cost.bytes_per_token(), 2000.0);
  EXPECT_DOUBLE_EQ(cost.requests_per_token(), 2.0);
  EXPECT_DOUBLE_EQ(cost.tokens_per_second(), 2.0);
  cost += cost;
  EXPECT_EQ(cost.tokens, 8);
  EXPECT_EQ(cost.bytes_read, 16000u);
  EXPECT_EQ(cost.sparse_tokens, 8);
  EXPECT_EQ(cost.ffn_bytes_per_token, 20000u);  // a size: not summed
  EXPECT_DOUBLE_EQ(cost.ffn_fraction_read(), 0.1);
  EXPECT_EQ(DecodeCost{}.bytes_per_token(), 0.0);
}

// ---- the runner, on a real model -----------------------------------------------

const std::filesystem::path kStories = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";

std::unique_ptr<Engine> load_stories(int64_t context = 0) {
  EngineOptions options;
  options.model_path = kStories;
  options.threads = 1;
  options.context = context;
  return Engine::load(options);
}

std::vector<int32_t> story_tokens(const Engine& engine) {
  return engine.tokenize("Once upon a time, there was a little girl named Lily. She loved to play outside.", true);
}

TEST(CompareEngines, DenseAgainstDenseIsExact) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  auto reference = load_stories();
  auto candidate = load_stories();
  const std::vector<int32_t> tokens = story_tokens(*reference);
  ASSERT_GT(tokens.size(), 10u);
  const FidelityReport r = compare_engines(*reference, *candidate, tokens, {});
  EXPECT_EQ(r.windows, 1);
  EXPECT_EQ(r.fidelity.positions, static_cast<int64_t>(tokens.size()) - 1);
  EXPECT_EQ(r.fidelity.scored, r.fidelity.positions);
  EXPECT_EQ(r.fidelity.top1_agreement(), 1.0);
  EXPECT_EQ(r.fidelity.mean_kl, 0.0);
  EXPECT_EQ(r.fidelity.max_abs_logit_diff, 0.0);
  EXPECT_EQ(r.fidelity.reference_perplexity, r.fidelity.candidate_perplexity);
  // A trained model predicts its own kind of text far better than chance.
  EXPECT_GT(r.fidelity.reference_perplexity, 1.0);
  EXPECT_LT(r.fidelity.reference_perplexity, 50.0);
  // Everything after the one prefilled token was decoded; dense reads nothing.
  EXPECT_EQ(r.candidate_cost.tokens, static_cast<int64_t>(tokens.size()) - 2);
  EXPECT_EQ(r.reference_cost.tokens, r.candidate_cost.tokens);
  EXPECT_EQ(r.candidate_cost.bytes_read, 0u);
}

TEST(CompareEngines, PerplexityIsTheTextsNegativeLogLikelihood) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  auto reference = load_stories();
  auto candidate = load_stories();
  const std::vector<int32_t> tokens = story_tokens(*reference);
  const FidelityReport r = compare_engines(*reference, *candidate, tokens, {});
  // The same sum, computed step by step here.
  reference->reset();
  double nll = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    nll += negative_log_likelihood(reference->decode(tokens[i]), tokens[i + 1]);
  }
  EXPECT_NEAR(r.fidelity.reference_perplexity, std::exp(nll / static_cast<double>(tokens.size() - 1)), 1e-3);
}

TEST(CompareEngines, CutsTheTextIntoWindowsThatRestartWithTheStartToken) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  auto reference = load_stories(16);
  auto candidate = load_stories(16);
  std::vector<int32_t> tokens = story_tokens(*reference);
  tokens.resize(20);  // 19 inputs
  std::vector<int64_t> progress;
  FidelityRunOptions options;
  options.window = 8;
  options.prefill_tokens = 3;
  options.window_start_token = reference->model().bos_id;
  options.progress = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 19);
    progress.push_back(done);
  };
  const FidelityReport r = compare_engines(*reference, *candidate, tokens, options);
  // Windows of 8, 1 + 7 and 1 + 4 inputs; each compares its last prefill
  // position and every decoded one: 6 + 5 + 2.
  EXPECT_EQ(r.windows, 3);
  EXPECT_EQ(progress, (std::vector<int64_t>{8, 15, 19}));
  EXPECT_EQ(r.fidelity.positions, 13);
  EXPECT_EQ(r.candidate_cost.tokens, 5 + 4 + 1);
  EXPECT_EQ(r.fidelity.top1_agreement(), 1.0);
  EXPECT_EQ(r.fidelity.mean_kl, 0.0);
}

TEST(CompareEngines, RejectsWhatCannotBeCompared) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  auto reference = load_stories(16);
  auto candidate = load_stories(16);
  const std::vector<int32_t> one = {1};
  EXPECT_THROW(compare_engines(*reference, *candidate, one, {}), Error);
  const std::vector<int32_t> tokens = {1, 400, 401};
  FidelityRunOptions too_wide;
  too_wide.window = 17;
  EXPECT_THROW(compare_engines(*reference, *candidate, tokens, too_wide), Error);
  FidelityRunOptions no_prefill;
  no_prefill.prefill_tokens = 0;
  EXPECT_THROW(compare_engines(*reference, *candidate, tokens, no_prefill), Error);
  FidelityRunOptions only_start;
  only_start.window = 1;
  only_start.window_start_token = 1;
  EXPECT_THROW(compare_engines(*reference, *candidate, tokens, only_start), Error);
  const std::vector<int32_t> out_of_range = {1, 4000};
  EXPECT_THROW(compare_engines(*reference, *candidate, out_of_range, {}), Error);
}

}  // namespace
}  // namespace sieve::sparse
