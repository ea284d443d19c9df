// Scalar reference kernels for F32, F16, BF16 and the legacy quantized types
// (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1). SIMD families (x86/, arm/) override the hot
// entries and are tested against these, so clarity wins over speed here.
//
// Quantizers round to nearest with the fp16-rounded scale that is actually
// stored, so decoding a value is off by at most half a step (see
// blocks_legacy.h for the layouts). Scales saturate at the largest finite fp16
// instead of overflowing: a block of huge values decodes to large finite
// values, never to infinity or NaN.

#include <cmath>
#include <cstring>

#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"

namespace sieve::tensor::detail {
namespace {

constexpr int kBlock = kLegacyBlockElems;
constexpr float kMaxFp16 = 65504.0f;

// ---- shared helpers --------------------------------------------------------

uint16_t saturating_fp16(float v) {
  const float clamped = v > kMaxFp16 ? kMaxFp16 : (v < -kMaxFp16 ? -kMaxFp16 : v);
  return fp32_to_fp16(clamped);
}

float inverse_or_zero(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// Rounds to nearest (even on ties) after clamping to [lo, hi]. A NaN clamps to
// `hi`; the comparisons are written so the SIMD min/max instructions give the
// same answer.
int round_clamped(float v, float lo, float hi) {
  v = v < hi ? v : hi;
  v = v > lo ? v : lo;
  return static_cast<int>(std::nearbyint(v));
}

// Signed values of a Q4 block (low nibbles first) minus `offset`.
void q4_values(const uint8_t* qs, int offset, int8_t out[kBlock]) {
  for (int j = 0; j < kBlock / 2; ++j) {
    out[j] = static_cast<int8_t>((qs[j] & 0x0f) - offset);
    out[j + kBlock / 2] = static_cast<int8_t>((qs[j] >> 4) - offset);
  }
}

// Values of a Q5 block: four low bits from `qs` as in Q4, the fifth from `qh`.
void q5_values(const uint8_t* qs, const uint8_t* qh, int offset, int8_t out[kBlock]) {
  uint32_t high;
  std::memcpy(&high, qh, sizeof(high));
  for (int j = 0; j < kBlock / 2; ++j) {
    const int lo = (qs[j] & 0x0f) | static_cast<int>(((high >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | static_cast<int>(((high >> (j + 16)) & 1u) << 4);
    out[j] = static_cast<int8_t>(lo - offset);
    out[j + kBlock / 2] = static_cast<int8_t>(hi - offset);
  }
}

void pack_q4(const int8_t q[kBlock], uint8_t* qs) {
  for (int j = 0; j < kBlock / 2; ++j) {
    qs[j] = static_cast<uint8_t>(q[j] | (q[j + kBlock / 2] << 4));
  }
}

void pack_q5(const int8_t q[kBlock], uint8_t* qs, uint8_t* qh) {
  uint32_t high = 0;
  for (int j = 0; j < kBlock; ++j) high |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  std::memcpy(qh, &high, sizeof(high));
  for (int j = 0; j < kBlock / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kBlock / 2] & 0x0f) << 4));
  }
}

int32_t dot_i8(const int8_t* a, const int8_t* b) {
  int32_t sum = 0;
  for (int j = 0; j < kBlock; ++j) sum += a[j] * b[j];
  return sum;
}

// ---- symmetric and min/max block quantizers ----------------------------------

// Symmetric 4/5-bit block: the value of largest magnitude maps to -levels/2
// (the longer end of the range), so its sign decides the sign of d.
template <int kLevels>
uint16_t quantize_symmetric(const float* x, int8_t q[kBlock]) {
  float extreme = 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    if (std::fabs(x[j]) > std::fabs(extreme)) extreme = x[j];
  }
  constexpr int kOffset = kLevels / 2;
  const uint16_t d = saturating_fp16(extreme / -static_cast<float>(kOffset));
  const float id = inverse_or_zero(fp16_to_fp32(d));
  for (int j = 0; j < kBlock; ++j) {
    const int v = round_clamped(x[j] * id, -static_cast<float>(kOffset), kLevels - 1.0f - kOffset);
    q[j] = static_cast<int8_t>(v + kOffset);
  }
  return d;
}

struct ScaleMin {
  uint16_t d;
  uint16_t m;
};

// Asymmetric block: m is the block minimum, d spreads [min, max] over the levels.
template <int kLevels>
ScaleMin quantize_min_max(const float* x, int8_t q[kBlock]) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < kBlock; ++j) {
    lo = x[j] < lo ? x[j] : lo;
    hi = x[j] > hi ? x[j] : hi;
  }
  const ScaleMin sm{saturating_fp16((hi - lo) / (kLevels - 1)), saturating_fp16(lo)};
  const float id = inverse_or_zero(fp16_to_fp32(sm.d));
  const float m = fp16_to_fp32(sm.m);
  for (int j = 0; j < kBlock; ++j) {
    q[j] = static_cast<int8_t>(round_clamped((x[j] - m) * id, 0.0f, kLevels - 1.0f));
  }
  return sm;
}

// Q8 block (activations and Q8_0 weights): d = max|x| / 127. Returns sum(q).
// The SIMD quantizers reproduce this bit for bit: keep the operations in step.
int quantize_q8(const float* x, uint16_t& d_out, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    const float a = std::fabs(x[j]);
    amax = a > amax ? a : amax;  // ignores NaN, like the SIMD max
  }
  // The inverse comes from the unrounded scale, as in the reference engine:
  // rounding d to fp16 first moves a few percent of values to another level.
  const float d = amax / 127.0f;
  d_out = saturating_fp16(d);
  const float id = inverse_or_zero(d);
  int sum = 0;
  for (int j = 0; j < kBlock; ++j) {
    q[j] = static_cast<int8_t>(round_clamped(x[j] * id, -127.0f, 127.0f));
    sum += q[j];
  }
  return sum;
}

// ---- F32 / F16 / BF16 --------------------------------------------------------

void dequantize_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void quantize_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
float dot_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy_f32(int64_t n, float a, const void* src, float* y) {
  const auto* p = static_cast<const float*>(src);
  for (int64_t i = 0; i < n; ++i) y[i] += a * p[i];
}
template <float (*kToFloat)(uint16_t)>
void axpy_half(int64_t n, float a, const void* src, float* y) {
  const auto* p = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) y[i] += a * kToFloat(p[i]);
}
template <float (*kToFloat)(uint16_t)>
void dequantize_half(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = kToFloat(h[i]);
}
template <uint16_t (*kFromFloat)(float)>
void quantize_half(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = kFromFloat(src[i]);
}
template <float (*kToFloat)(uint16_t)>
float dot_half(int64_t n, const void* w, const void* x) {
  const auto* h = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += kToFloat(h[i]) * b[i];
  return sum;
}

// ---- Q4_0 / Q5_0: symmetric, dot with Q8_0 ---------------------------------

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    q4_values(b[i].qs, 8, q);
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kBlock; ++j) dst[j] = d * q[j];
  }
}
void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    b[i].d = quantize_symmetric<16>(src, q);
    pack_q4(q, b[i].qs);
  }
}
float dot_q4_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_0*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  int8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    q4_values(wb[i].qs, 8, q);
    const float d = fp16_to_fp32(wb[i].d) * fp16_to_fp32(xb[i].d);
    sum += d * static_cast<float>(dot_i8(q, xb[i].qs));
  }
  return sum;
}

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    q5_values(b[i].qs, b[i].qh, 16, q);
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kBlock; ++j) dst[j] = d * q[j];
  }
}
void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    b[i].d = quantize_symmetric<32>(src, q);
    pack_q5(q, b[i].qs, b[i].qh);
  }
}
float dot_q5_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_0*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  int8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    q5_values(wb[i].qs, wb[i].qh, 16, q);
    const float d = fp16_to_fp32(wb[i].d) * fp16_to_fp32(xb[i].d);
    sum += d * static_cast<float>(dot_i8(q, xb[i].qs));
  }
  return sum;
}

// ---- Q4_1 / Q5_1: scale + minimum, dot with Q8_1 ---------------------------
// sum_j (d q_j + m) x_j = d_w d_x sum_j q_j qx_j + m s_x, with s_x = d_x sum_j qx_j.

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    q4_values(b[i].qs, 0, q);
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    for (int j = 0; j < kBlock; ++j) dst[j] = d * q[j] + m;
  }
}
void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    const ScaleMin sm = quantize_min_max<16>(src, q);
    b[i].d = sm.d;
    b[i].m = sm.m;
    pack_q4(q, b[i].qs);
  }
}
float dot_q4_1(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_1*>(w);
  const auto* xb = static_cast<const BlockQ8_1*>(x);
  int8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    q4_values(wb[i].qs, 0, q);
    const float d = fp16_to_fp32(wb[i].d) * fp16_to_fp32(xb[i].d);
    sum += d * static_cast<float>(dot_i8(q, xb[i].qs)) + fp16_to_fp32(wb[i].m) * fp16_to_fp32(xb[i].s);
  }
  return sum;
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    q5_values(b[i].qs, b[i].qh, 0, q);
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    for (int j = 0; j < kBlock; ++j) dst[j] = d * q[j] + m;
  }
}
void quantize_q5_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    const ScaleMin sm = quantize_min_max<32>(src, q);
    b[i].d = sm.d;
    b[i].m = sm.m;
    pack_q5(q, b[i].qs, b[i].qh);
  }
}
float dot_q5_1(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_1*>(w);
  const auto* xb = static_cast<const BlockQ8_1*>(x);
  int8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    q5_values(wb[i].qs, wb[i].qh, 0, q);
    const float d = fp16_to_fp32(wb[i].d) * fp16_to_fp32(xb[i].d);
    sum += d * static_cast<float>(dot_i8(q, xb[i].qs)) + fp16_to_fp32(wb[i].m) * fp16_to_fp32(xb[i].s);
  }
  return sum;
}

// ---- Q8_0 / Q8_1 -------------------------------------------------------------
// Both are activation formats; Q8_0 is also a weight type. Q8_1 weights (rare)
// dot with Q8_1 activations and ignore s.

template <class Block>
void dequantize_q8(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kBlock; ++j) dst[j] = d * b[i].qs[j];
  }
}
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) quantize_q8(src, b[i].d, b[i].qs);
}
void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    const int sum = quantize_q8(src, b[i].d, b[i].qs);
    b[i].s = saturating_fp16(fp16_to_fp32(b[i].d) * static_cast<float>(sum));
  }
}
void axpy_q8_0(int64_t n, float a, const void* src, float* y) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kBlock; ++i, y += kBlock) {
    const float d = a * fp16_to_fp32(b[i].d);
    for (int j = 0; j < kBlock; ++j) y[j] += d * static_cast<float>(b[i].qs[j]);
  }
}
template <class Block>
float dot_q8(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const Block*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    const float d = fp16_to_fp32(wb[i].d) * fp16_to_fp32(xb[i].d);
    sum += d * static_cast<float>(dot_i8(wb[i].qs, xb[i].qs));
  }
  return sum;
}

}  // namespace

void register_legacy_scalar(KernelTable& table) {
  using T = TensorType;
  table[T::F32] = {dequantize_f32, quantize_f32, dot_f32, T::F32};
  table[T::F16] = {dequantize_half<fp16_to_fp32>, quantize_half<fp32_to_fp16>,
                   dot_half<fp16_to_fp32>, T::F32};
  table[T::BF16] = {dequantize_half<bf16_to_fp32>, quantize_half<fp32_to_bf16>,
                    dot_half<bf16_to_fp32>, T::F32};
  table[T::Q4_0] = {dequantize_q4_0, quantize_q4_0, dot_q4_0, T::Q8_0};
  table[T::Q4_1] = {dequantize_q4_1, quantize_q4_1, dot_q4_1, T::Q8_1};
  table[T::Q5_0] = {dequantize_q5_0, quantize_q5_0, dot_q5_0, T::Q8_0};
  table[T::Q5_1] = {dequantize_q5_1, quantize_q5_1, dot_q5_1, T::Q8_1};
  table[T::Q8_0] = {dequantize_q8<BlockQ8_0>, quantize_q8_0, dot_q8<BlockQ8_0>, T::Q8_0};
  table[T::Q8_1] = {dequantize_q8<BlockQ8_1>, quantize_q8_1, dot_q8<BlockQ8_1>, T::Q8_1};
  table[T::F32].axpy = axpy_f32;
  table[T::F16].axpy = axpy_half<fp16_to_fp32>;
  table[T::BF16].axpy = axpy_half<bf16_to_fp32>;
  table[T::Q8_0].axpy = axpy_q8_0;
}

}  // namespace sieve::tensor::detail
