// Kernels of the 3-bit grid types IQ3_XXS and IQ3_S: the grid tables and the
// sign table, block layouts pinned by hand-built blocks, dot products against
// the dequantized dot, every SIMD table against the scalar one (bit for bit:
// the sums are exact integers scaled the same way), and the int8 prefill
// GEMM against decode's vec_dot.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/tensor/block_check_util.h"
#include "tensor/blocks_iq3.h"
#include "tensor/fp16.h"
#include "tensor/gemm_q8.h"
#include "tensor/iq3_grids.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/tensor_type.h"
#include "util/thread_pool.h"

namespace sieve::tensor {
namespace {

using T = TensorType;
using Bytes = std::vector<uint8_t>;

constexpr T kTypes[] = {T::IQ3_XXS, T::IQ3_S};
constexpr int64_t kLengths[] = {256, 512, 768, 4096, 11008 - 11008 % 256};

const KernelTable& scalar() { return kernels_for(Isa::Scalar); }

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

Bytes quantize_q8k(const std::vector<float>& x) {
  Bytes out(bytes_for(T::Q8_K, x.size()));
  scalar()[T::Q8_K].quantize(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

std::vector<float> dequantize(T type, const Bytes& data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  scalar()[type].dequantize(data.data(), out.data(), n);
  return out;
}

// Random bytes with a small sane fp16 d at the start of every block (both
// layouts begin with it): every index, sign and scale bit pattern occurs.
Bytes random_blocks(T type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(bytes_for(type, n));
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> factor(-0.05f, 0.05f);
  for (size_t off = 0; off < out.size(); off += type_info(type).block_bytes) {
    const uint16_t d = fp32_to_fp16(factor(rng));
    std::memcpy(out.data() + off, &d, 2);
  }
  return out;
}

double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
  return s;
}

// ---- tables ----------------------------------------------------------------------

// The grids are format data typed in from the reference: both are sorted and
// use only their type's magnitudes, so a mistyped digit would almost surely
// break one of the two properties.
void expect_sorted_grid(const uint32_t* grid, int size, std::vector<int> magnitudes, const char* name) {
  for (int i = 0; i < size; ++i) {
    if (i > 0) {
      EXPECT_LT(grid[i - 1], grid[i]) << name << " entry " << i;
    }
    for (int k = 0; k < 4; ++k) {
      const int m = static_cast<int>((grid[i] >> (8 * k)) & 0xff);
      EXPECT_NE(std::find(magnitudes.begin(), magnitudes.end(), m), magnitudes.end()) << name << " entry " << i;
    }
  }
}

TEST(Iq3Tables, GridsAreSortedAndUseOnlyTheirMagnitudes) {
  expect_sorted_grid(kIq3xxsGrid, kIq3xxsGridSize, {4, 12, 20, 28, 36, 44, 52, 62}, "IQ3_XXS");
  expect_sorted_grid(kIq3sGrid, kIq3sGridSize, {1, 3, 5, 7, 9, 11, 13, 15}, "IQ3_S");
  EXPECT_EQ(kIq3xxsGrid[0], 0x04040404u);
  EXPECT_EQ(kIq3xxsGrid[255], 0x3e341c04u);
  EXPECT_EQ(kIq3sGrid[0], 0x01010101u);
  EXPECT_EQ(kIq3sGrid[511], 0x0f0f0101u);
}

// The eighth sign makes the count of minus signs even; the seven stored ones
// stay as they are (the reference's ksigns_iq2xs: 0, 129, 130, 3, 132, ...).
TEST(Iq3Tables, EvenSignTableCompletesTheParity) {
  for (unsigned s = 0; s < 128; ++s) {
    EXPECT_EQ(kIqEvenSigns[s] & 127u, s);
    EXPECT_EQ(std::popcount(static_cast<unsigned>(kIqEvenSigns[s])) % 2, 0) << s;
  }
  EXPECT_EQ(kIqEvenSigns[1], 129);
  EXPECT_EQ(kIqEvenSigns[3], 3);
  EXPECT_EQ(kIqEvenSigns[127], 255);
}

// ---- layouts ---------------------------------------------------------------------

TEST(Iq3Layout, BlockSizesMatchTheTypeTable) {
  EXPECT_EQ(sizeof(BlockIQ3XXS), type_info(T::IQ3_XXS).block_bytes);
  EXPECT_EQ(sizeof(BlockIQ3S), type_info(T::IQ3_S).block_bytes);
  for (T type : kTypes) {
    EXPECT_TRUE(type_info(type).computable) << type_name(type);
    const TypeKernels& k = scalar()[type];
    EXPECT_TRUE(k.dequantize && k.vec_dot) << type_name(type);
    EXPECT_EQ(k.quantize, nullptr) << type_name(type) << " is read, not produced";
    EXPECT_EQ(k.dot_type, T::Q8_K);
  }
}

// Sub-block 0: indices 0 (magnitudes 4 4 4 4) and 5 (0x04040c3e: 62 12 4 4),
// stored signs 0000001 for values 0..6 (value 0 negative, so value 7 is
// negative too for an even count), scale ls = 3: factor d * 7 / 4. Sub-block
// 7 reads its own word, scales_signs[28..31], and qs[56..63].
TEST(Iq3Layout, Iq3xxsDecodesGridSignsAndScale) {
  BlockIQ3XXS b{};
  b.d = fp32_to_fp16(0.5f);
  b.qs[1] = 5;
  const uint32_t aux0 = 1u | 3u << 28;
  std::memcpy(b.scales_signs, &aux0, 4);
  b.qs[56] = 255;                     // 0x3e341c04: 4 28 52 62
  const uint32_t aux7 = 0u | 15u << 28 | (2u << 7);  // group 1: value 9 negative, so value 15 too
  std::memcpy(b.scales_signs + 28, &aux7, 4);
  float out[256];
  scalar()[T::IQ3_XXS].dequantize(&b, out, 256);
  const float f0 = 0.5f * 7 / 4;
  const float want0[8] = {-4 * f0, 4 * f0, 4 * f0, 4 * f0, 62 * f0, 12 * f0, 4 * f0, -4 * f0};
  for (int v = 0; v < 8; ++v) EXPECT_EQ(out[v], want0[v]) << v;
  for (int v = 8; v < 32; ++v) EXPECT_EQ(out[v], 4 * f0) << v;  // index 0, no signs
  const float f7 = 0.5f * 31 / 4;
  const float want7[4] = {4 * f7, 28 * f7, 52 * f7, 62 * f7};
  for (int v = 0; v < 4; ++v) EXPECT_EQ(out[224 + v], want7[v]) << v;
  EXPECT_EQ(out[224 + 9], -4 * f7);
  EXPECT_EQ(out[224 + 15], -4 * f7);
  EXPECT_EQ(out[224 + 8], 4 * f7);
  for (int s = 1; s < 7; ++s) EXPECT_EQ(out[32 * s], 0.5f / 4 * 4) << s;  // scale word 0: ls 0, factor d / 4
}

// Sub-block 1, index 2 (values 40..43): low byte qs[10] = 3 and bit 2 of
// qh[1] = index 259 (0x05090903: 3 9 9 5); bit 1 of signs[5] makes value 41
// negative; scale nibble 1 of scales[0] = 5: factor d * 11. Index 0 of the
// same sub-block is 0 (magnitudes 1).
TEST(Iq3Layout, Iq3sDecodesNineBitIndicesSignsAndScales) {
  BlockIQ3S b{};
  b.d = fp32_to_fp16(0.25f);
  b.qs[10] = 3;
  b.qh[1] = 1u << 2;
  b.signs[5] = 1u << 1;
  b.scales[0] = 5u << 4 | 2u;  // sub-block 0: ls 2, sub-block 1: ls 5
  b.qs[3] = 3;                 // sub-block 0, index 3: 0x0101010b (11 1 1 1), no high bit
  float out[256];
  scalar()[T::IQ3_S].dequantize(&b, out, 256);
  const float f1 = 0.25f * 11;
  EXPECT_EQ(out[32], f1);
  EXPECT_EQ(out[40], 3 * f1);
  EXPECT_EQ(out[41], -9 * f1);
  EXPECT_EQ(out[42], 9 * f1);
  EXPECT_EQ(out[43], 5 * f1);
  const float f0 = 0.25f * 5;
  EXPECT_EQ(out[12], 11 * f0);
  EXPECT_EQ(out[13], f0);
  EXPECT_EQ(out[0], f0);
  EXPECT_EQ(out[255], 0.25f);  // sub-block 7: ls 0, factor d
}

// ---- dot products ----------------------------------------------------------------

TEST(Iq3, VecDotMatchesDequantizedDot) {
  for (T type : kTypes) {
    for (int64_t n : kLengths) {
      const Bytes wq = random_blocks(type, n, 100 + static_cast<uint32_t>(n));
      const Bytes xq = quantize_q8k(gaussian(n, 200 + static_cast<uint32_t>(n)));
      const auto wd = dequantize(type, wq, n);
      const auto xd = dequantize(T::Q8_K, xq, n);
      double want = 0;
      for (size_t i = 0; i < wd.size(); ++i) want += static_cast<double>(wd[i]) * xd[i];
      const double got = scalar()[type].vec_dot(n, wq.data(), xq.data());
      EXPECT_NEAR(got, want, 1e-5 * abs_dot(wd, xd)) << type_name(type) << " n=" << n;
    }
  }
}

struct Variant {
  std::string name;
  const KernelTable* table;
};

std::vector<Variant> simd_variants() {
  std::vector<Variant> out;
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (isa_available(isa)) out.push_back({std::string(isa_name(isa)), &kernels_for(isa)});
  }
  return out;
}

// Exact int32 sums per super-block, scaled by the same float operations in
// the same order: the SIMD dots equal the scalar one bit for bit.
TEST(Iq3Simd, VecDotEqualsScalarBitForBit) {
  if (simd_variants().empty()) GTEST_SKIP() << "no SIMD table on this CPU";
  for (const Variant& v : simd_variants()) {
    for (T type : kTypes) {
      for (int64_t n : kLengths) {
        for (uint32_t seed = 0; seed < 4; ++seed) {
          const Bytes wq = random_blocks(type, n, seed * 7 + static_cast<uint32_t>(n));
          const Bytes xq = quantize_q8k(gaussian(n, seed + 17, 3.f));
          const float want = scalar()[type].vec_dot(n, wq.data(), xq.data());
          const float got = (*v.table)[type].vec_dot(n, wq.data(), xq.data());
          EXPECT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
              << v.name << " " << type_name(type) << " n=" << n << ": " << got << " vs " << want;
        }
      }
    }
  }
}

// The x86 tables replace the scalar dot (the comparison above would pass
// trivially if they silently did not) and keep the scalar dequantize.
TEST(Iq3Simd, X86TablesOverrideTheDots) {
  const KernelTable* previous = &scalar();
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_available(isa)) continue;
    const KernelTable& k = kernels_for(isa);
    for (T type : kTypes) {
      EXPECT_NE(k[type].vec_dot, (*previous)[type].vec_dot) << isa_name(isa) << " " << type_name(type);
      EXPECT_EQ(k[type].dequantize, scalar()[type].dequantize) << isa_name(isa) << " " << type_name(type);
    }
    previous = &k;
  }
}

// Extreme scale bytes and every index: values stay finite and the SIMD dots
// still match (the largest |sum| is 256 * 62 * 127 * 31, far inside int32).
TEST(Iq3Edge, LargestMagnitudesAndScalesStayExact) {
  for (T type : kTypes) {
    Bytes wq(bytes_for(type, 512), 0xff);
    for (size_t off = 0; off < wq.size(); off += type_info(type).block_bytes) {
      const uint16_t d = fp32_to_fp16(1.0f);
      std::memcpy(wq.data() + off, &d, 2);
    }
    std::vector<float> x(512, 1.0f);
    const Bytes xq = quantize_q8k(x);
    const float want = scalar()[type].vec_dot(512, wq.data(), xq.data());
    EXPECT_TRUE(std::isfinite(want));
    for (const Variant& v : simd_variants()) {
      EXPECT_EQ((*v.table)[type].vec_dot(512, wq.data(), xq.data()), want) << v.name << " " << type_name(type);
    }
  }
}

// ---- the int8 prefill GEMM -------------------------------------------------------

// A batch through the int8 GEMM (packed rows of u = value + 128, per-sub-block
// float scales) gives what decode's vec_dot gives per vector, up to float
// rounding: vec_dot scales one exact int32 sum per super-block, the GEMM one
// per sub-block and adds the eight products in float.
TEST(Iq3Gemm, BatchEqualsVecDotPerVector) {
  if (testing::gemm_q8_variants().empty()) GTEST_SKIP() << "no int8 GEMM on this CPU";
  constexpr int64_t kRows = 37, kCols = 2048, kVectors = 19;
  ThreadPool pool(2);
  for (const testing::Variant& variant : testing::gemm_q8_variants()) {
    const KernelTable& k = *variant.table;
    SCOPED_TRACE(variant.name);
    for (T type : kTypes) {
      ASSERT_NE(k[type].pack_q8, nullptr) << type_name(type);
      EXPECT_EQ(q8_gemm_layout(type).sub_block, 32);
      const Bytes w = random_blocks(type, kRows * kCols, 5);
      const size_t row_bytes = bytes_for(type, kCols);
      const MatrixView view{w.data(), type, kRows, kCols, row_bytes};
      const std::vector<float> x = gaussian(kVectors * kCols, 6);
      std::vector<float> batch(kRows * kVectors), single(kRows);
      MatmulScratch scratch;
      matmat(view, x.data(), kVectors, batch.data(), pool, scratch, k);
      for (int64_t v = 0; v < kVectors; ++v) {
        const Bytes xq = quantize_q8k(std::vector<float>(x.begin() + v * kCols, x.begin() + (v + 1) * kCols));
        const auto xd = dequantize(T::Q8_K, xq, kCols);
        for (int64_t r = 0; r < kRows; ++r) {
          const Bytes row(w.begin() + static_cast<std::ptrdiff_t>(r * row_bytes),
                          w.begin() + static_cast<std::ptrdiff_t>((r + 1) * row_bytes));
          const float want = k[type].vec_dot(kCols, row.data(), xq.data());
          const double magnitude = abs_dot(dequantize(type, row, kCols), xd);
          EXPECT_NEAR(batch[static_cast<size_t>(v * kRows + r)], want, 1e-5 * magnitude)
              << type_name(type) << " row " << r << " vector " << v;
        }
      }
    }
  }
  for (T type : kTypes) testing::expect_gemm_tables_agree(type, random_blocks(type, kRows * kCols, 5), kRows, kCols);
}

}  // namespace
}  // namespace sieve::tensor
