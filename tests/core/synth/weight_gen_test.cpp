// Counter-based weight values and the float encoders.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

#include "synth/weight_gen.h"
#include "tensor/fp16.h"

namespace sieve::synth {
namespace {

using tensor::TensorType;

TEST(RowGenerator, ValuesHaveTheRequestedMeanAndSpread) {
  const RowGenerator gen(7, 3, WeightDistribution{0.5f, 2.0f});
  std::vector<float> row(1 << 16);
  double sum = 0, sum_sq = 0, sum_4 = 0;
  for (uint64_t r = 0; r < 8; ++r) {
    gen.fill_row(r, row);
    for (float v : row) {
      const double c = v - 0.5;
      sum += v;
      sum_sq += c * c;
      sum_4 += c * c * c * c;
    }
  }
  const double n = 8.0 * row.size();
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  const double var = sum_sq / n;
  EXPECT_NEAR(std::sqrt(var), 2.0, 0.01);
  // Irwin-Hall(4) has kurtosis 3 - 6/(5*4) = 2.7, close to the normal's 3.
  EXPECT_NEAR(sum_4 / n / (var * var), 2.7, 0.05);
  // Rows and tensors differ; a row is reproducible.
  std::vector<float> a(64), b(64), c(64);
  gen.fill_row(1, a);
  gen.fill_row(2, b);
  RowGenerator(7, 4, WeightDistribution{0.5f, 2.0f}).fill_row(1, c);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  gen.fill_row(2, c);
  EXPECT_EQ(b, c);
}

TEST(EncodeRow, HalfConversionIsBitIdenticalToTheScalarReference) {
  // Every 61st float bit pattern covers each exponent (normal, subnormal, zero,
  // overflow, infinity, NaN) many times over.
  std::vector<float> src(1 << 16);
  std::vector<uint16_t> got(src.size());
  uint64_t checked = 0;
  for (uint64_t start = 0; start < (uint64_t{1} << 32); start += 61 * src.size()) {
    size_t n = 0;
    for (uint64_t bits = start; n < src.size() && bits < (uint64_t{1} << 32); bits += 61) {
      src[n++] = std::bit_cast<float>(static_cast<uint32_t>(bits));
    }
    encode_row(TensorType::F16, src.data(), got.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(got[i], tensor::fp32_to_fp16(src[i])) << "bits 0x" << std::hex
                                                      << std::bit_cast<uint32_t>(src[i]);
    }
    checked += n;
  }
  EXPECT_GT(checked, 70000000u);
  const float edges[] = {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, 6.1035156e-05f, 6.1035153e-05f,
                         5.9604645e-08f, 2.9802322e-08f, std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  uint16_t out[std::size(edges)];
  encode_row(TensorType::F16, edges, out, static_cast<int64_t>(std::size(edges)));
  for (size_t i = 0; i < std::size(edges); ++i) EXPECT_EQ(out[i], tensor::fp32_to_fp16(edges[i])) << edges[i];
}

TEST(EncodeRow, FloatTypesNeedNoKernelAndF32IsACopy) {
  const std::vector<float> src = {1.5f, -2.25f, 3.0e-3f, 1.0e20f};
  EXPECT_TRUE(can_encode(TensorType::F32));
  EXPECT_TRUE(can_encode(TensorType::F16));
  EXPECT_TRUE(can_encode(TensorType::BF16));
  std::vector<float> f32(src.size());
  encode_row(TensorType::F32, src.data(), f32.data(), 4);
  EXPECT_EQ(f32, src);
  std::vector<uint16_t> bf16(src.size());
  encode_row(TensorType::BF16, src.data(), bf16.data(), 4);
  for (size_t i = 0; i < src.size(); ++i) EXPECT_EQ(bf16[i], tensor::fp32_to_bf16(src[i]));
}

}  // namespace
}  // namespace sieve::synth
