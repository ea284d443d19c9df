// AVX-512 (F/BW/VL/DQ, no VNNI) K-quant kernels: dot products of Q2_K..Q6_K
// rows with Q8_K activations, and the Q8_K activation quantizer. Layouts:
// blocks_k.h; the common scheme: kquant_simd_common.h.
//
// Registers run 64 consecutive values at a time, so activations load
// straight from Q8_K in value order. The weight layouts keep the two 32-value
// runs of such a span in the same 32 bytes under different bit shifts, so
// those bytes are broadcast to both register halves and the upper half is
// shifted by a masked shift.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "kquant_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ (and AVX2, FMA, F16C) enabled"
#endif

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
// GCC 12 reports the _mm512_undefined_* placeholders inside its own AVX-512
// intrinsics as uninitialized once inlined (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/kernels.h"
#include "tensor/x86/kquant_simd_common.h"

namespace sieve::tensor {
namespace {

using namespace x86;

constexpr __mmask32 kUpperWords = 0xFFFF0000u;  // int16 lanes of the upper 256 bits

inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }
inline __m512i broadcast_32_bytes(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }

// int16 permutation indices giving every 128-bit lane r of a span the scale of
// 16-value group 4*span + r (a span = 64 values).
struct GroupScaleIndex {
  alignas(64) int16_t idx[4][32];
  constexpr GroupScaleIndex() : idx{} {
    for (int span = 0; span < 4; ++span)
      for (int w = 0; w < 32; ++w) idx[span][w] = static_cast<int16_t>(4 * span + w / 8);
  }
};
constexpr GroupScaleIndex kGroupScaleIndex;

// The sixteen int16 group scales laid out for span `span`.
inline __m512i span_scales(__m256i scales16, int span) {
  return _mm512_permutexvar_epi16(load512(kGroupScaleIndex.idx[span]), _mm512_castsi256_si512(scales16));
}

// int32 sums of maddubs(q, y) weighted by the per-lane int16 scales.
inline __m512i scaled_dot(__m512i q, const int8_t* y, __m512i scales) {
  return _mm512_madd_epi16(_mm512_maddubs_epi16(q, load512(y)), scales);
}

// Q2_K and Q3_K keep 2-bit fields: value 128h + 32k + l is bits 2k of byte
// 32h + l. Returns the fields of span 2h + pair as bytes 0..3.
struct TwoBitSpans {
  __m512i bits;
  explicit TwoBitSpans(const uint8_t* bytes32) {
    const __m512i b = broadcast_32_bytes(bytes32);
    bits = _mm512_mask_srli_epi16(b, kUpperWords, b, 2);  // upper half: the next field
  }
  __m512i next() {
    const __m512i q = _mm512_and_si512(bits, _mm512_set1_epi8(3));
    bits = _mm512_srli_epi16(bits, 4);
    return q;
  }
};

float vec_dot_q2_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m128i low4 = _mm_set1_epi8(0x0F);
  __m512 acc = _mm512_setzero_ps();
  __m256 acc_mins = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const float dmin = x[i].d * half_to_float(w[i].dmin);
    const __m128i packed = load128(w[i].scales);
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
    acc_mins = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(group16_bsum_terms(mins16, x[i])), acc_mins);
    const __m256i scales16 = _mm256_cvtepu8_epi16(_mm_and_si128(packed, low4));
    __m512i sumi = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      TwoBitSpans fields(w[i].qs + 32 * h);
      for (int pair = 0; pair < 2; ++pair) {
        const int span = 2 * h + pair;
        sumi = _mm512_add_epi32(sumi, scaled_dot(fields.next(), x[i].qs + 64 * span, span_scales(scales16, span)));
      }
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc) - hsum(acc_mins);
}

float vec_dot_q3_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m512i four = _mm512_set1_epi8(4);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const __m256i scales16 = _mm256_cvtepi8_epi16(q3k_scales(w[i].scales));
    // Quants are used as 0..7; the stored value is 4 less: subtract 4 * scale * bsum.
    const __m256i offset = _mm256_slli_epi32(group16_bsum_terms(scales16, x[i]), 2);
    __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), offset));
    // Bit g of hmask byte l is bit 2 of value 32g + l; upper half: group g + 1.
    const __m512i hmask = broadcast_32_bytes(w[i].hmask);
    __m512i high_bits = _mm512_mask_srli_epi16(hmask, kUpperWords, hmask, 1);
    for (int h = 0; h < 2; ++h) {
      TwoBitSpans fields(w[i].qs + 32 * h);
      for (int pair = 0; pair < 2; ++pair) {
        const int span = 2 * h + pair;
        const __m512i high = _mm512_and_si512(_mm512_slli_epi16(high_bits, 2), four);
        high_bits = _mm512_srli_epi16(high_bits, 2);
        const __m512i q = _mm512_or_si512(fields.next(), high);
        sumi = _mm512_add_epi32(sumi, scaled_dot(q, x[i].qs + 64 * span, span_scales(scales16, span)));
      }
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// Q4_K / Q5_K: span j (values 64j..64j+63) is the low nibbles of bytes
// 32j..32j+31 (group 2j) then their high nibbles (group 2j+1).
template <typename Block>
float vec_dot_k4(int64_t n, const void* vw, const void* vx) {
  constexpr bool kHasHighBit = sizeof(Block) == sizeof(BlockQ5K);
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bit4 = _mm512_set1_epi8(0x10);
  __m512i half_select[4];  // span j: scale 2j in the lower half, 2j+1 in the upper
  for (int j = 0; j < 4; ++j) {
    half_select[j] = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_broadcastsi128_si256(word_broadcast_control(2 * j))),
        _mm256_broadcastsi128_si256(word_broadcast_control(2 * j + 1)), 1);
  }
  __m512 acc = _mm512_setzero_ps();
  __m128 acc_mins = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const float dmin = x[i].d * half_to_float(w[i].dmin);
    const K4Scales s = unpack_k4_scales(w[i].scales);
    acc_mins = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(k4_min_terms(s.mins, x[i])), acc_mins);
    const __m512i scales = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(s.scales))));
    __m512i high_bits = _mm512_setzero_si512();
    if constexpr (kHasHighBit) {  // bit g of qh byte l is bit 4 of value 32g + l
      const __m512i qh = broadcast_32_bytes(w[i].qh);
      high_bits = _mm512_mask_srli_epi16(qh, kUpperWords, qh, 1);
    }
    __m512i sumi = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      const __m512i bytes = broadcast_32_bytes(w[i].qs + 32 * j);
      __m512i q = _mm512_and_si512(_mm512_mask_srli_epi16(bytes, kUpperWords, bytes, 4), low4);
      if constexpr (kHasHighBit) {
        q = _mm512_or_si512(q, _mm512_and_si512(_mm512_slli_epi16(high_bits, 4), bit4));
        high_bits = _mm512_srli_epi16(high_bits, 2);
      }
      sumi = _mm512_add_epi32(sumi, scaled_dot(q, x[i].qs + 64 * j, _mm512_shuffle_epi8(scales, half_select[j])));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc) - hsum(acc_mins);
}

// Q6_K: half h holds values 128h..128h+127. Its 64 ql bytes give the low
// nibbles of span 2h in order and the high nibbles of span 2h+1; the 32 qh
// bytes give the top two bits of all four 32-value runs (bits 2k for run k).
float vec_dot_q6_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ6K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const __m256i scales16 = _mm256_cvtepi8_epi16(load128(w[i].scales));
    // Quants are used as 0..63; the stored value is 32 less.
    const __m256i offset = _mm256_slli_epi32(group16_bsum_terms(scales16, x[i]), 5);
    __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), offset));
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = load512(w[i].ql + 64 * h);
      const __m512i qh = broadcast_32_bytes(w[i].qh + 32 * h);
      // Move run k's two bits to bits 4..5: runs 0,1 (span 2h) shift left by 4, 2; runs 2,3 by 0, -2.
      const __m512i high_a = _mm512_and_si512(_mm512_mask_slli_epi16(_mm512_slli_epi16(qh, 4), kUpperWords, qh, 2), bits45);
      const __m512i high_b = _mm512_and_si512(_mm512_mask_srli_epi16(qh, kUpperWords, qh, 2), bits45);
      const __m512i span_a = _mm512_or_si512(_mm512_and_si512(ql, low4), high_a);
      const __m512i span_b = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), high_b);
      sumi = _mm512_add_epi32(sumi, scaled_dot(span_a, x[i].qs + 128 * h, span_scales(scales16, 2 * h)));
      sumi = _mm512_add_epi32(sumi, scaled_dot(span_b, x[i].qs + 128 * h + 64, span_scales(scales16, 2 * h + 1)));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// Bit-identical to the scalar quantizer (same scale, same products, cvtps
// rounds to nearest even like nearest_int). One register is one 16-value
// group, so its sum is the group's bsum directly.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    BlockQ8K& out = blocks[i];
    __m512 vmax = _mm512_setzero_ps();
    for (int j = 0; j < kQK; j += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
    const float amax = _mm512_reduce_max_ps(vmax);
    if (!(amax >= kQ8KZeroBelow)) {
      std::memset(&out, 0, sizeof(out));
      continue;
    }
    const float iscale = 127.f / amax;
    const __m512 vscale = _mm512_set1_ps(iscale);
    for (int g = 0; g < kQK / 16; ++g) {
      // Clamped in float: a NaN input becomes 127, never -128 (as in kquant_avx2.cpp).
      __m512 scaled = _mm512_min_ps(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), vscale), _mm512_set1_ps(127.0f));
      scaled = _mm512_max_ps(scaled, _mm512_set1_ps(-127.0f));
      const __m512i q = _mm512_cvtps_epi32(scaled);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out.qs + 16 * g), _mm512_cvtsepi32_epi8(q));
      out.bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    out.d = 1.f / iscale;
  }
}

}  // namespace

namespace detail {
void register_kquant_avx512(KernelTable& table) {
  table[TensorType::Q2_K].vec_dot = &vec_dot_q2_k;
  table[TensorType::Q3_K].vec_dot = &vec_dot_q3_k;
  table[TensorType::Q4_K].vec_dot = &vec_dot_k4<BlockQ4K>;
  table[TensorType::Q5_K].vec_dot = &vec_dot_k4<BlockQ5K>;
  table[TensorType::Q6_K].vec_dot = &vec_dot_q6_k;
  table[TensorType::Q8_K].quantize = &quantize_q8_k;
}
}  // namespace detail

}  // namespace sieve::tensor
