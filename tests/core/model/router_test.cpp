// model::route_token: the experts a Mixture-of-Experts router picks and
// their weights; and an MoE model refused by the packer with a clear error.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "flash/pack_writer.h"
#include "model/router.h"
#include "util/error.h"

namespace sieve::model {
namespace {

TEST(Router, PicksTheMostProbableFirstWithSoftmaxWeights) {
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 2.0f, 3.0f};
  std::vector<ExpertChoice> choice(3);
  route_token(logits, ExpertGating::SoftmaxAll, /*normalize=*/false, choice);
  EXPECT_EQ(choice[0].expert, 1);  // a tie goes to the lower id
  EXPECT_EQ(choice[1].expert, 4);
  EXPECT_EQ(choice[2].expert, 3);
  double sum = 0;
  for (const float l : {0.5, 3.0, -1.0, 2.0, 3.0}) sum += std::exp(l);
  EXPECT_NEAR(choice[0].weight, std::exp(3.0) / sum, 1e-6);
  EXPECT_NEAR(choice[2].weight, std::exp(2.0) / sum, 1e-6);
}

TEST(Router, NormalisedWeightsSumToOne) {
  std::vector<float> logits = {0.1f, -0.3f, 0.7f, 0.2f};
  std::vector<ExpertChoice> choice(2);
  route_token(logits, ExpertGating::SoftmaxAll, /*normalize=*/true, choice);
  EXPECT_EQ(choice[0].expert, 2);
  EXPECT_EQ(choice[1].expert, 3);
  EXPECT_NEAR(choice[0].weight + choice[1].weight, 1.0f, 1e-6f);
  EXPECT_NEAR(choice[0].weight / choice[1].weight, std::exp(0.7 - 0.2), 1e-5);
}

TEST(Router, EveryExpertWhenKIsAll) {
  std::vector<float> logits = {1.0f, 1.0f, 1.0f};
  std::vector<ExpertChoice> choice(3);
  route_token(logits, ExpertGating::SoftmaxAll, true, choice);
  EXPECT_EQ(choice[0].expert, 0);
  EXPECT_EQ(choice[1].expert, 1);
  EXPECT_EQ(choice[2].expert, 2);
  for (const ExpertChoice& c : choice) EXPECT_NEAR(c.weight, 1.0f / 3, 1e-6f);
}

TEST(Router, SoftmaxOverTheChosenLogitsAlone) {
  std::vector<float> logits = {2.0f, -5.0f, 1.0f, 0.0f};
  std::vector<ExpertChoice> choice(2);
  route_token(logits, ExpertGating::SoftmaxChosen, /*normalize=*/false, choice);
  EXPECT_EQ(choice[0].expert, 0);
  EXPECT_EQ(choice[1].expert, 2);
  EXPECT_NEAR(choice[0].weight, 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(choice[0].weight + choice[1].weight, 1.0f, 1e-6f);
}

TEST(ExpertModels, PackingOneIsAClearError) {
  const auto model = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "arch" / "qwen3moe.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
  const auto out = std::filesystem::path(::testing::TempDir()) / "sieve_router_test_qwen3moe.sieve";
  try {
    flash::pack_model(model, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Mixture-of-Experts model (16 experts per layer) cannot be packed yet"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace sieve::model
