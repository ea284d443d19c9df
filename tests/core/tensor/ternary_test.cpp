// Kernels of the ternary types TQ1_0 and TQ2_0: the reference's absmax
// quantizer pinned by hand-computed bytes, block layouts by hand-built
// blocks, dot products against the dequantized dot, every SIMD table against
// the scalar one (quantized and random blocks), and the int8 prefill GEMM
// against vec_dot.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/tensor/block_check_util.h"
#include "tensor/blocks_ternary.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/tensor_type.h"

namespace sieve::tensor {
namespace {

using namespace sieve::tensor::testing;
using T = TensorType;

constexpr T kTypes[] = {T::TQ1_0, T::TQ2_0};
constexpr int64_t kLengths[] = {256, 512, 768, 4096, 11008 - 11008 % 256};

// Random bytes with a small sane scale; TQ2_0 then holds some digits 3.
Bytes random_blocks(T type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(bytes_for(type, static_cast<uint64_t>(n)));
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> factor(-0.05f, 0.05f);
  const size_t block_bytes = type_info(type).block_bytes;
  for (size_t off = 0; off < out.size(); off += block_bytes) {
    const uint16_t d = fp32_to_fp16(factor(rng));
    std::memcpy(out.data() + off + block_bytes - 2, &d, 2);  // d is the last field of both
  }
  return out;
}

TEST(TernaryLayout, BlockSizesAndKernels) {
  EXPECT_EQ(sizeof(BlockTQ1_0), type_info(T::TQ1_0).block_bytes);
  EXPECT_EQ(sizeof(BlockTQ2_0), type_info(T::TQ2_0).block_bytes);
  for (T type : kTypes) {
    EXPECT_TRUE(type_info(type).computable);
    const TypeKernels& k = scalar()[type];
    EXPECT_TRUE(k.dequantize && k.quantize && k.vec_dot) << type_name(type);
    EXPECT_EQ(k.dot_type, T::Q8_K);
  }
}

// One +1 at value 0, the rest 0 (scale 1): TQ1_0 byte 0 holds digits
// 2,1,1,1,1 = 202 in base 3, stored as ceil(202 * 256 / 243) = 213; a byte of
// five 1s is 121 -> 128; a qh byte of four 1s is 40, shifted up a digit to
// 120 -> 127. TQ2_0: digit 1 everywhere is 0x55, value 0 (low bits of byte 0)
// +1 makes 0x56, value 32 (bits 2..3 of byte 0) -1 clears them: 0x52.
TEST(TernaryLayout, QuantizerWritesTheReferenceBytes) {
  std::vector<float> x(256, 0.0f);
  x[0] = 1.0f;
  const Bytes tq1 = quantize(scalar(), T::TQ1_0, x);
  const auto& b1 = *reinterpret_cast<const BlockTQ1_0*>(tq1.data());
  EXPECT_EQ(b1.d, fp32_to_fp16(1.0f));
  EXPECT_EQ(b1.qs[0], 213);
  for (int m = 1; m < 48; ++m) EXPECT_EQ(b1.qs[m], 128) << m;
  for (int j = 0; j < 4; ++j) EXPECT_EQ(b1.qh[j], 127) << j;

  x[32] = -1.0f;
  const Bytes tq2 = quantize(scalar(), T::TQ2_0, x);
  const auto& b2 = *reinterpret_cast<const BlockTQ2_0*>(tq2.data());
  EXPECT_EQ(b2.qs[0], 0x52);
  for (int m = 1; m < 64; ++m) EXPECT_EQ(b2.qs[m], 0x55) << m;
}

// Value order: TQ1_0 value 32n + m is digit n of byte m, 160 + 16n + m of
// byte 32 + m, 240 + 4n + j of qh[j]; TQ2_0 value 128c + 32l + m is bits
// 2l of byte 32c + m. A ramp of -1, 0, +1 round-trips exactly.
TEST(TernaryLayout, TernaryValuesRoundTripInPlace) {
  std::vector<float> x(512);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.75f * static_cast<float>(static_cast<int>((i * 7 + i / 5) % 3) - 1);
  for (T type : kTypes) {
    EXPECT_EQ(dequantize(scalar(), type, quantize(scalar(), type, x), 512), x) << type_name(type);
  }
  BlockTQ2_0 b{};
  b.d = fp32_to_fp16(2.0f);
  b.qs[33] = static_cast<uint8_t>(2 << 4);  // c = 1, m = 1, l = 2: value 128 + 64 + 1
  float out[256];
  scalar()[T::TQ2_0].dequantize(&b, out, 256);
  EXPECT_EQ(out[193], 2.0f);
  EXPECT_EQ(out[192], -2.0f);
  b.qs[0] = 3;  // a digit 3 (never written) decodes as +2, as in the reference
  scalar()[T::TQ2_0].dequantize(&b, out, 256);
  EXPECT_EQ(out[0], 4.0f);
}

// round(x / amax) with halves away from zero, as lroundf in the reference.
TEST(Ternary, QuantizerRoundsRelativeToTheAbsMax) {
  std::vector<float> x(256, 0.0f);
  x[0] = -4.0f;  // amax
  x[1] = 2.0f;   // exactly half: rounds to +1
  x[2] = -1.9f;  // below half: 0
  x[3] = -2.0f;  // -1
  for (T type : kTypes) {
    const auto y = dequantize(scalar(), type, quantize(scalar(), type, x), 256);
    EXPECT_EQ(y[0], -4.0f);
    EXPECT_EQ(y[1], 4.0f);
    EXPECT_EQ(y[2], 0.0f);
    EXPECT_EQ(y[3], -4.0f);
  }
}

TEST(Ternary, ZeroAndNonFiniteBlocksStayFinite) {
  for (T type : kTypes) {
    std::vector<float> x(512, 0.0f);
    x[300] = 3.0e38f;
    x[301] = std::nanf("");
    x[302] = -INFINITY;
    const auto y = dequantize(scalar(), type, quantize(scalar(), type, x), 512);
    for (int i = 0; i < 256; ++i) ASSERT_EQ(y[i], 0.0f) << type_name(type);
    for (float v : y) ASSERT_TRUE(std::isfinite(v)) << type_name(type);
  }
}

TEST(Ternary, VecDotMatchesDequantizedDot) {
  for (T type : kTypes) {
    for (int64_t n : kLengths) {
      const Bytes wq = quantize(scalar(), type, gaussian(n, 100 + static_cast<uint32_t>(n)));
      const Bytes xq = quantize(scalar(), T::Q8_K, gaussian(n, 200 + static_cast<uint32_t>(n)));
      const auto wd = dequantize(scalar(), type, wq, n);
      const auto xd = dequantize(scalar(), T::Q8_K, xq, n);
      EXPECT_NEAR(scalar()[type].vec_dot(n, wq.data(), xq.data()), float_dot(wd, xd), 1e-5 * abs_dot(wd, xd))
          << type_name(type) << " n=" << n;
    }
  }
}

// Exact integer sums per block on both sides; only the float accumulation
// of the per-block results differs, hence the 1e-5 relative bound.
TEST(TernarySimd, VecDotMatchesScalar) {
  for (const Variant& v : simd_variants()) {
    for (T type : kTypes) {
      EXPECT_NE((*v.table)[type].vec_dot, scalar()[type].vec_dot) << v.name << " overrides " << type_name(type);
      for (int64_t n : kLengths) {
        for (const bool random_bits : {false, true}) {
          const uint32_t seed = static_cast<uint32_t>(n) * 3 + (random_bits ? 1 : 0);
          const Bytes wq = random_bits ? random_blocks(type, n, seed) : quantize(scalar(), type, gaussian(n, seed));
          const Bytes xq = quantize(scalar(), T::Q8_K, gaussian(n, seed + 17, 3.f));
          const double want = scalar()[type].vec_dot(n, wq.data(), xq.data());
          const double got = (*v.table)[type].vec_dot(n, wq.data(), xq.data());
          const double scale = abs_dot(dequantize(scalar(), type, wq, n), dequantize(scalar(), T::Q8_K, xq, n));
          EXPECT_NEAR(got, want, 1e-5 * scale + 1e-30)
              << v.name << " " << type_name(type) << " n=" << n << (random_bits ? " random bits" : "");
        }
      }
    }
  }
}

TEST(TernaryGemm, Int8GemmMatchesVecDot) {
  if (gemm_q8_variants().empty()) GTEST_SKIP() << "no int8 GEMM on this CPU";
  for (T type : kTypes) {
    const int64_t n_rows = 37, row_elems = 1024;
    const Bytes random = random_blocks(type, n_rows * row_elems, 9);
    const Bytes quantized = quantize(scalar(), type, gaussian(n_rows * row_elems, 10));
    for (const Variant& v : gemm_q8_variants()) {
      SCOPED_TRACE(v.name);
      expect_gemm_matches_vec_dot(*v.table, type, random, n_rows, row_elems);
      expect_gemm_matches_vec_dot(*v.table, type, quantized, n_rows, row_elems);
    }
    expect_gemm_tables_agree(type, random, n_rows, row_elems);
    expect_gemm_tables_agree(type, quantized, n_rows, row_elems);
  }
}

}  // namespace
}  // namespace sieve::tensor
