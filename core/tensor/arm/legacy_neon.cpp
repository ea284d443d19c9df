// NEON (AArch64) kernels for the legacy types: dot products of every type and
// the Q8_0 / Q8_1 activation quantizers (bit-identical to the scalar ones).
// Same scheme as the x86 kernels: each block's quants become two vectors of
// 16 signed bytes, multiplied with the activation's bytes into int32 sums,
// scaled once per block. Uses SDOT when the build targets it (ARMv8.2
// dotprod), widening multiplies otherwise.

#include <arm_neon.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"

namespace sieve::tensor::detail {
namespace {

constexpr int kBlock = kLegacyBlockElems;

inline int8x16_t as_s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

// The 32 values of a block as signed bytes: values 0..15, then 16..31.
struct Quants {
  int8x16_t first;
  int8x16_t second;
};

// Four int32 partial sums of w[j] * x[j] over 32 values. Every int16
// intermediate holds two products, below 2 * 128 * 127 (x is never -128).
inline int32x4_t dot32(Quants w, Quants x) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w.first, x.first), w.second, x.second);
#else
  const int16x8_t a = vmlal_high_s8(vmull_s8(vget_low_s8(w.first), vget_low_s8(x.first)), w.first, x.first);
  const int16x8_t b = vmlal_high_s8(vmull_s8(vget_low_s8(w.second), vget_low_s8(x.second)), w.second, x.second);
  return vpadalq_s16(vpaddlq_s16(a), b);
#endif
}

inline Quants q8(const int8_t* qs) { return {vld1q_s8(qs), vld1q_s8(qs + 16)}; }

// Nibbles minus `offset`: low nibbles are values 0..15, high nibbles 16..31.
inline Quants q4(const uint8_t* qs, int8_t offset) {
  const uint8x16_t packed = vld1q_u8(qs);
  const int8x16_t off = vdupq_n_s8(offset);
  return {vsubq_s8(as_s8(vandq_u8(packed, vdupq_n_u8(0x0f))), off), vsubq_s8(as_s8(vshrq_n_u8(packed, 4)), off)};
}

// 0x10 in each byte whose value has its fifth bit set. `source_byte` says
// which byte of qh holds the bit of each of the 16 values.
inline uint8x16_t fifth_bits(uint8x16_t qh_bytes, const uint8_t* source_byte) {
  static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t set = vtstq_u8(vqtbl1q_u8(qh_bytes, vld1q_u8(source_byte)), vld1q_u8(kBit));
  return vandq_u8(set, vdupq_n_u8(0x10));
}

// Q5 values (nibble plus 16 where the fifth bit is set) minus `offset`.
inline Quants q5(const uint8_t* qs, const uint8_t* qh, int8_t offset) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  const uint8x16_t qh_bytes = vreinterpretq_u8_u32(vdupq_n_u32(bits));
  const uint8x16_t packed = vld1q_u8(qs);
  const int8x16_t off = vdupq_n_s8(offset);
  static constexpr uint8_t kFirst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};   // values 0..15
  static constexpr uint8_t kSecond[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};  // values 16..31
  const uint8x16_t first = vorrq_u8(vandq_u8(packed, vdupq_n_u8(0x0f)), fifth_bits(qh_bytes, kFirst));
  const uint8x16_t second = vorrq_u8(vshrq_n_u8(packed, 4), fifth_bits(qh_bytes, kSecond));
  return {vsubq_s8(as_s8(first), off), vsubq_s8(as_s8(second), off)};
}

// Int32 partial sums of q_w * q_x for one block pair; the caller scales them.
inline int32x4_t block_sums(const BlockQ4_0& w, const BlockQ8_0& x) { return dot32(q4(w.qs, 8), q8(x.qs)); }
inline int32x4_t block_sums(const BlockQ5_0& w, const BlockQ8_0& x) { return dot32(q5(w.qs, w.qh, 16), q8(x.qs)); }
inline int32x4_t block_sums(const BlockQ4_1& w, const BlockQ8_1& x) { return dot32(q4(w.qs, 0), q8(x.qs)); }
inline int32x4_t block_sums(const BlockQ5_1& w, const BlockQ8_1& x) { return dot32(q5(w.qs, w.qh, 0), q8(x.qs)); }
template <class Q8Block>
inline int32x4_t block_sums(const Q8Block& w, const Q8Block& x) { return dot32(q8(w.qs), q8(x.qs)); }

template <class W>
inline constexpr bool kHasMin = std::is_same_v<W, BlockQ4_1> || std::is_same_v<W, BlockQ5_1>;

// One fp16 field of 4 consecutive blocks, converted together.
template <auto kField, class Block>
inline float32x4_t halves4(const Block* b) {
  const uint16_t h[4] = {b[0].*kField, b[1].*kField, b[2].*kField, b[3].*kField};
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

// Groups of 4 blocks: their scales (and Q4_1 / Q5_1 offsets m * s) converted
// together, each block's sums scaled by its lane into one of two accumulators.
template <class W, class X>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const W*>(w);
  const auto* xb = static_cast<const X*>(x);
  const int64_t nb = n / kBlock;
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f), offsets = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 4 <= nb; i += 4) {
    const float32x4_t scales = vmulq_f32(halves4<&W::d>(wb + i), halves4<&X::d>(xb + i));
    if constexpr (kHasMin<W>) offsets = vfmaq_f32(offsets, halves4<&W::m>(wb + i), halves4<&X::s>(xb + i));
    acc0 = vfmaq_laneq_f32(acc0, vcvtq_f32_s32(block_sums(wb[i], xb[i])), scales, 0);
    acc1 = vfmaq_laneq_f32(acc1, vcvtq_f32_s32(block_sums(wb[i + 1], xb[i + 1])), scales, 1);
    acc0 = vfmaq_laneq_f32(acc0, vcvtq_f32_s32(block_sums(wb[i + 2], xb[i + 2])), scales, 2);
    acc1 = vfmaq_laneq_f32(acc1, vcvtq_f32_s32(block_sums(wb[i + 3], xb[i + 3])), scales, 3);
  }
  float tail_offset = 0.0f;
  for (; i < nb; ++i) {
    const float scale = fp16_to_fp32(wb[i].d) * fp16_to_fp32(xb[i].d);
    acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(block_sums(wb[i], xb[i])), scale);
    if constexpr (kHasMin<W>) tail_offset += fp16_to_fp32(wb[i].m) * fp16_to_fp32(xb[i].s);
  }
  return vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), offsets)) + tail_offset;
}

// ---- float weights (F32, F16, BF16) times a float activation ---------------

struct F32Row {
  using Elem = float;
  static float32x4_t load4(const float* p) { return vld1q_f32(p); }
  static float one(float v) { return v; }
};
struct F16Row {
  using Elem = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float one(uint16_t v) { return fp16_to_fp32(v); }
};
struct BF16Row {  // bf16 is the top half of an f32
  using Elem = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float one(uint16_t v) { return bf16_to_fp32(v); }
};

template <class Row>
float dot_float_row(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const typename Row::Elem*>(w);
  const auto* b = static_cast<const float*>(x);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) acc[k] = vfmaq_f32(acc[k], Row::load4(a + i + 4 * k), vld1q_f32(b + i + 4 * k));
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += Row::one(a[i]) * b[i];
  return sum;
}

// ---- Q8 activation quantizers (bit-identical to quants_legacy.cpp) ---------

constexpr float kMaxFp16 = 65504.0f;

uint16_t saturating_fp16(float v) {
  return fp32_to_fp16(v > kMaxFp16 ? kMaxFp16 : (v < -kMaxFp16 ? -kMaxFp16 : v));
}

// Quantizes 32 floats to `q` with the scale stored in `d`; returns sum(q).
// The "nm" min/max ignore a NaN like the scalar comparisons do, and FCVTNS
// rounds to nearest even like nearbyint.
int32_t quantize_q8_block(const float* x, uint16_t& d, int8_t* q) {
  float32x4_t v[8];
  float32x4_t amax = vdupq_n_f32(0.0f);
  for (int k = 0; k < 8; ++k) {
    v[k] = vld1q_f32(x + 4 * k);
    amax = vmaxnmq_f32(amax, vabsq_f32(v[k]));
  }
  const float scale = vmaxnmvq_f32(amax) / 127.0f;
  d = saturating_fp16(scale);
  const float id = scale != 0.0f ? 1.0f / scale : 0.0f;  // unrounded, as the scalar path
  int32x4_t sum = vdupq_n_s32(0);
  int32x4_t i32[8];
  for (int k = 0; k < 8; ++k) {
    const float32x4_t scaled = vmaxnmq_f32(vminnmq_f32(vmulq_n_f32(v[k], id), vdupq_n_f32(127.0f)), vdupq_n_f32(-127.0f));
    i32[k] = vcvtnq_s32_f32(scaled);
    sum = vaddq_s32(sum, i32[k]);
  }
  for (int k = 0; k < 8; k += 4) {
    const int16x8_t a = vcombine_s16(vqmovn_s32(i32[k]), vqmovn_s32(i32[k + 1]));
    const int16x8_t b = vcombine_s16(vqmovn_s32(i32[k + 2]), vqmovn_s32(i32[k + 3]));
    vst1q_s8(q + 4 * k, vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)));
  }
  return vaddvq_s32(sum);
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i) quantize_q8_block(src + i * kBlock, b[i].d, b[i].qs);
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i) {
    const int32_t sum = quantize_q8_block(src + i * kBlock, b[i].d, b[i].qs);
    b[i].s = saturating_fp16(fp16_to_fp32(b[i].d) * static_cast<float>(sum));
  }
}

}  // namespace

void register_legacy_neon(KernelTable& table) {
  using T = TensorType;
  table[T::F32].vec_dot = dot_float_row<F32Row>;
  table[T::F16].vec_dot = dot_float_row<F16Row>;
  table[T::BF16].vec_dot = dot_float_row<BF16Row>;
  table[T::Q4_0].vec_dot = dot_blocks<BlockQ4_0, BlockQ8_0>;
  table[T::Q4_1].vec_dot = dot_blocks<BlockQ4_1, BlockQ8_1>;
  table[T::Q5_0].vec_dot = dot_blocks<BlockQ5_0, BlockQ8_0>;
  table[T::Q5_1].vec_dot = dot_blocks<BlockQ5_1, BlockQ8_1>;
  table[T::Q8_0].vec_dot = dot_blocks<BlockQ8_0, BlockQ8_0>;
  table[T::Q8_1].vec_dot = dot_blocks<BlockQ8_1, BlockQ8_1>;
  table[T::Q8_0].quantize = quantize_q8_0;
  table[T::Q8_1].quantize = quantize_q8_1;
}

}  // namespace sieve::tensor::detail
