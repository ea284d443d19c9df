// Quantized blocks drawn directly from the seeded counter dequantize (with
// the engine's kernels) to values of mean 0 and the requested spread, and a
// row is a pure function of (seed, tensor, row).

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "synth/direct_quant.h"
#include "tensor/kernels.h"

namespace sieve::synth {
namespace {

using tensor::TensorType;

class DirectQuant : public ::testing::TestWithParam<TensorType> {};

TEST_P(DirectQuant, DequantizesToTheRequestedMeanAndSpread) {
  const TensorType type = GetParam();
  for (const float sd : {0.0221f, 0.0361f, 0.0186f}) {  // 1/sqrt(2048), 1/sqrt(768), 1/sqrt(2880)
    const DirectRowGenerator gen(5, 3, {0.0f, sd}, type);
    constexpr int64_t kRow = 2048 + 512 + 256;  // 11 K blocks, 88 legacy blocks
    std::vector<std::byte> bytes(tensor::bytes_for(type, kRow));
    std::vector<float> values(kRow);
    double sum = 0, sum_sq = 0;
    int64_t n = 0;
    int64_t distinct_nonzero = 0;
    for (uint64_t row = 0; row < 64; ++row) {
      gen.fill_row(row, bytes.data(), kRow);
      tensor::kernels()[type].dequantize(bytes.data(), values.data(), kRow);
      for (float v : values) {
        ASSERT_TRUE(std::isfinite(v));
        sum += v;
        sum_sq += static_cast<double>(v) * v;
        distinct_nonzero += v != 0.0f;
        ++n;
      }
    }
    const double mean = sum / static_cast<double>(n);
    const double got_sd = std::sqrt(sum_sq / static_cast<double>(n) - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.02 * sd) << tensor::type_name(type);
    EXPECT_NEAR(got_sd, sd, 0.03 * sd) << tensor::type_name(type);
    EXPECT_GT(distinct_nonzero, n / 2);
  }
}

TEST_P(DirectQuant, SameSeedTensorAndRowSameBytes) {
  const TensorType type = GetParam();
  const int64_t n = 768;
  std::vector<std::byte> a(tensor::bytes_for(type, n)), b(a.size()), c(a.size()), d(a.size());
  DirectRowGenerator(5, 3, {0.0f, 0.03f}, type).fill_row(9, a.data(), n);
  DirectRowGenerator(5, 3, {0.0f, 0.03f}, type).fill_row(9, b.data(), n);
  DirectRowGenerator(5, 3, {0.0f, 0.03f}, type).fill_row(10, c.data(), n);
  DirectRowGenerator(6, 3, {0.0f, 0.03f}, type).fill_row(9, d.data(), n);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
}

INSTANTIATE_TEST_SUITE_P(Types, DirectQuant,
                         ::testing::Values(TensorType::Q4_K, TensorType::Q6_K, TensorType::Q5_0, TensorType::Q8_0,
                                           TensorType::MXFP4),
                         [](const auto& info) { return std::string(tensor::type_name(info.param)); });

TEST(DirectQuant, OnlyTheTypesItKnows) {
  EXPECT_TRUE(can_generate_directly(TensorType::Q4_K));
  EXPECT_FALSE(can_generate_directly(TensorType::Q3_K));
  EXPECT_FALSE(can_generate_directly(TensorType::F16));
}

}  // namespace
}  // namespace sieve::synth
