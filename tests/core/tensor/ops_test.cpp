// Element-wise ops with SIMD kernels behind them: the softmax's exponentials
// (KernelTable::exp_shifted) against std::exp, and softmax against a
// double-precision one; round_to_half against the scalar conversion.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/ops.h"

namespace sieve::tensor {
namespace {

std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Ops, ExpKernelsAreWithinTwoUlpOfStdExp) {
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (!isa_available(isa) || kernels_for(isa).exp_shifted == nullptr) continue;
    // Softmax inputs are x - max <= 0; positive ones and every tail length too.
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{13}, int64_t{4096}}) {
      std::vector<float> x = uniform(static_cast<size_t>(n), -87.0f, 10.0f, 5 + static_cast<uint32_t>(n));
      const std::vector<float> in = x;
      const float shift = 1.5f;
      const float sum = kernels_for(isa).exp_shifted(x.data(), n, shift);
      double want_sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        // The argument as the kernel sees it (x - shift rounded to float).
        const double want = std::exp(double(in[size_t(i)] - shift));
        want_sum += want;
        EXPECT_NEAR(x[size_t(i)], want, 2.5e-7 * want + 1e-37) << isa_name(isa) << " exp(" << in[size_t(i)] << " - 1.5)";
      }
      EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum) << isa_name(isa) << " n " << n;
    }
  }
}

TEST(Ops, SoftmaxMatchesDoublePrecisionAndSumsToOne) {
  for (int64_t n : {int64_t{1}, int64_t{9}, int64_t{1000}, int64_t{32000}}) {
    std::vector<float> x = uniform(static_cast<size_t>(n), -30.0f, 30.0f, 9 + static_cast<uint32_t>(n));
    const std::vector<float> in = x;
    softmax(x.data(), n);
    // Exact exponentials of the float arguments x - max the kernels see.
    float max = in[0];
    double total = 0, sum = 0;
    for (float v : in) max = std::max(max, v);
    for (float v : in) total += std::exp(double(v - max));
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(double(in[size_t(i)] - max)) / total;
      EXPECT_NEAR(x[size_t(i)], want, 1e-6 * want + 1e-30) << "n " << n << " at " << i;
      sum += x[size_t(i)];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << n;
  }
}

TEST(Ops, RoundToHalfIsTheScalarConversion) {
  std::vector<float> x = uniform(1001, -70000.0f, 70000.0f, 3);
  x[0] = 1e-6f;
  x[1] = -3e-8f;
  const std::vector<float> in = x;
  round_to_half(x.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], fp16_to_fp32(fp32_to_fp16(in[i]))) << in[i];
}

}  // namespace
}  // namespace sieve::tensor
