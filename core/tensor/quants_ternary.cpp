// Scalar kernels for the ternary types TQ1_0 and TQ2_0 (layouts in
// blocks_ternary.h): quantize, dequantize, and the dot product with the
// activation quantized to Q8_K as the reference engine does. SIMD dots live
// in x86/ternary_avx2.cpp and x86/ternary_avx512.cpp.
//
// Quantizing is the reference's plain absmax rounding: d = max |x| of the
// 256 values, each value becomes round(x / d) in {-1, 0, 1} (halves away from
// zero), so a file Sieve writes is the file the reference would write.
// Non-finite input still gives defined, finite blocks: the scale ignores
// non-finite values and saturates at the largest fp16, NaN becomes 0.
//
// Dot: one exact integer sum of (q - 1) * x per block (|sum| <= 256 * 2 * 127),
// scaled once by d * dx.

#include <cmath>

#include "tensor/blocks_k.h"
#include "tensor/blocks_ternary.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"

namespace sieve::tensor {
namespace {

constexpr int kBlock = kTernaryBlockElems;
constexpr float kMaxFp16 = 65504.0f;

// ---- quantize -------------------------------------------------------------------

struct TernaryScale {
  float inverse = 0.0f;  // 1 / d, or 0 for an all-zero block
  uint16_t d = 0;        // fp16 d
};

TernaryScale absmax_scale(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    if (std::isfinite(x[j])) amax = std::fmax(amax, std::fabs(x[j]));
  }
  TernaryScale s;
  s.inverse = amax > 0.0f ? 1.0f / amax : 0.0f;
  s.d = fp32_to_fp16(std::fmin(amax, kMaxFp16));
  return s;
}

// q in {0, 1, 2} for -1, 0, +1: round(x / d), halves away from zero.
int trit(float x, float inverse) {
  const float r = x * inverse;
  if (!(r == r)) return 1;  // NaN
  return static_cast<int>(std::lround(std::fmax(-1.0f, std::fmin(1.0f, r)))) + 1;
}

// Base-3 digits (most significant first) stored as ceil(q * 256 / 243), so
// that digit n is ((byte * 3^n) mod 256 * 3) >> 8.
uint8_t pack_trits(const float* x, int stride, int count, float inverse) {
  int q = 0;
  for (int n = 0; n < count; ++n) q = 3 * q + trit(x[n * stride], inverse);
  for (int n = count; n < 5; ++n) q *= 3;  // fewer digits sit at the top
  return static_cast<uint8_t>((q * 256 + 242) / 243);
}

void quantize_tq1_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockTQ1_0*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    const TernaryScale s = absmax_scale(src);
    b[i].d = s.d;
    for (int m = 0; m < 32; ++m) b[i].qs[m] = pack_trits(src + m, 32, 5, s.inverse);
    for (int m = 0; m < 16; ++m) b[i].qs[32 + m] = pack_trits(src + 160 + m, 16, 5, s.inverse);
    for (int j = 0; j < 4; ++j) b[i].qh[j] = pack_trits(src + 240 + j, 4, 4, s.inverse);
  }
}

void quantize_tq2_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockTQ2_0*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    const TernaryScale s = absmax_scale(src);
    b[i].d = s.d;
    for (int c = 0; c < 2; ++c) {
      for (int m = 0; m < 32; ++m) {
        int q = 0;
        for (int l = 0; l < 4; ++l) q |= trit(src[128 * c + 32 * l + m], s.inverse) << (2 * l);
        b[i].qs[32 * c + m] = static_cast<uint8_t>(q);
      }
    }
  }
}

// ---- decode ------------------------------------------------------------------------

// The 256 stored digits q of one block, in value order.
void decode_tq1_0(const BlockTQ1_0& b, uint8_t q[kBlock]) {
  for (int n = 0; n < 5; ++n) {
    for (int m = 0; m < 32; ++m) q[32 * n + m] = static_cast<uint8_t>(tq1_trit(b.qs[m], n));
    for (int m = 0; m < 16; ++m) q[160 + 16 * n + m] = static_cast<uint8_t>(tq1_trit(b.qs[32 + m], n));
  }
  for (int n = 0; n < 4; ++n) {
    for (int j = 0; j < 4; ++j) q[240 + 4 * n + j] = static_cast<uint8_t>(tq1_trit(b.qh[j], n));
  }
}

void decode_tq2_0(const BlockTQ2_0& b, uint8_t q[kBlock]) {
  for (int c = 0; c < 2; ++c) {
    for (int l = 0; l < 4; ++l) {
      for (int m = 0; m < 32; ++m) q[128 * c + 32 * l + m] = static_cast<uint8_t>((b.qs[32 * c + m] >> (2 * l)) & 3);
    }
  }
}

template <class Block, void (*kDecode)(const Block&, uint8_t*)>
void dequantize_blocks(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const Block*>(src);
  uint8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    kDecode(b[i], q);
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kBlock; ++j) dst[j] = static_cast<float>(q[j] - 1) * d;
  }
}

template <class Block, void (*kDecode)(const Block&, uint8_t*)>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  uint8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    kDecode(wb[i], q);
    int32_t total = 0;
    for (int j = 0; j < kBlock; ++j) total += (q[j] - 1) * xb[i].qs[j];
    sum += static_cast<float>(total) * (fp16_to_fp32(wb[i].d) * xb[i].d);
  }
  return sum;
}

}  // namespace

namespace detail {
void register_ternary_scalar(KernelTable& table) {
  using T = TensorType;
  table[T::TQ1_0] = {dequantize_blocks<BlockTQ1_0, decode_tq1_0>, quantize_tq1_0,
                     dot_blocks<BlockTQ1_0, decode_tq1_0>, T::Q8_K};
  table[T::TQ2_0] = {dequantize_blocks<BlockTQ2_0, decode_tq2_0>, quantize_tq2_0,
                     dot_blocks<BlockTQ2_0, decode_tq2_0>, T::Q8_K};
}
}  // namespace detail

}  // namespace sieve::tensor
