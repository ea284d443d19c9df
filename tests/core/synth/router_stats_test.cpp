// The routers of synthetic Mixture-of-Experts models, measured through the
// engine's own transformer and router: how the expert choices spread over the
// experts, and how many of a token's experts the previous token also chose.
// The even router spreads choices (the expert cache's worst case); the skewed
// one concentrates them on a few popular experts per layer, and consecutive
// tokens share more of their experts. The figures are printed for the docs.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "core/synth/synth_test_util.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/moe_feed_forward.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace sieve::synth {
namespace {

using testing::ScratchDir;

// Every expert in RAM, and a note of which ones each token chose per layer.
class RecordingExperts final : public model::ExpertSource {
 public:
  RecordingExperts(const model::HyperParams& hp, const model::ModelWeights& weights)
      : inner_(hp, weights), choices_(static_cast<size_t>(hp.n_layers)) {}
  int64_t capacity() const override { return inner_.capacity(); }
  // Tokens run one at a time, so each request names one token's experts.
  void request(int layer, std::span<const int32_t> experts, std::span<model::ExpertMatrices> out,
               std::span<uint8_t> ready) override {
    choices_[static_cast<size_t>(layer)].emplace_back(experts.begin(), experts.end());
    inner_.request(layer, experts, out, ready);
  }
  void wait(int layer, std::span<const int32_t> experts, std::span<model::ExpertMatrices> out) override {
    inner_.wait(layer, experts, out);
  }
  // [layer][token] -> the chosen experts
  const std::vector<std::vector<std::vector<int32_t>>>& choices() const { return choices_; }

 private:
  model::StackedExperts inner_;
  std::vector<std::vector<std::vector<int32_t>>> choices_;
};

struct RoutingStats {
  double top_tenth_share = 0;    // choices that went to the top 10% of experts, per layer, averaged
  double previous_overlap = 0;   // fraction of a token's experts the previous token also chose
  double independent_overlap = 0;  // the same for independent tokens with these marginals
};

RoutingStats measure(const std::filesystem::path& path, const std::vector<int32_t>& tokens) {
  const gguf::GgufFile file = gguf::GgufFile::open(path);
  const model::HyperParams hp = model::read_hyper_params(file);
  const model::ModelWeights weights = model::load_weights(file, hp);
  ThreadPool pool(1);
  RecordingExperts experts(hp, weights);
  model::MoeFeedForward ffn(hp, weights, pool, experts, 1);
  model::Transformer transformer(hp, weights, ffn, pool, static_cast<int64_t>(tokens.size()) + 1, 1);
  for (size_t i = 0; i < tokens.size(); ++i) transformer.forward(&tokens[i], 1, static_cast<int64_t>(i));
  RoutingStats stats;
  const auto k = static_cast<double>(hp.n_experts_used);
  const size_t top = std::max<size_t>(1, static_cast<size_t>(hp.n_experts) / 10);
  for (const auto& layer : experts.choices()) {
    std::vector<double> counts(static_cast<size_t>(hp.n_experts), 0.0);
    double shared = 0;
    for (size_t t = 0; t < layer.size(); ++t) {
      for (int32_t e : layer[t]) counts[static_cast<size_t>(e)] += 1;
      if (t == 0) continue;
      for (int32_t e : layer[t]) {
        shared += std::count(layer[t - 1].begin(), layer[t - 1].end(), e);
      }
    }
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    std::vector<double> sorted = counts;
    std::sort(sorted.rbegin(), sorted.rend());
    stats.top_tenth_share += std::accumulate(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(top), 0.0) / total;
    stats.previous_overlap += shared / (k * static_cast<double>(layer.size() - 1));
    // Independent tokens choosing expert e with probability pi_e = count / tokens share sum(pi_e^2) / k.
    double sum_sq = 0;
    for (double c : counts) sum_sq += (c / static_cast<double>(layer.size())) * (c / static_cast<double>(layer.size()));
    stats.independent_overlap += sum_sq / k;
  }
  const auto layers = static_cast<double>(experts.choices().size());
  stats.top_tenth_share /= layers;
  stats.previous_overlap /= layers;
  stats.independent_overlap /= layers;
  return stats;
}

constexpr const char* kText =
    "Once upon a time there was a little girl who lived in a village near the forest. Whenever she "
    "went out, the little girl wore a red riding cloak, so everyone in the village called her Little "
    "Red Riding Hood. One morning, Little Red Riding Hood asked her mother if she could go to visit "
    "her grandmother as it had been awhile since they'd seen each other.";

// English text through the byte vocabulary (<0xXX> is token 3 + XX).
std::vector<int32_t> text_tokens() {
  std::vector<int32_t> out;
  for (const char c : std::string(kText)) out.push_back(3 + static_cast<unsigned char>(c));
  return out;
}

// As many bytes drawn uniformly: no letter frequencies, no repetition.
std::vector<int32_t> random_tokens() {
  std::vector<int32_t> out;
  uint64_t state = 12345;
  for (size_t i = 0; i < std::string(kText).size(); ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out.push_back(3 + static_cast<int32_t>(state >> 56));
  }
  return out;
}

SynthSpec routing_spec(RouterKind router, double skew) {
  SynthSpec spec;
  spec.shape = *shape_preset("qwen3-30b-a3b");
  spec.shape.dim = 256;
  spec.shape.n_layers = 8;
  spec.shape.n_heads = 4;
  spec.shape.n_kv_heads = 2;
  spec.shape.head_dim = 64;
  spec.shape.context_length = 512;
  spec.shape.n_experts = 32;
  spec.shape.n_experts_used = 4;
  spec.shape.n_ff_expert = 128;
  spec.type = "f16";
  spec.router = router;
  spec.router_skew = skew;
  spec.seed = 3;
  spec.threads = 2;
  return spec;
}

RoutingStats measure_router(RouterKind router, double skew, bool text = true) {
  ScratchDir dir;
  write_synthetic_model(routing_spec(router, skew), dir.file("r.gguf"));
  const RoutingStats s = measure(dir.file("r.gguf"), text ? text_tokens() : random_tokens());
  std::printf("router %-6s skew %.2f, %s: top 10%% of experts take %.1f%% of choices; the previous token chose "
              "%.1f%% of a token's experts (tokens independent with these frequencies: %.1f%%)\n",
              std::string(router_name(router)).c_str(), skew, text ? "text  " : "random", 100 * s.top_tenth_share,
              100 * s.previous_overlap, 100 * s.independent_overlap);
  return s;
}

TEST(SynthRouter, EvenRouterSpreadsChoices) {
  // 32 experts, top 3 of them: 3/32 = 9.4% when perfectly even (about 13%
  // here: 352 tokens of sampling noise lift the top); the same in every layer
  // of 8 thanks to the residual scaling (model_plan.cpp). (On text the byte frequencies show through:
  // the first layer routes each byte alike, and a few bytes are most of English.)
  const RoutingStats even = measure_router(RouterKind::Even, 0, /*text=*/false);
  EXPECT_LT(even.top_tenth_share, 0.18);
  EXPECT_LT(even.previous_overlap, 0.2);
  measure_router(RouterKind::Even, 0, /*text=*/true);
}

TEST(SynthRouter, SkewedRouterConcentratesChoicesAndConsecutiveTokensShareExperts) {
  const RoutingStats even = measure_router(RouterKind::Even, 0);
  const RoutingStats skewed = measure_router(RouterKind::Skewed, 1.0);
  EXPECT_GT(skewed.top_tenth_share, 0.3);
  EXPECT_GT(skewed.top_tenth_share, 2 * even.top_tenth_share);
  EXPECT_GT(skewed.previous_overlap, 2 * even.previous_overlap);
  // Stronger skew, more concentration.
  // More than popularity: consecutive tokens share more experts than
  // independent tokens with the same expert frequencies would.
  EXPECT_GT(skewed.previous_overlap, skewed.independent_overlap + 0.03);
  const RoutingStats random = measure_router(RouterKind::Skewed, 1.0, /*text=*/false);
  EXPECT_GT(random.top_tenth_share, 0.3);
  // Stronger skew, more concentration.
  const RoutingStats strong = measure_router(RouterKind::Skewed, 2.0);
  EXPECT_GT(strong.top_tenth_share, skewed.top_tenth_share);
  measure_router(RouterKind::Skewed, 0.5);
}

}  // namespace
}  // namespace sieve::synth
