// The BF16 GEMM (gemm_bf16.h) on CPUs with AVX512-BF16: its activation
// rounding equals the scalar round-to-nearest-even conversion, and the packed
// kernel and matmat's BF16 path equal a scalar reference of the same
// arithmetic (BF16 weights times BF16-rounded activations, summed in double)
// within float rounding, on shapes that are not whole register blocks: rows
// not a multiple of 16, k not a multiple of 32 (odd too), 8..70 vectors.

#include "tensor/gemm_bf16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/matmul.h"

namespace sieve::tensor {
namespace {

// The table with the BF16 GEMM, or nullptr when this CPU lacks AVX512-BF16.
const KernelTable* bf16_table() {
  if (!isa_available(Isa::Avx512)) return nullptr;
  const KernelTable& k = kernels_for(Isa::Avx512);
  return k.gemm_bf16 != nullptr ? &k : nullptr;
}

#define REQUIRE_BF16_TABLE(k)                                                        \
  const KernelTable* k = bf16_table();                                               \
  if (k == nullptr) GTEST_SKIP() << "this CPU has no AVX512-BF16 (or no AVX-512)"

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(gen);
  return v;
}

// Rows of k BF16 values `stride` values apart; the gap holds NaNs, so a
// kernel reading past a row would poison its result.
std::vector<uint16_t> random_bf16_rows(int64_t n_rows, int64_t k, int64_t stride, uint32_t seed) {
  std::vector<uint16_t> rows(static_cast<size_t>(n_rows * stride), 0x7fc0);
  const std::vector<float> values = random_floats(static_cast<size_t>(n_rows * k), seed);
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t i = 0; i < k; ++i) rows[static_cast<size_t>(r * stride + i)] = fp32_to_bf16(values[r * k + i]);
  }
  return rows;
}

struct Expected {
  double sum = 0, magnitude = 0;
};

// The same arithmetic in double: BF16 weight times the BF16-rounded activation.
Expected reference(const uint16_t* row, const float* x, int64_t k) {
  Expected e;
  for (int64_t i = 0; i < k; ++i) {
    const double p = static_cast<double>(bf16_to_fp32(row[i])) * bf16_to_fp32(fp32_to_bf16(x[i]));
    e.sum += p;
    e.magnitude += std::fabs(p);
  }
  return e;
}

std::string shape(int64_t rows, int64_t k, int64_t vectors) {
  return "rows " + std::to_string(rows) + " k " + std::to_string(k) + " vectors " + std::to_string(vectors);
}

TEST(GemmBf16, RegisteredExactlyWhenTheCpuHasAvx512Bf16) {
  if (!isa_available(Isa::Avx512)) GTEST_SKIP() << "no AVX-512";
  const KernelTable& k = kernels_for(Isa::Avx512);
  const bool has = detail::cpu_extras().avx512_bf16;
  EXPECT_EQ(k.gemm_bf16 != nullptr, has);
  EXPECT_EQ(k.round_bf16 != nullptr, has);
  EXPECT_EQ(k[TensorType::BF16].pack_bf16 != nullptr, has);
  EXPECT_EQ(k[TensorType::F16].pack_bf16, nullptr);  // F16 keeps its 11-bit mantissa: float GEMM
  EXPECT_EQ(kernels_for(Isa::Avx2).gemm_bf16, nullptr);
}

TEST(GemmBf16, ActivationRoundingIsNearestEvenAndPadsWithZero) {
  REQUIRE_BF16_TABLE(k);
  // Halfway cases both ways, just above/below halfway, infinities, NaN, and normals.
  std::vector<float> x = {std::bit_cast<float>(0x3f808000u), std::bit_cast<float>(0x3f818000u),
                          std::bit_cast<float>(0x3f808001u), std::bit_cast<float>(0x3f807fffu),
                          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 65504.0f, -1.0e-30f, 3.0e38f};
  const std::vector<float> more = random_floats(60, 5);
  x.insert(x.end(), more.begin(), more.end());
  for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 63, 70}) {
    std::vector<uint16_t> out(static_cast<size_t>(n + 3), 0xabcd);
    k->round_bf16(x.data(), out.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(out[static_cast<size_t>(i)], fp32_to_bf16(x[static_cast<size_t>(i)])) << "n " << n << " value " << i;
    }
    const int64_t padded = (n + 1) / 2 * 2;
    if (padded > n) {
      EXPECT_EQ(out[static_cast<size_t>(n)], 0) << "n " << n << ": the pad of an odd count";
    }
    for (int64_t i = padded; i < n + 3; ++i) EXPECT_EQ(out[static_cast<size_t>(i)], 0xabcd) << "n " << n << " wrote " << i;
  }
}

// Packs the rows with the table's packer and runs its kernel directly;
// y has room for `y_pad` more rows per vector, which must stay untouched.
void check_kernel(const KernelTable& k, int64_t n_rows, int64_t kk, int64_t n_vectors, uint32_t seed) {
  const int64_t stride = kk + 5, y_pad = 3, ldy = n_rows + y_pad;
  const std::vector<uint16_t> rows = random_bf16_rows(n_rows, kk, stride, seed);
  const std::vector<float> x = random_floats(static_cast<size_t>(n_vectors * kk), seed + 1);
  const size_t x_stride = static_cast<size_t>(bf16_pairs(kk) * 2);
  std::vector<uint16_t> rounded(x_stride * static_cast<size_t>(n_vectors));
  for (int64_t j = 0; j < n_vectors; ++j) k.round_bf16(x.data() + j * kk, rounded.data() + j * x_stride, kk);
  const size_t group_bytes = bf16_group_bytes(kk);
  const int64_t n_groups = (n_rows + kBf16GroupRows - 1) / kBf16GroupRows;
  std::vector<std::byte> packed(group_bytes * static_cast<size_t>(n_groups));
  for (int64_t g = 0; g < n_groups; ++g) {
    k[TensorType::BF16].pack_bf16(rows.data() + g * kBf16GroupRows * stride, static_cast<size_t>(stride) * 2,
                                  std::min(kBf16GroupRows, n_rows - g * kBf16GroupRows), kk,
                                  packed.data() + static_cast<size_t>(g) * group_bytes);
  }
  constexpr float kUntouched = -12345.0f;
  std::vector<float> y(static_cast<size_t>(n_vectors * ldy), kUntouched);
  Bf16GemmTask t;
  t.groups = packed.data();
  t.group_bytes = group_bytes;
  t.n_rows = n_rows;
  t.k = kk;
  t.x = rounded.data();
  t.x_stride = x_stride;
  t.n_vectors = n_vectors;
  t.y = y.data();
  t.ldy = ldy;
  k.gemm_bf16(t);
  for (int64_t j = 0; j < n_vectors; ++j) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[static_cast<size_t>(j * ldy + r)];
      if (r >= n_rows) {
        ASSERT_EQ(got, kUntouched) << shape(n_rows, kk, n_vectors) << ": wrote padding row " << r;
        continue;
      }
      const Expected e = reference(rows.data() + r * stride, x.data() + j * kk, kk);
      ASSERT_NEAR(got, e.sum, 1e-5 * e.magnitude + 1e-30) << shape(n_rows, kk, n_vectors) << ": vector " << j << " row " << r;
    }
  }
}

TEST(GemmBf16, KernelMatchesScalarReferenceOnOddShapes) {
  REQUIRE_BF16_TABLE(k);
  uint32_t seed = 1;
  for (int64_t n_rows : {1, 15, 16, 17, 63, 65, 100}) {
    for (int64_t kk : {1, 2, 7, 8, 9, 31, 33, 100, 1030, 1537}) {
      for (int64_t n_vectors : {1, 5, 6, 8, 13, 70}) check_kernel(*k, n_rows, kk, n_vectors, seed++);
    }
  }
}

// matmat's BF16 path, threads and slots included, against the same reference.
TEST(GemmBf16, MatmatMatchesScalarReferenceOnOddShapes) {
  REQUIRE_BF16_TABLE(k);
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(3)};
  MatmulScratch scratch;
  uint32_t seed = 100;
  for (int64_t n_rows : {7, 33, 301}) {
    for (int64_t kk : {30, 999, 2050}) {
      const int64_t stride = kk + 8;
      const std::vector<uint16_t> rows = random_bf16_rows(n_rows, kk, stride, seed++);
      const MatrixView w{rows.data(), TensorType::BF16, n_rows, kk, static_cast<size_t>(stride) * 2};
      for (int64_t n_vectors : {8, 21, 70}) {
        const std::vector<float> x = random_floats(static_cast<size_t>(n_vectors * kk), seed++);
        for (ThreadPool& pool : pools) {
          std::vector<float> y(static_cast<size_t>(n_vectors * n_rows), -1.0f);
          matmat(w, x.data(), n_vectors, y.data(), pool, scratch, *k);
          for (int64_t j = 0; j < n_vectors; ++j) {
            for (int64_t r = 0; r < n_rows; ++r) {
              const Expected e = reference(rows.data() + r * stride, x.data() + j * kk, kk);
              ASSERT_NEAR(y[static_cast<size_t>(j * n_rows + r)], e.sum, 1e-5 * e.magnitude + 1e-30)
                  << shape(n_rows, kk, n_vectors) << " threads " << pool.size() << ": vector " << j << " row " << r;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sieve::tensor
