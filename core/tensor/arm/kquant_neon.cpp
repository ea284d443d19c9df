// NEON (AArch64) K-quant kernels: dot products of Q2_K..Q6_K rows with Q8_K
// activations, and the Q8_K activation quantizer. Layouts: blocks_k.h.
//
// Same scheme as the x86 kernels: weight quants widened to non-negative
// bytes (offsets such as Q6_K's -32 folded in through the activation's
// bsums), multiplied with the int8 activations 16 at a time into int32
// partial sums, each group's sums scaled by its integer scale, and one float
// multiply-add per block. Uses SDOT when the build targets it (ARMv8.2
// dotprod), widening multiplies otherwise.

#include <arm_neon.h>

#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/kernels.h"

namespace sieve::tensor {
namespace {

// acc + pairwise-summed products of 16 int8 lanes (q >= 0 here, so every
// int16 intermediate stays below 2 * 63 * 128).
inline int32x4_t dot16(int32x4_t acc, int8x16_t q, int8x16_t y) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, q, y);
#else
  const int16x8_t products = vmlal_high_s8(vmull_s8(vget_low_s8(q), vget_low_s8(y)), q, y);
  return vpadalq_s16(acc, products);
#endif
}

inline int8x16_t as_s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

inline float half_to_float(uint16_t h) {
  __fp16 f;
  std::memcpy(&f, &h, sizeof(f));
  return static_cast<float>(f);
}

// Sum over the sixteen 16-value groups of weight[g] * bsums[g].
inline int32_t group16_bsum_terms(const int16_t weights[16], const BlockQ8K& x) {
  const int16x8_t w0 = vld1q_s16(weights), w1 = vld1q_s16(weights + 8);
  const int16x8_t b0 = vld1q_s16(x.bsums), b1 = vld1q_s16(x.bsums + 8);
  int32x4_t sum = vmull_s16(vget_low_s16(w0), vget_low_s16(b0));
  sum = vmlal_high_s16(sum, w0, b0);
  sum = vmlal_s16(sum, vget_low_s16(w1), vget_low_s16(b1));
  sum = vmlal_high_s16(sum, w1, b1);
  return vaddvq_s32(sum);
}

// Dot product of 32 quants (two registers) with 32 activations, as int32x4.
inline int32x4_t dot32(const uint8x16_t q[2], const int8_t* y) {
  return dot16(dot16(vdupq_n_s32(0), as_s8(q[0]), vld1q_s8(y)), as_s8(q[1]), vld1q_s8(y + 16));
}

float vec_dot_q2_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const uint8x16_t three = vdupq_n_u8(3);
  float sum = 0.f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int16_t scales[16], mins[16];
    for (int g = 0; g < 16; ++g) {
      scales[g] = static_cast<int16_t>(w[i].scales[g] & 0xF);
      mins[g] = static_cast<int16_t>(w[i].scales[g] >> 4);
    }
    int32x4_t sumi = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      uint8x16_t bits[2] = {vld1q_u8(w[i].qs + 32 * h), vld1q_u8(w[i].qs + 32 * h + 16)};
      for (int k = 0; k < 4; ++k) {  // value 128h + 32k + l: bits 2k of byte l; groups of 16
        const int8_t* y = x[i].qs + 128 * h + 32 * k;
        const int g = 8 * h + 2 * k;
        sumi = vmlaq_n_s32(sumi, dot16(vdupq_n_s32(0), as_s8(vandq_u8(bits[0], three)), vld1q_s8(y)), scales[g]);
        sumi = vmlaq_n_s32(sumi, dot16(vdupq_n_s32(0), as_s8(vandq_u8(bits[1], three)), vld1q_s8(y + 16)),
                           scales[g + 1]);
        bits[0] = vshrq_n_u8(bits[0], 2);
        bits[1] = vshrq_n_u8(bits[1], 2);
      }
    }
    const float d = x[i].d * half_to_float(w[i].d), dmin = x[i].d * half_to_float(w[i].dmin);
    sum += d * static_cast<float>(vaddvq_s32(sumi)) - dmin * static_cast<float>(group16_bsum_terms(mins, x[i]));
  }
  return sum;
}

float vec_dot_q3_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const uint8x16_t one = vdupq_n_u8(1), three = vdupq_n_u8(3);
  float sum = 0.f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int8_t packed_scales[16];
    unpack_q3k_scales(w[i].scales, packed_scales);
    int16_t scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = packed_scales[g];
    uint8x16_t high_bits[2] = {vld1q_u8(w[i].hmask), vld1q_u8(w[i].hmask + 16)};  // bit g: value 32g + l
    int32x4_t sumi = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      uint8x16_t low_bits[2] = {vld1q_u8(w[i].qs + 32 * h), vld1q_u8(w[i].qs + 32 * h + 16)};
      for (int k = 0; k < 4; ++k) {
        const int8_t* y = x[i].qs + 128 * h + 32 * k;
        const int g = 8 * h + 2 * k;
        for (int t = 0; t < 2; ++t) {
          const uint8x16_t q = vorrq_u8(vandq_u8(low_bits[t], three), vshlq_n_u8(vandq_u8(high_bits[t], one), 2));
          sumi = vmlaq_n_s32(sumi, dot16(vdupq_n_s32(0), as_s8(q), vld1q_s8(y + 16 * t)), scales[g + t]);
          low_bits[t] = vshrq_n_u8(low_bits[t], 2);
          high_bits[t] = vshrq_n_u8(high_bits[t], 1);
        }
      }
    }
    // Quants were used as 0..7; the stored value is 4 less.
    const int32_t total = vaddvq_s32(sumi) - 4 * group16_bsum_terms(scales, x[i]);
    sum += x[i].d * half_to_float(w[i].d) * static_cast<float>(total);
  }
  return sum;
}

// Q4_K / Q5_K share everything but the fifth bit: `Block` supplies it.
template <typename Block>
float vec_dot_k4(int64_t n, const void* vw, const void* vx) {
  constexpr bool kHasHighBit = sizeof(Block) == sizeof(BlockQ5K);
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const uint8x16_t low4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1), two = vdupq_n_u8(2);
  float sum = 0.f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const K4Scales s = unpack_k4_scales(w[i].scales);
    // Mins: sum over groups of min[g] * (sum of the activation over group g).
    const int16x8_t sums32 = vpaddq_s16(vld1q_s16(x[i].bsums), vld1q_s16(x[i].bsums + 8));
    const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vcreate_u8(s.mins)));
    const int32_t min_terms = vaddvq_s32(vmlal_high_s16(vmull_s16(vget_low_s16(mins), vget_low_s16(sums32)), mins, sums32));
    uint8x16_t high_bits[2] = {vdupq_n_u8(0), vdupq_n_u8(0)};
    if constexpr (kHasHighBit) {  // bit g of qh byte l: bit 4 of value 32g + l
      high_bits[0] = vld1q_u8(w[i].qh);
      high_bits[1] = vld1q_u8(w[i].qh + 16);
    }
    int32x4_t sumi = vdupq_n_s32(0);
    for (int j = 0; j < 4; ++j) {  // values 64j + l: low nibbles (group 2j), 64j + 32 + l: high (2j+1)
      uint8x16_t lo[2], hi[2];
      for (int t = 0; t < 2; ++t) {
        const uint8x16_t bytes = vld1q_u8(w[i].qs + 32 * j + 16 * t);
        lo[t] = vandq_u8(bytes, low4);
        hi[t] = vshrq_n_u8(bytes, 4);
        if constexpr (kHasHighBit) {
          lo[t] = vorrq_u8(lo[t], vshlq_n_u8(vandq_u8(high_bits[t], one), 4));
          hi[t] = vorrq_u8(hi[t], vshlq_n_u8(vandq_u8(high_bits[t], two), 3));
          high_bits[t] = vshrq_n_u8(high_bits[t], 2);
        }
      }
      sumi = vmlaq_n_s32(sumi, dot32(lo, x[i].qs + 64 * j), static_cast<int32_t>((s.scales >> (16 * j)) & 0xff));
      sumi = vmlaq_n_s32(sumi, dot32(hi, x[i].qs + 64 * j + 32), static_cast<int32_t>((s.scales >> (16 * j + 8)) & 0xff));
    }
    const float d = x[i].d * half_to_float(w[i].d), dmin = x[i].d * half_to_float(w[i].dmin);
    sum += d * static_cast<float>(vaddvq_s32(sumi)) - dmin * static_cast<float>(min_terms);
  }
  return sum;
}

float vec_dot_q6_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ6K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const uint8x16_t low4 = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
  float sum = 0.f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int16_t scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = w[i].scales[g];
    int32x4_t sumi = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      for (int t = 0; t < 2; ++t) {  // 16 columns l = 16t .. 16t+15 of each 32-value run
        const uint8x16_t ql0 = vld1q_u8(w[i].ql + 64 * h + 16 * t);
        const uint8x16_t ql1 = vld1q_u8(w[i].ql + 64 * h + 32 + 16 * t);
        const uint8x16_t qh = vld1q_u8(w[i].qh + 32 * h + 16 * t);
        const uint8x16_t q[4] = {
            vorrq_u8(vandq_u8(ql0, low4), vshlq_n_u8(vandq_u8(qh, three), 4)),
            vorrq_u8(vandq_u8(ql1, low4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 2), three), 4)),
            vorrq_u8(vshrq_n_u8(ql0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 4), three), 4)),
            vorrq_u8(vshrq_n_u8(ql1, 4), vshlq_n_u8(vshrq_n_u8(qh, 6), 4)),
        };
        for (int k = 0; k < 4; ++k) {  // value 128h + 32k + 16t + l: group 8h + 2k + t
          const int8_t* y = x[i].qs + 128 * h + 32 * k + 16 * t;
          sumi = vmlaq_n_s32(sumi, dot16(vdupq_n_s32(0), as_s8(q[k]), vld1q_s8(y)), scales[8 * h + 2 * k + t]);
        }
      }
    }
    // Quants were used as 0..63; the stored value is 32 less.
    const int32_t total = vaddvq_s32(sumi) - 32 * group16_bsum_terms(scales, x[i]);
    sum += x[i].d * half_to_float(w[i].d) * static_cast<float>(total);
  }
  return sum;
}

// Bit-identical to the scalar quantizer: same scale, same products, and
// vcvtnq rounds to nearest even like the scalar nearest_int.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    BlockQ8K& out = blocks[i];
    float32x4_t vmax = vdupq_n_f32(0.f);
    for (int j = 0; j < kQK; j += 4) vmax = vmaxq_f32(vmax, vabsq_f32(vld1q_f32(x + j)));
    const float amax = vmaxvq_f32(vmax);
    if (!(amax >= kQ8KZeroBelow)) {
      std::memset(&out, 0, sizeof(out));
      continue;
    }
    const float iscale = 127.f / amax;
    for (int g = 0; g < kQK / 16; ++g) {
      int32x4_t q[4];
      for (int t = 0; t < 4; ++t) q[t] = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * t), iscale));
      const int16x8_t q01 = vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]));
      const int16x8_t q23 = vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]));
      vst1q_s8(out.qs + 16 * g, vcombine_s8(vqmovn_s16(q01), vqmovn_s16(q23)));
      out.bsums[g] = static_cast<int16_t>(vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3]))));
    }
    out.d = 1.f / iscale;
  }
}

}  // namespace

namespace detail {
void register_kquant_neon(KernelTable& table) {
  table[TensorType::Q2_K].vec_dot = &vec_dot_q2_k;
  table[TensorType::Q3_K].vec_dot = &vec_dot_q3_k;
  table[TensorType::Q4_K].vec_dot = &vec_dot_k4<BlockQ4K>;
  table[TensorType::Q5_K].vec_dot = &vec_dot_k4<BlockQ5K>;
  table[TensorType::Q6_K].vec_dot = &vec_dot_q6_k;
  table[TensorType::Q8_K].quantize = &quantize_q8_k;
}
}  // namespace detail

}  // namespace sieve::tensor
