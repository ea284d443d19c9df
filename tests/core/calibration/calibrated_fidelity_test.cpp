// Which tokens `sieve calibrate` measures sparse fidelity on: never ones the
// predictors were trained on or had their thresholds set with.

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "calibration/calibrated_fidelity.h"
#include "calibration/predictor_training.h"

namespace sieve::sparse {
namespace {

std::vector<int32_t> sequence(int n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(HeldOutTokens, PrefersTokensRunAfterRecordingStopped) {
  const auto ran = sequence(5000);
  const auto held = held_out_tokens(ran, 4096, 256);
  ASSERT_EQ(held.size(), 256u);
  EXPECT_EQ(held.front(), 4096);
  EXPECT_EQ(held.back(), 4096 + 255);
}

TEST(HeldOutTokens, ElseTheRecordedTokensKeptForMeasuringOnly) {
  const auto ran = sequence(1500);
  const Split split = split_tokens(1500);
  const auto held = held_out_tokens(ran, 1500, 256);
  ASSERT_EQ(held.size(), static_cast<size_t>(split.total - split.threshold_end));
  EXPECT_EQ(held.front(), split.threshold_end);  // after training's and thresholds' tokens
  EXPECT_EQ(held.back(), 1499);
  // A few tokens past recording (under kMinHeldOut) are not enough on their own.
  const auto ran_more = sequence(1500 + static_cast<int>(kMinHeldOut) - 1);
  EXPECT_EQ(held_out_tokens(ran_more, 1500, 256).front(), split.threshold_end);
}

TEST(HeldOutTokens, RespectsTheLimitAndOddInput) {
  const auto ran = sequence(1000);
  EXPECT_EQ(held_out_tokens(ran, 1000, 10).size(), 10u);
  EXPECT_TRUE(held_out_tokens(ran, 1000, 0).empty());
  EXPECT_TRUE(held_out_tokens({}, 0, 256).empty());
  EXPECT_LE(held_out_tokens(ran, 5000, 256).size(), 256u);  // recorded clamped to what ran
}

}  // namespace
}  // namespace sieve::sparse
