// Kernels of the 2-bit grid types IQ2_XXS, IQ2_XS and IQ2_S: block layouts
// pinned by hand-built blocks (magnitudes read off the grid rows quoted from
// the reference's tables), the dot product against the dequantized dot,
// every SIMD table against the scalar one, and the int8 prefill GEMM against
// vec_dot.

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
#include "tensor/blocks_iq2.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/tensor_type.h"
#include "util/thread_pool.h"

namespace sieve::tensor {
namespace {

using T = TensorType;
using Bytes = std::vector<uint8_t>;

constexpr T kTypes[] = {T::IQ2_XXS, T::IQ2_XS, T::IQ2_S};
constexpr int64_t kLengths[] = {256, 512, 768, 4096, 11008 - 11008 % 256};

const KernelTable& scalar() { return kernels_for(Isa::Scalar); }

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Random bytes (any index, sign and scale bits) with a small sane fp16 d:
// a random one can be infinite.
Bytes random_blocks(T type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(bytes_for(type, static_cast<uint64_t>(n)));
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> factor(-0.05f, 0.05f);
  for (size_t off = 0; off < out.size(); off += type_info(type).block_bytes) {
    const uint16_t d = fp32_to_fp16(factor(rng));
    std::memcpy(out.data() + off, &d, 2);
  }
  return out;
}

Bytes quantize_q8k(const std::vector<float>& x) {
  Bytes out(bytes_for(T::Q8_K, x.size()));
  scalar()[T::Q8_K].quantize(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

std::vector<float> dequantize(T type, const void* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  scalar()[type].dequantize(data, out.data(), n);
  return out;
}

double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
  return s;
}

// ---- tables and layouts -------------------------------------------------------------

TEST(Iq2Layout, BlockSizesMatchTheTypeTable) {
  EXPECT_EQ(sizeof(BlockIQ2XXS), type_info(T::IQ2_XXS).block_bytes);
  EXPECT_EQ(sizeof(BlockIQ2XS), type_info(T::IQ2_XS).block_bytes);
  EXPECT_EQ(sizeof(BlockIQ2S), type_info(T::IQ2_S).block_bytes);
  for (T type : kTypes) {
    EXPECT_TRUE(type_info(type).computable) << type_name(type);
    EXPECT_EQ(type_info(type).block_elems, 256u);
  }
}

TEST(Iq2Layout, EveryTypeReadsAndMultipliesButDoesNotQuantize) {
  for (T type : kTypes) {
    const TypeKernels& k = scalar()[type];
    EXPECT_TRUE(k.dequantize && k.vec_dot) << type_name(type);
    EXPECT_EQ(k.quantize, nullptr) << type_name(type);  // needs an importance matrix
    EXPECT_EQ(k.dot_type, T::Q8_K) << type_name(type);
  }
}

// The eighth sign bit is the parity of the seven stored ones (the reference's
// ksigns_iq2xs begins 0, 129, 130, 3, 132 and ends 126, 255).
TEST(Iq2Layout, SignTableAddsTheParityBit) {
  EXPECT_EQ(kIqEvenSigns[0], 0);
  EXPECT_EQ(kIqEvenSigns[1], 129);
  EXPECT_EQ(kIqEvenSigns[2], 130);
  EXPECT_EQ(kIqEvenSigns[3], 3);
  EXPECT_EQ(kIqEvenSigns[4], 132);
  EXPECT_EQ(kIqEvenSigns[126], 126);
  EXPECT_EQ(kIqEvenSigns[127], 255);
  for (uint8_t s : kIqEvenSigns) EXPECT_EQ(std::popcount(static_cast<unsigned>(s)) % 2, 0);
}

// Every magnitude is 8, 25 or 43; entries are distinct and ascending (as the
// reference stores them); first and last rows as quoted there.
TEST(Iq2Layout, GridsHoldOnlyTheThreeMagnitudes) {
  const struct {
    const uint64_t* grid;
    int size;
  } grids[] = {{kIq2xxsGrid, 256}, {kIq2xsGrid, 512}, {kIq2sGrid, 1024}};
  for (const auto& g : grids) {
    for (int i = 0; i < g.size; ++i) {
      for (int j = 0; j < 8; ++j) {
        const auto m = static_cast<uint8_t>(g.grid[i] >> (8 * j));
        ASSERT_TRUE(m == 8 || m == 25 || m == 43) << g.size << " entry " << i;
      }
      if (i > 0) {
        ASSERT_LT(g.grid[i - 1], g.grid[i]) << g.size << " entry " << i;
      }
    }
    EXPECT_EQ(g.grid[0], 0x0808080808080808ull);
    EXPECT_EQ(g.grid[1], 0x080808080808082bull);
  }
  EXPECT_EQ(kIq2xxsGrid[255], 0x2b2b2b1908081908ull);
  EXPECT_EQ(kIq2xsGrid[511], 0x2b2b2b2b2b2b2b2bull);
  EXPECT_EQ(kIq2sGrid[1023], 0x2b2b2b2b2b2b2b2bull);
  EXPECT_EQ(kIq2xsGrid[508], 0x2b2b2b2b082b2b08ull);
  EXPECT_EQ(kIq2sGrid[471], 0x1908080808080819ull);
  EXPECT_EQ(kIq2sGrid[468], 0x082b2b2b192b1908ull);
}

// Sub-block 0 with d = 1, ls = 3 (factor 0.875): groups index entries 0
// (all 8), 1 (value 0 is 43), 255 (08 19 08 08 19 2b 2b 2b from value 0) and
// 0; group 0's 7 sign bits are 1, so its parity bit negates value 7 too;
// group 2's are 0b1000000 (value 6 and, by parity, 7). Sub-block 1 has ls 15.
TEST(Iq2Layout, Iq2xxsDecodesIndexWordThenSignsAndScaleWord) {
  BlockIQ2XXS b{};
  b.d = fp32_to_fp16(1.0f);
  const uint32_t words[4] = {0x00ff0100u, (3u << 28) | (0x40u << 14) | 1u, 0, 15u << 28};
  std::memcpy(b.qs, words, sizeof(words));
  float out[256];
  scalar()[T::IQ2_XXS].dequantize(&b, out, 256);
  const float f = 0.875f;
  EXPECT_EQ(out[0], -8 * f);
  for (int j = 1; j < 7; ++j) EXPECT_EQ(out[j], 8 * f) << j;
  EXPECT_EQ(out[7], -8 * f);
  EXPECT_EQ(out[8], 43 * f);
  EXPECT_EQ(out[9], 8 * f);
  const float third[8] = {8, 25, 8, 8, 25, 43, -43, -43};
  for (int j = 0; j < 8; ++j) EXPECT_EQ(out[16 + j], third[j] * f) << j;
  for (int j = 24; j < 32; ++j) EXPECT_EQ(out[j], 8 * f) << j;
  for (int j = 32; j < 64; ++j) EXPECT_EQ(out[j], 8 * 3.875f) << j;  // (15 + 1/2) / 4
}

// Group g: qs[g] = 9-bit index | 7 sign bits << 9; 16-value sub-block t
// uses nibble t % 2 of scales[t / 2].
TEST(Iq2Layout, Iq2xsPacksIndexAndSignsPerGroupAndScalesPer16) {
  BlockIQ2XS b{};
  b.d = fp32_to_fp16(2.0f);
  b.qs[0] = 511 | (3 << 9);  // all 43, values 0 and 1 negative (even count: no parity bit)
  b.qs[2] = 1;               // group 2 (sub-block 1): value 0 is 43
  b.scales[0] = 0x51;        // sub-block 0: ls 1, sub-block 1: ls 5
  float out[256];
  scalar()[T::IQ2_XS].dequantize(&b, out, 256);
  const float f0 = 2.0f * 1.5f / 4, f1 = 2.0f * 5.5f / 4;
  EXPECT_EQ(out[0], -43 * f0);
  EXPECT_EQ(out[1], -43 * f0);
  for (int j = 2; j < 8; ++j) EXPECT_EQ(out[j], 43 * f0) << j;
  for (int j = 8; j < 16; ++j) EXPECT_EQ(out[j], 8 * f0) << j;
  EXPECT_EQ(out[16], 43 * f1);
  EXPECT_EQ(out[17], 8 * f1);
  EXPECT_EQ(out[32], 8 * 0.25f);  // ls 0: factor d / 8
}

// Index = qs[g] | 2 bits of qh[g / 4] at 2 (g % 4) << 8; full sign bytes
// after the 32 index bytes.
TEST(Iq2Layout, Iq2sTakesTopIndexBitsFromQhAndWholeSignBytes) {
  BlockIQ2S b{};
  b.d = fp32_to_fp16(1.0f);
  b.qs[1] = 0xff;
  b.qh[0] = 3 << 2;      // group 1: index 1023 (all 43)
  b.qs[5] = 0xfc;        // group 5 (qh[1], bits 2-3): index 2 << 8 | 0xfc = 764
  b.qh[1] = 2 << 2;
  b.qs[32 + 1] = 0x81;   // group 1: values 0 and 7 negative
  b.qs[32 + 2] = 0x01;   // a single minus sign is allowed here (no parity)
  b.scales[0] = 0x00;
  b.scales[1] = 0x07;    // sub-block 2 (groups 4, 5): ls 7
  float out[256];
  scalar()[T::IQ2_S].dequantize(&b, out, 256);
  const float f0 = 0.125f;
  EXPECT_EQ(out[8], -43 * f0);
  for (int j = 9; j < 15; ++j) EXPECT_EQ(out[j], 43 * f0) << j;
  EXPECT_EQ(out[15], -43 * f0);
  EXPECT_EQ(out[16], -8 * f0);
  EXPECT_EQ(out[17], 8 * f0);
  const uint64_t g764 = kIq2sGrid[764];
  for (int j = 0; j < 8; ++j) EXPECT_EQ(out[40 + j], static_cast<float>((g764 >> (8 * j)) & 0xff) * 7.5f / 4) << j;
}

// ---- dot products ------------------------------------------------------------------

TEST(Iq2, VecDotMatchesDequantizedDot) {
  for (T type : kTypes) {
    for (int64_t n : kLengths) {
      const Bytes w = random_blocks(type, n, 100 + static_cast<uint32_t>(n));
      const Bytes x = quantize_q8k(gaussian(n, 200 + static_cast<uint32_t>(n)));
      const auto wd = dequantize(type, w.data(), n), xd = dequantize(T::Q8_K, x.data(), n);
      double want = 0;
      for (int64_t i = 0; i < n; ++i) want += static_cast<double>(wd[i]) * xd[i];
      const double got = scalar()[type].vec_dot(n, w.data(), x.data());
      EXPECT_NEAR(got, want, 1e-5 * abs_dot(wd, xd)) << type_name(type) << " n=" << n;
    }
  }
}

// The integer sums are exact on every ISA, but the SIMD kernels convert and
// scale them per lane and add the lanes in another order than the scalar
// sum over blocks: equal up to float rounding (measured well under 1e-6 of
// sum |w x|).
TEST(Iq2Simd, VecDotMatchesScalar) {
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (!isa_available(isa)) continue;
    const KernelTable& k = kernels_for(isa);
    for (T type : kTypes) {
      for (int64_t n : kLengths) {
        for (uint32_t seed = 0; seed < 3; ++seed) {
          const Bytes w = random_blocks(type, n, seed * 1000 + static_cast<uint32_t>(n));
          const Bytes x = quantize_q8k(gaussian(n, seed + 17, 3.f));
          const double want = scalar()[type].vec_dot(n, w.data(), x.data());
          const double got = k[type].vec_dot(n, w.data(), x.data());
          const double scale = abs_dot(dequantize(type, w.data(), n), dequantize(T::Q8_K, x.data(), n));
          EXPECT_NEAR(got, want, 1e-6 * scale) << isa_name(isa) << " " << type_name(type) << " n=" << n;
        }
      }
    }
  }
}

TEST(Iq2Simd, X86TablesOverrideTheDots) {
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

// Any bytes decode (indices are masked to the grid by construction; ASan
// builds check the reads) and with sane scales stay finite; all-ones bytes
// reach the last entry of each grid.
TEST(Iq2Edge, AnyBytesDecodeToGridValues) {
  for (T type : kTypes) {
    const int64_t n = 512;
    for (uint32_t seed = 0; seed < 20; ++seed) {
      Bytes q = random_blocks(type, n, seed);
      if (seed == 0) {
        for (size_t off = 0; off < q.size(); off += type_info(type).block_bytes) {
          std::memset(q.data() + off + 2, 0xff, type_info(type).block_bytes - 2);
        }
      }
      for (float v : dequantize(type, q.data(), n)) ASSERT_TRUE(std::isfinite(v)) << type_name(type);
      const Bytes x = quantize_q8k(gaussian(n, seed));
      for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
        if (!isa_available(isa)) continue;
        EXPECT_TRUE(std::isfinite(kernels_for(isa)[type].vec_dot(n, q.data(), x.data()))) << isa_name(isa);
      }
    }
  }
}

// ---- the int8 GEMM for prefill --------------------------------------------------------

// matmat over a batch takes the int8 path where the table has it (VNNI); each
// result must equal vec_dot of the row with the vector converted to Q8_K, up
// to float rounding (the GEMM scales per sub-block, vec_dot per block).
TEST(Iq2Gemm, Int8GemmMatchesVecDot) {
  if (testing::gemm_q8_variants().empty()) GTEST_SKIP() << "no int8 GEMM on this CPU";
  ThreadPool pool(2);
  constexpr int64_t kRowElems = 1024, kVectors = 13;
  for (const testing::Variant& variant : testing::gemm_q8_variants()) {
    const KernelTable& k = *variant.table;
    SCOPED_TRACE(variant.name);
    for (T type : kTypes) {
      ASSERT_NE(k[type].pack_q8, nullptr) << type_name(type);
      for (int64_t rows : {int64_t{1}, int64_t{17}, int64_t{45}}) {
        const size_t row_bytes = bytes_for(type, kRowElems);
        const Bytes w = random_blocks(type, rows * kRowElems, 50 + static_cast<uint32_t>(rows));
        const std::vector<float> x = gaussian(kVectors * kRowElems, 60 + static_cast<uint32_t>(rows));
        const MatrixView view{w.data(), type, rows, kRowElems, row_bytes};
        std::vector<float> y(static_cast<size_t>(kVectors * rows));
        MatmulScratch scratch;
        matmat(view, x.data(), kVectors, y.data(), pool, scratch, k);
        for (int64_t v = 0; v < kVectors; ++v) {
          const Bytes xq = quantize_q8k(std::vector<float>(x.begin() + v * kRowElems, x.begin() + (v + 1) * kRowElems));
          const auto xd = dequantize(T::Q8_K, xq.data(), kRowElems);
          for (int64_t r = 0; r < rows; ++r) {
            const uint8_t* row = w.data() + static_cast<size_t>(r) * row_bytes;
            const double want = k[type].vec_dot(kRowElems, row, xq.data());
            const double scale = abs_dot(dequantize(type, row, kRowElems), xd);
            ASSERT_NEAR(y[static_cast<size_t>(v * rows + r)], want, 1e-5 * scale)
                << type_name(type) << " rows " << rows << " vector " << v << " row " << r;
          }
        }
      }
    }
  }
  for (T type : kTypes) {
    for (int64_t rows : {int64_t{1}, int64_t{17}, int64_t{45}}) {
      const testing::Bytes w = random_blocks(type, rows * kRowElems, 50 + static_cast<uint32_t>(rows));
      testing::expect_gemm_tables_agree(type, w, rows, kRowElems);
    }
  }
}

}  // namespace
}  // namespace sieve::tensor
