// Kernels of the legacy types (F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1):
// block layouts, quantization error, dot products against plain float dots,
// and every SIMD table against the scalar reference.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/tensor_type.h"

namespace sieve::tensor {
namespace {

using T = TensorType;
using Bytes = std::vector<uint8_t>;

constexpr T kTypes[] = {T::F32, T::F16, T::BF16, T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::Q8_1};
// Block counts 1, 2, 3 and 5 reach the odd-block tails of the SIMD loops.
constexpr int64_t kLengths[] = {32, 64, 96, 160, 256, 4096, 11008, 11040};

const KernelTable& scalar() { return kernels_for(Isa::Scalar); }

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

Bytes quantize(const KernelTable& k, T type, const std::vector<float>& x) {
  Bytes out(bytes_for(type, x.size()));
  k[type].quantize(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

std::vector<float> dequantize(T type, const Bytes& data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  scalar()[type].dequantize(data.data(), out.data(), n);
  return out;
}

std::string label(T type, int64_t n) { return std::string(type_name(type)) + " n=" + std::to_string(n); }

bool all_finite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

template <class Block>
const Block& block_at(const Bytes& data, int64_t i) {
  return reinterpret_cast<const Block*>(data.data())[i];
}

// ---- layouts -------------------------------------------------------------------

TEST(LegacyLayout, BlockSizesMatchTheTypeTable) {
  EXPECT_EQ(sizeof(BlockQ4_0), type_info(T::Q4_0).block_bytes);
  EXPECT_EQ(sizeof(BlockQ4_1), type_info(T::Q4_1).block_bytes);
  EXPECT_EQ(sizeof(BlockQ5_0), type_info(T::Q5_0).block_bytes);
  EXPECT_EQ(sizeof(BlockQ5_1), type_info(T::Q5_1).block_bytes);
  EXPECT_EQ(sizeof(BlockQ8_0), type_info(T::Q8_0).block_bytes);
  EXPECT_EQ(sizeof(BlockQ8_1), type_info(T::Q8_1).block_bytes);
}

TEST(LegacyLayout, EveryTypeHasAllKernels) {
  for (T type : kTypes) {
    const TypeKernels& k = scalar()[type];
    EXPECT_TRUE(k.dequantize && k.quantize && k.vec_dot) << type_name(type);
  }
  EXPECT_EQ(scalar()[T::F16].dot_type, T::F32);
  EXPECT_EQ(scalar()[T::BF16].dot_type, T::F32);
  EXPECT_EQ(scalar()[T::Q4_0].dot_type, T::Q8_0);
  EXPECT_EQ(scalar()[T::Q5_0].dot_type, T::Q8_0);
  EXPECT_EQ(scalar()[T::Q4_1].dot_type, T::Q8_1);
  EXPECT_EQ(scalar()[T::Q5_1].dot_type, T::Q8_1);
}

// Hand-built blocks pin the GGUF nibble order: byte j holds value j (low
// nibble) and value j + 16 (high nibble); bit j of qh is value j's fifth bit.
TEST(LegacyLayout, Q4DecodesLowNibblesFirst) {
  BlockQ4_1 b{};
  b.d = fp32_to_fp16(0.5f);
  b.m = fp32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  scalar()[T::Q4_1].dequantize(&b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 0.5f * j - 1.0f) << j;
    EXPECT_EQ(out[j + 16], 0.5f * (15 - j) - 1.0f) << j;
  }
  BlockQ4_0 s{};
  s.d = fp32_to_fp16(2.0f);
  std::memcpy(s.qs, b.qs, sizeof(s.qs));
  scalar()[T::Q4_0].dequantize(&s, out, 32);
  EXPECT_EQ(out[0], -16.0f);
  EXPECT_EQ(out[16], 14.0f);
}

TEST(LegacyLayout, Q5TakesFifthBitFromQh) {
  BlockQ5_0 b{};
  b.d = fp32_to_fp16(1.0f);
  const uint32_t high = 0x80000001u;  // values 0 and 31 have the fifth bit
  std::memcpy(b.qh, &high, sizeof(high));
  for (int j = 0; j < 16; ++j) b.qs[j] = 0x33;  // every low part is 3
  float out[32];
  scalar()[T::Q5_0].dequantize(&b, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], (j == 0 || j == 31) ? 3.0f : -13.0f) << j;
  BlockQ5_1 u{};
  u.d = fp32_to_fp16(1.0f);
  u.m = fp32_to_fp16(0.0f);
  std::memcpy(u.qh, &high, sizeof(high));
  std::memcpy(u.qs, b.qs, sizeof(u.qs));
  scalar()[T::Q5_1].dequantize(&u, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], (j == 0 || j == 31) ? 19.0f : 3.0f) << j;
}

TEST(LegacyLayout, Q8_1CarriesScaledSum) {
  const std::vector<float> x = gaussian(64, 7);
  const Bytes q = quantize(scalar(), T::Q8_1, x);
  for (int64_t i = 0; i < 2; ++i) {
    const auto& b = block_at<BlockQ8_1>(q, i);
    int sum = 0;
    for (int8_t v : b.qs) sum += v;
    EXPECT_EQ(b.s, fp32_to_fp16(fp16_to_fp32(b.d) * static_cast<float>(sum)));
  }
}

// ---- quantization error -----------------------------------------------------------

// Relative RMS error of quantize -> dequantize on N(0, 1) data. A step d
// gives d / sqrt(12) per value; with max|x| of a 32-value block near 2.1 sigma
// (range near 4.1 sigma) the expected errors, and what these rows measure, are:
//   F16 ~2e-4 (2^-11 relative rounding), BF16 ~1.7e-3 (2^-8),
//   Q8_x d = 2.1/127 -> 0.5%,  Q5_1 d = 4.1/31 -> 3.8%,  Q4_1 d = 4.1/15 -> 7.9%,
//   Q5_0 d = 2.1/16 -> 3.8% measured 4.3%, Q4_0 d = 2.1/8 -> 7.6% measured 8.8%
//   (the symmetric types clip the side opposite the block's extreme).
// The bounds leave 15-45% over the worst measured row.
double rms_bound(T type) {
  switch (type) {
    case T::F32: return 0.0;
    case T::F16: return 3e-4;
    case T::BF16: return 2.5e-3;
    case T::Q8_0:
    case T::Q8_1: return 0.007;
    case T::Q5_0:
    case T::Q5_1: return 0.05;
    case T::Q4_0:
    case T::Q4_1: return 0.10;
    default: return 0.0;
  }
}

TEST(LegacyQuantize, RelativeRmsErrorWithinTypeBound) {
  for (T type : kTypes) {
    for (int64_t n : kLengths) {
      const std::vector<float> x = gaussian(n, 1000 + static_cast<uint32_t>(n));
      const std::vector<float> y = dequantize(type, quantize(scalar(), type, x), n);
      double err = 0.0, ref = 0.0;
      for (size_t i = 0; i < x.size(); ++i) {
        err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
        ref += double(x[i]) * x[i];
      }
      EXPECT_LE(std::sqrt(err / ref), rms_bound(type)) << label(type, n);
    }
  }
}

// The largest error a block may have for value x, given the block's stored
// scale: half a step, plus what rounding d and m to fp16 costs. The float
// arithmetic of quantizing adds at most a few ulps of a step (the 1e-3 terms).
double symmetric_bound(double d, int offset, double x) {
  // Representable values: d * [-offset, offset - 1]; the far side clips.
  const double a = -offset * d, b = (offset - 1) * d;
  const double lo = std::min(a, b), hi = std::max(a, b);
  const double outside = x < lo ? lo - x : (x > hi ? x - hi : 0.0);
  EXPECT_LE(outside, std::fabs(d) * 1.001) << "only the side opposite the extreme clips, by under a step";
  return std::max(0.5 * std::fabs(d), outside) * 1.001;
}

double q8_bound(double d16) {
  const double scale_error = std::max(std::fabs(d16) / 2048, std::ldexp(1.0, -25));
  return (0.5 * std::fabs(d16) + 127.5 * scale_error) * 1.001;
}

double bound_for(T type, const Bytes& q, int64_t block, double x) {
  constexpr double kHalfUlp = 1.0 / 2048;  // relative rounding of an fp16 scale
  switch (type) {
    // Q8 levels are chosen with the unrounded scale (as the reference does), so
    // the stored fp16 scale adds up to 127 half-ulps on top of half a step.
    // the stored fp16 scale adds up to 127.5 times its own rounding error (which
    // is absolute, 2^-25, once the scale is subnormal) on top of half a step.
    case T::Q8_0: return q8_bound(fp16_to_fp32(block_at<BlockQ8_0>(q, block).d));
    case T::Q8_1: return q8_bound(fp16_to_fp32(block_at<BlockQ8_1>(q, block).d));
    case T::Q4_0: return symmetric_bound(fp16_to_fp32(block_at<BlockQ4_0>(q, block).d), 8, x);
    case T::Q5_0: return symmetric_bound(fp16_to_fp32(block_at<BlockQ5_0>(q, block).d), 16, x);
    case T::Q4_1: {
      const auto& b = block_at<BlockQ4_1>(q, block);
      const double d = fp16_to_fp32(b.d), m = std::fabs(fp16_to_fp32(b.m));
      return 0.501 * d + (m + 15 * d) * kHalfUlp;
    }
    case T::Q5_1: {
      const auto& b = block_at<BlockQ5_1>(q, block);
      const double d = fp16_to_fp32(b.d), m = std::fabs(fp16_to_fp32(b.m));
      return 0.501 * d + (m + 31 * d) * kHalfUlp;
    }
    case T::F16: return std::fabs(x) * kHalfUlp + 3e-8;  // 3e-8: half the smallest subnormal
    case T::BF16: return std::fabs(x) / 256;
    default: return 0.0;
  }
}

TEST(LegacyQuantize, EveryValueWithinItsBlockBound) {
  for (T type : kTypes) {
    for (int64_t n : {int64_t{256}, int64_t{4096}}) {
      // Mixed magnitudes: blocks of small, unit and large values.
      std::vector<float> x = gaussian(n, 2000 + static_cast<uint32_t>(n));
      for (int64_t i = 0; i < n; ++i) x[i] *= (i / 32) % 3 == 0 ? 1e-3f : ((i / 32) % 3 == 1 ? 1.0f : 300.0f);
      const Bytes q = quantize(scalar(), type, x);
      const std::vector<float> y = dequantize(type, q, n);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_LE(std::fabs(double(x[i]) - y[i]), bound_for(type, q, i / 32, x[i]))
            << label(type, n) << " at " << i << ": " << x[i] << " -> " << y[i];
      }
    }
  }
}

// ---- dot products -----------------------------------------------------------------

struct DotCase {
  Bytes w;             // weight row of the tested type
  Bytes x;             // activation in the type's dot_type
  double exact = 0.0;  // float dot of the dequantized rows, in double
  double scale = 0.0;  // sum of |w_i x_i|: the size float rounding is relative to
  double offset_slack = 0.0;  // Q4_1/Q5_1 only: the fp16 rounding of Q8_1's s
};

DotCase make_dot_case(T type, int64_t n, uint32_t seed) {
  const T dot_type = scalar()[type].dot_type;
  DotCase c;
  c.w = quantize(scalar(), type, gaussian(n, seed));
  c.x = quantize(scalar(), dot_type, gaussian(n, seed + 1, 3.0f));
  const std::vector<float> w = dequantize(type, c.w, n), x = dequantize(dot_type, c.x, n);
  for (int64_t i = 0; i < n; ++i) {
    c.exact += double(w[i]) * x[i];
    c.scale += std::fabs(double(w[i]) * x[i]);
  }
  // Kernels apply Q4_1/Q5_1's offset m as m * s, where s is d * sum(q) rounded
  // to fp16, instead of m * d * sum(q): that is the one inexact step.
  if (type == T::Q4_1 || type == T::Q5_1) {
    for (int64_t b = 0; b < n / 32; ++b) {
      const auto& xb = block_at<BlockQ8_1>(c.x, b);
      double sum = 0.0;
      for (int8_t v : xb.qs) sum += v;
      const double m = type == T::Q4_1 ? fp16_to_fp32(block_at<BlockQ4_1>(c.w, b).m)
                                       : fp16_to_fp32(block_at<BlockQ5_1>(c.w, b).m);
      c.offset_slack += std::fabs(m * (fp16_to_fp32(xb.s) - fp16_to_fp32(xb.d) * sum));
    }
  }
  return c;
}

TEST(LegacyDot, MatchesFloatDotOfDequantizedRows) {
  for (T type : kTypes) {
    for (int64_t n : kLengths) {
      const DotCase c = make_dot_case(type, n, 3000 + static_cast<uint32_t>(n));
      const double got = scalar()[type].vec_dot(n, c.w.data(), c.x.data());
      EXPECT_NEAR(got, c.exact, 1e-4 * c.scale + c.offset_slack * 1.001) << label(type, n);
    }
  }
}

TEST(LegacyDot, ZeroWeightsGiveZero) {
  for (T type : kTypes) {
    const std::vector<float> zeros(256, 0.0f);
    const Bytes w = quantize(scalar(), type, zeros);
    const Bytes x = quantize(scalar(), scalar()[type].dot_type, gaussian(256, 5));
    EXPECT_EQ(scalar()[type].vec_dot(256, w.data(), x.data()), 0.0f) << type_name(type);
  }
}

// ---- SIMD tables against the scalar reference -------------------------------------

std::vector<Isa> simd_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (isa_available(isa)) out.push_back(isa);
  }
  return out;
}

TEST(LegacySimd, DotMatchesScalar) {
  for (Isa isa : simd_isas()) {
    for (T type : kTypes) {
      for (int64_t n : kLengths) {
        const DotCase c = make_dot_case(type, n, 4000 + static_cast<uint32_t>(n));
        const float want = scalar()[type].vec_dot(n, c.w.data(), c.x.data());
        const float got = kernels_for(isa)[type].vec_dot(n, c.w.data(), c.x.data());
        // Only the order of float additions differs (integer block sums are exact).
        EXPECT_NEAR(got, want, 1e-5 * c.scale) << isa_name(isa) << " " << label(type, n);
      }
    }
  }
}

TEST(LegacySimd, FloatRowsOfAnyLength) {
  for (Isa isa : simd_isas()) {
    for (T type : {T::F32, T::F16, T::BF16}) {
      for (int64_t n : {1, 7, 15, 17, 33, 63, 65, 100, 1001}) {
        const DotCase c = make_dot_case(type, n, 5000 + static_cast<uint32_t>(n));
        const float want = scalar()[type].vec_dot(n, c.w.data(), c.x.data());
        const float got = kernels_for(isa)[type].vec_dot(n, c.w.data(), c.x.data());
        EXPECT_NEAR(got, want, 1e-5 * c.scale) << isa_name(isa) << " " << label(type, n);
      }
    }
  }
}

// F16 conversion (the KV cache's and attention's rounding): every table's
// quantize gives the scalar fp32_to_fp16's bits for any float but a NaN, and
// a NaN stays a NaN. Random bit patterns cover normals, subnormals, the
// rounding ties and overflow; the lengths cover the SIMD tails.
TEST(LegacySimd, HalfConversionMatchesScalarBitForBit) {
  std::mt19937 rng(77);
  std::vector<float> values(4099);
  for (float& v : values) v = std::bit_cast<float>(static_cast<uint32_t>(rng()));
  const float specials[] = {0.0f, -0.0f, 65504.0f, 65520.0f, -65519.0f, 5.96e-8f, 2.98e-8f, 6.1e-5f,
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), 1.0009765625f, 1.00048828125f};
  std::copy(std::begin(specials), std::end(specials), values.begin());
  for (Isa isa : simd_isas()) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{9}, int64_t{4099}}) {
      std::vector<uint16_t> got(static_cast<size_t>(n));
      kernels_for(isa)[T::F16].quantize(values.data(), got.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t want = fp32_to_fp16(values[static_cast<size_t>(i)]);
        if (std::isnan(values[static_cast<size_t>(i)])) {
          EXPECT_TRUE(std::isnan(fp16_to_fp32(got[static_cast<size_t>(i)]))) << isa_name(isa) << " at " << i;
        } else {
          ASSERT_EQ(got[static_cast<size_t>(i)], want) << isa_name(isa) << " value " << values[static_cast<size_t>(i)];
        }
      }
    }
  }
}

// axpy (y += a * row) in every table against y + a * the scalar dequantized
// row, for the types that have it: float rows of any length, Q8_0 in blocks.
TEST(LegacySimd, AxpyAddsTheScaledRow) {
  std::vector<Isa> isas = simd_isas();
  isas.insert(isas.begin(), Isa::Scalar);
  for (Isa isa : isas) {
    for (T type : {T::F32, T::F16, T::BF16, T::Q8_0}) {
      for (int64_t n : {32, 64, 96, 2048, 11008}) {
        for (int64_t tail : {int64_t{0}, int64_t{7}}) {
          if (type == T::Q8_0 && tail != 0) continue;  // whole blocks only
          const int64_t len = n + tail;
          const Bytes row = quantize(scalar(), type, gaussian(len, 600 + static_cast<uint32_t>(len)));
          const std::vector<float> values = dequantize(type, row, len);
          std::vector<float> y = gaussian(len, 700 + static_cast<uint32_t>(len));
          std::vector<float> want = y;
          const float a = -0.37f;
          for (int64_t i = 0; i < len; ++i) want[static_cast<size_t>(i)] += a * values[static_cast<size_t>(i)];
          ASSERT_NE(kernels_for(isa)[type].axpy, nullptr) << isa_name(isa) << " " << label(type, len);
          kernels_for(isa)[type].axpy(len, a, row.data(), y.data());
          for (int64_t i = 0; i < len; ++i) {
            // FMA or a product of the block scale with a first: a few ulps apart.
            EXPECT_NEAR(y[static_cast<size_t>(i)], want[static_cast<size_t>(i)], 1e-5f * (1.0f + std::fabs(want[static_cast<size_t>(i)])))
                << isa_name(isa) << " " << label(type, len) << " at " << i;
          }
        }
      }
    }
  }
}

// The AVX512-VNNI Q4_0 kernel (with and without GFNI, each variant the CPU
// runs): its vec_dot against the scalar one, and its vec_dot_rows bit-identical
// to vec_dot for any row count and stride. The lengths reach rows shorter than
// one 16-block step, steps with a tail of single blocks, and rows longer than
// one prepared chunk (8192 values), whose sums are carried between chunks.
TEST(LegacySimd, Q4_0VnniRowsMatchScalarAndVecDot) {
  const detail::CpuExtras cpu = detail::cpu_extras();
  if (!isa_available(Isa::Avx512) || !cpu.avx512_vnni) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  for (bool gfni : {false, true}) {
    if (gfni && !cpu.gfni) continue;
    KernelTable table = kernels_for(Isa::Avx512);
    detail::register_legacy_avx512_vnni(table, gfni);
    const TypeKernels& k = table[T::Q4_0];
    ASSERT_TRUE(k.vec_dot != nullptr && k.vec_dot_rows != nullptr);
    for (int64_t n : {32, 480, 512, 544, 4096, 8192, 8192 + 512, 16384 + 96}) {
      constexpr int64_t kRows = 37;
      const size_t row_bytes = bytes_for(T::Q4_0, static_cast<uint64_t>(n)), stride = row_bytes + 40;
      Bytes w(stride * kRows, 0xA5);
      std::vector<double> scale(kRows, 0.0);
      const Bytes x = quantize(scalar(), T::Q8_0, gaussian(n, 91 + static_cast<uint32_t>(n), 3.0f));
      const std::vector<float> xf = dequantize(T::Q8_0, x, n);
      for (int64_t r = 0; r < kRows; ++r) {
        std::vector<float> v = gaussian(n, 7000 + static_cast<uint32_t>(n + r));
        if (r == 1) std::fill(v.begin(), v.end(), -1.0f);  // every nibble 0: the largest offset term
        if (r == 2) std::fill(v.begin(), v.end(), 1.0f);   // every nibble 15 or 0 after rounding
        const Bytes q = quantize(scalar(), T::Q4_0, v);
        std::memcpy(w.data() + static_cast<size_t>(r) * stride, q.data(), row_bytes);
        const std::vector<float> wf = dequantize(T::Q4_0, q, n);
        for (int64_t i = 0; i < n; ++i) scale[r] += std::fabs(double(wf[i]) * xf[i]);
      }
      std::vector<float> single(kRows);
      for (int64_t r = 0; r < kRows; ++r) {
        const uint8_t* row = w.data() + static_cast<size_t>(r) * stride;
        single[r] = k.vec_dot(n, row, x.data());
        EXPECT_NEAR(single[r], scalar()[T::Q4_0].vec_dot(n, row, x.data()), 1e-5 * scale[r] + 1e-30)
            << "gfni " << gfni << " n=" << n << " row " << r;
      }
      for (int64_t first : {0, 5}) {
        for (int64_t count : {1, 16, 17, 32}) {
          std::vector<float> y(static_cast<size_t>(count), -1.0f);
          k.vec_dot_rows(n, w.data() + static_cast<size_t>(first) * stride, stride, count, x.data(), y.data());
          for (int64_t r = 0; r < count; ++r) {
            EXPECT_EQ(std::memcmp(&y[r], &single[first + r], sizeof(float)), 0)
                << "gfni " << gfni << " n=" << n << " rows " << first << "+" << count << ": row " << r << " is "
                << y[r] << ", vec_dot gives " << single[first + r];
          }
        }
      }
    }
  }
}

// Q8_0 files may hold -128, which our quantizer never writes: the sign trick of
// the SIMD dots must still be exact for it.
TEST(LegacySimd, Q8WeightsHoldingMinus128) {
  std::vector<BlockQ8_0> w(8);
  for (auto& b : w) {
    b.d = fp32_to_fp16(0.25f);
    for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j % 2 == 0 ? -128 : 127);
  }
  const Bytes x = quantize(scalar(), T::Q8_0, gaussian(256, 11, 100.0f));
  const float want = scalar()[T::Q8_0].vec_dot(256, w.data(), x.data());
  for (Isa isa : simd_isas()) {
    EXPECT_NEAR(kernels_for(isa)[T::Q8_0].vec_dot(256, w.data(), x.data()), want, 1e-5 * std::fabs(want))
        << isa_name(isa);
  }
}

// Activations with the awkward cases: exact ties between two steps, zeros of
// both signs, subnormals, huge values and a NaN (which must not spread past
// its own value).
std::vector<float> awkward_activations() {
  std::vector<float> x = gaussian(4096, 12);
  for (int j = 0; j < 32; ++j) x[j] = j % 2 == 0 ? 127.0f : static_cast<float>(j) - 15.5f;  // d = 1, ties
  for (int j = 32; j < 64; ++j) x[j] = j % 2 == 0 ? 0.0f : -0.0f;
  for (int j = 64; j < 96; ++j) x[j] = std::numeric_limits<float>::denorm_min() * static_cast<float>(j);
  for (int j = 96; j < 128; ++j) x[j] = (j % 2 == 0 ? 1e30f : -3e29f);
  x[130] = std::numeric_limits<float>::quiet_NaN();
  return x;
}

TEST(LegacySimd, ActivationQuantizersAreBitIdentical) {
  const std::vector<float> x = awkward_activations();
  for (Isa isa : simd_isas()) {
    for (T type : {T::Q8_0, T::Q8_1}) {
      EXPECT_EQ(quantize(kernels_for(isa), type, x), quantize(scalar(), type, x))
          << isa_name(isa) << " " << type_name(type);
      for (int64_t n : kLengths) {
        const std::vector<float> g = gaussian(n, 6000 + static_cast<uint32_t>(n), 5.0f);
        EXPECT_EQ(quantize(kernels_for(isa), type, g), quantize(scalar(), type, g))
            << isa_name(isa) << " " << label(type, n);
      }
    }
  }
}

// ---- edge cases ---------------------------------------------------------------------

TEST(LegacyEdge, ZeroBlocksDecodeToZero) {
  for (T type : kTypes) {
    for (float zero : {0.0f, -0.0f}) {
      const std::vector<float> x(64, zero);
      const Bytes q = quantize(scalar(), type, x);
      if (type_info(type).block_elems == 32) {  // every legacy block starts with its fp16 d
        for (size_t b = 0; b < q.size(); b += type_info(type).block_bytes) {
          uint16_t d;
          std::memcpy(&d, q.data() + b, sizeof(d));
          EXPECT_EQ(fp16_to_fp32(d), 0.0f) << type_name(type);
        }
      }
      for (float v : dequantize(type, q, 64)) ASSERT_EQ(v, 0.0f) << type_name(type);
    }
  }
}

// Zero activations (d = 0 in every Q8 block) against ordinary and saturated
// weights: every table gives exactly zero, never NaN.
TEST(LegacyEdge, ZeroActivationsGiveZeroInEveryTable) {
  std::vector<float> w = gaussian(256, 14);
  for (int j = 0; j < 32; ++j) w[j] = j % 2 == 0 ? 1e30f : -1e30f;
  std::vector<Isa> isas = simd_isas();
  isas.push_back(Isa::Scalar);
  for (T type : kTypes) {
    if (type == T::F16) continue;  // 1e30 is infinity in F16, and infinity * 0 is NaN by IEEE rules
    const Bytes wq = quantize(scalar(), type, w);
    const Bytes xq = quantize(scalar(), scalar()[type].dot_type, std::vector<float>(256, -0.0f));
    for (Isa isa : isas) {
      EXPECT_EQ(kernels_for(isa)[type].vec_dot(256, wq.data(), xq.data()), 0.0f)
          << isa_name(isa) << " " << type_name(type);
    }
  }
}

TEST(LegacyEdge, LargeValuesKeepTheirBound) {
  for (T type : kTypes) {
    // Large but representable in every type: d = 2e4 / 8 still fits in fp16.
    const std::vector<float> x = gaussian(256, 13, 5000.0f);
    const std::vector<float> y = dequantize(type, quantize(scalar(), type, x), 256);
    double err = 0.0, ref = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      ref += double(x[i]) * x[i];
    }
    EXPECT_LE(std::sqrt(err / ref), rms_bound(type)) << type_name(type);
  }
}

// Beyond what an fp16 scale can express, quantized types saturate: finite
// values of the right sign, as large as the block format allows.
TEST(LegacyEdge, HugeValuesSaturateWithoutInfinityOrNaN) {
  std::vector<float> x(64);
  for (int j = 0; j < 64; ++j) x[j] = j % 2 == 0 ? 1e30f : -1e30f;
  for (T type : {T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::Q8_1}) {
    const std::vector<float> y = dequantize(type, quantize(scalar(), type, x), 64);
    ASSERT_TRUE(all_finite(y)) << type_name(type);
    for (int j = 0; j < 64; ++j) {
      EXPECT_EQ(std::signbit(y[j]), std::signbit(x[j])) << type_name(type) << " at " << j;
      EXPECT_GE(std::fabs(y[j]), 65504.0f) << type_name(type) << " at " << j;
    }
  }
  EXPECT_TRUE(all_finite(dequantize(T::BF16, quantize(scalar(), T::BF16, x), 64)));
  EXPECT_TRUE(std::isinf(dequantize(T::F16, quantize(scalar(), T::F16, x), 64)[0]));  // IEEE overflow
}

TEST(LegacyEdge, NaNActivationStaysInItsBlock) {
  const std::vector<float> x = awkward_activations();
  for (T type : {T::Q8_0, T::Q8_1}) {
    const std::vector<float> y = dequantize(type, quantize(scalar(), type, x), 4096);
    for (size_t i = 0; i < y.size(); ++i) {
      if (i / 32 == 4) continue;  // the NaN's own block
      ASSERT_TRUE(std::isfinite(y[i])) << type_name(type) << " at " << i;
    }
  }
}

}  // namespace
}  // namespace sieve::tensor
