#include "tensor/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sieve::tensor {
namespace {

TEST(Fp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), h) << std::hex << h;
  }
}

TEST(Fp16, RoundsToNearestEven) {
  EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(1.0f + 1.0f / 2048)), 1.0f);             // tie -> even
  EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);  // tie -> even (up)
  EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(70000.0f)), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(65504.0f)), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(1e-9f)), 0.0f);
  EXPECT_NEAR(fp16_to_fp32(fp32_to_fp16(6.0e-8f)), 5.96e-8f, 1e-9f);  // smallest subnormal
}

TEST(Bf16, TruncatesWithRounding) {
  EXPECT_EQ(bf16_to_fp32(fp32_to_bf16(1.0f)), 1.0f);
  EXPECT_EQ(bf16_to_fp32(fp32_to_bf16(-2.5f)), -2.5f);
  EXPECT_NEAR(bf16_to_fp32(fp32_to_bf16(3.14159f)), 3.14159f, 0.02f);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace sieve::tensor
