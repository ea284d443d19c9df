// AVX2 K-quant kernels: dot products of Q2_K..Q6_K rows with Q8_K
// activations, and the Q8_K activation quantizer. Layouts: blocks_k.h; the
// common scheme: kquant_simd_common.h. Registers run 32 values at a time.

#if !defined(__AVX2__)
#error "kquant_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (-mavx2 -mfma -mf16c)"
#endif

#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/kernels.h"
#include "tensor/x86/kquant_simd_common.h"

namespace sieve::tensor {
namespace {

using namespace x86;

// For 32 quants of 16-value groups (a, a+1): the low lane takes group a's
// scale and the high lane group a+1's. `scales8` holds eight consecutive
// group scales as int16 in both lanes; `pair` picks groups 2*pair, 2*pair+1.
inline __m256i pair_scales(__m256i scales8, int pair) {
  const __m256i control = _mm256_set_m128i(word_broadcast_control(2 * pair + 1), word_broadcast_control(2 * pair));
  return _mm256_shuffle_epi8(scales8, control);
}

// The low eight int8 / uint8 group scales of `bytes` widened to int16,
// repeated in both lanes.
inline __m256i scales8_signed(__m128i bytes) { return _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(bytes)); }
inline __m256i scales8_unsigned(__m128i bytes) { return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(bytes)); }

// int32 sums of maddubs(q, y) weighted by the per-lane int16 scales.
inline __m256i scaled_dot(__m256i q, const int8_t* y, __m256i scales) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(y)), scales);
}

float vec_dot_q2_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m256i three = _mm256_set1_epi8(3);
  const __m128i low4 = _mm_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps(), acc_mins = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const float dmin = x[i].d * half_to_float(w[i].dmin);
    const __m128i packed = load128(w[i].scales);
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
    const __m256i min_terms = group16_bsum_terms(mins16, x[i]);
    acc_mins = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(min_terms), acc_mins);
    const __m128i scales = _mm_and_si128(packed, low4);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i scales8 = scales8_unsigned(h == 0 ? scales : _mm_srli_si128(scales, 8));
      __m256i bits = load256(w[i].qs + 32 * h);
      for (int k = 0; k < 4; ++k) {  // values 128h + 32k + l are bits 2k of byte l
        const __m256i q = _mm256_and_si256(bits, three);
        bits = _mm256_srli_epi16(bits, 2);
        sumi = _mm256_add_epi32(sumi, scaled_dot(q, x[i].qs + 128 * h + 32 * k, pair_scales(scales8, k)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - hsum(acc_mins);
}

float vec_dot_q3_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m256i one = _mm256_set1_epi8(1), three = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const __m128i scales = q3k_scales(w[i].scales);
    // Quants are used as 0..7; the stored value is 4 less: subtract 4 * scale * bsum.
    const __m256i offset = group16_bsum_terms(_mm256_cvtepi8_epi16(scales), x[i]);
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 2));
    __m256i high_bits = load256(w[i].hmask);  // bit g of byte l: bit 2 of value 32g + l
    for (int h = 0; h < 2; ++h) {
      const __m256i scales8 = scales8_signed(h == 0 ? scales : _mm_srli_si128(scales, 8));
      __m256i low_bits = load256(w[i].qs + 32 * h);
      for (int k = 0; k < 4; ++k) {
        const __m256i high = _mm256_slli_epi16(_mm256_and_si256(high_bits, one), 2);
        const __m256i q = _mm256_or_si256(_mm256_and_si256(low_bits, three), high);
        low_bits = _mm256_srli_epi16(low_bits, 2);
        high_bits = _mm256_srli_epi16(high_bits, 1);
        sumi = _mm256_add_epi32(sumi, scaled_dot(q, x[i].qs + 128 * h + 32 * k, pair_scales(scales8, k)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

// Q4_K / Q5_K share everything but the fifth bit: `Block` supplies it.
template <typename Block>
float vec_dot_k4(int64_t n, const void* vw, const void* vx) {
  constexpr bool kHasHighBit = sizeof(Block) == sizeof(BlockQ5K);
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1), two = _mm256_set1_epi8(2);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_mins = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    const float dmin = x[i].d * half_to_float(w[i].dmin);
    const K4Scales s = unpack_k4_scales(w[i].scales);
    acc_mins = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(k4_min_terms(s.mins, x[i])), acc_mins);
    const __m256i scales = scales8_unsigned(_mm_cvtsi64_si128(static_cast<int64_t>(s.scales)));
    __m256i high_bits = _mm256_setzero_si256();
    if constexpr (kHasHighBit) high_bits = load256(w[i].qh);  // bit g of byte l: bit 4 of value 32g + l
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {  // values 64j + l: low nibbles (group 2j), 64j + 32 + l: high (2j+1)
      const __m256i bytes = load256(w[i].qs + 32 * j);
      __m256i lo = _mm256_and_si256(bytes, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);
      if constexpr (kHasHighBit) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(high_bits, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(high_bits, two), 3));
        high_bits = _mm256_srli_epi16(high_bits, 2);
      }
      const __m256i scale_lo = _mm256_shuffle_epi8(scales, _mm256_broadcastsi128_si256(word_broadcast_control(2 * j)));
      const __m256i scale_hi =
          _mm256_shuffle_epi8(scales, _mm256_broadcastsi128_si256(word_broadcast_control(2 * j + 1)));
      sumi = _mm256_add_epi32(sumi, scaled_dot(lo, x[i].qs + 64 * j, scale_lo));
      sumi = _mm256_add_epi32(sumi, scaled_dot(hi, x[i].qs + 64 * j + 32, scale_hi));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - hsum(acc_mins);
}

float vec_dot_q6_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ6K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i bits01 = _mm256_set1_epi8(0x03), bits23 = _mm256_set1_epi8(0x0C);
  const __m256i bits45 = _mm256_set1_epi8(0x30), bits67 = _mm256_set1_epi8(static_cast<char>(0xC0));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    prefetch_ahead(w + i);
    const float d = x[i].d * half_to_float(w[i].d);
    // Quants are used as 0..63; the stored value is 32 less.
    const __m256i offset = group16_bsum_terms(_mm256_cvtepi8_epi16(load128(w[i].scales)), x[i]);
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5));
    for (int h = 0; h < 2; ++h) {  // 128 values: four runs of 32, one per 2-bit field of qh
      const __m256i scales8 = scales8_signed(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w[i].scales + 8 * h)));
      const __m256i ql0 = load256(w[i].ql + 64 * h), ql1 = load256(w[i].ql + 64 * h + 32);
      const __m256i qh = load256(w[i].qh + 32 * h);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, bits01), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_slli_epi16(_mm256_and_si256(qh, bits23), 2));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, bits45));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                             _mm256_srli_epi16(_mm256_and_si256(qh, bits67), 2));
      for (int k = 0; k < 4; ++k) {
        sumi = _mm256_add_epi32(sumi, scaled_dot(q[k], x[i].qs + 128 * h + 32 * k, pair_scales(scales8, k)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

// Same values as the scalar quantizer, bit for bit: the same scale (one
// float division), the same products, and cvtps rounds to nearest even like
// the scalar nearest_int. Packing saturates at -128/127, which in-range
// values (|q| <= 127) never reach.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i dword_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    BlockQ8K& out = blocks[i];
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < kQK; j += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask));
    const float amax = hmax(vmax);
    if (!(amax >= kQ8KZeroBelow)) {
      std::memset(&out, 0, sizeof(out));
      continue;
    }
    const float iscale = 127.f / amax;
    const __m256 vscale = _mm256_set1_ps(iscale);
    for (int c = 0; c < kQK / 32; ++c) {
      __m256i q[4];
      for (int t = 0; t < 4; ++t) {
        // Clamped in float: a NaN input becomes 127, never the -128 the
        // conversion would make of it (the AVX2 GEMM's sign trick needs
        // activations within +-127, x86/gemm_q8_avx2.cpp).
        __m256 scaled = _mm256_min_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * c + 8 * t), vscale), _mm256_set1_ps(127.0f));
        scaled = _mm256_max_ps(scaled, _mm256_set1_ps(-127.0f));
        q[t] = _mm256_cvtps_epi32(scaled);
      }
      // The packs work per 128-bit lane; the permute restores value order.
      const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, dword_order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.qs + 32 * c), ordered);
      // Group sums: bias to unsigned so SAD can add 8 bytes at a time.
      const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(ordered, bias), _mm256_setzero_si256());
      const __m256i pairs = _mm256_add_epi64(sad, _mm256_srli_si256(sad, 8));
      out.bsums[2 * c] = static_cast<int16_t>(_mm256_extract_epi32(pairs, 0) - 16 * 128);
      out.bsums[2 * c + 1] = static_cast<int16_t>(_mm256_extract_epi32(pairs, 4) - 16 * 128);
    }
    out.d = 1.f / iscale;
  }
}

}  // namespace

namespace detail {
void register_kquant_avx2(KernelTable& table) {
  table[TensorType::Q2_K].vec_dot = &vec_dot_q2_k;
  table[TensorType::Q3_K].vec_dot = &vec_dot_q3_k;
  table[TensorType::Q4_K].vec_dot = &vec_dot_k4<BlockQ4K>;
  table[TensorType::Q5_K].vec_dot = &vec_dot_k4<BlockQ5K>;
  table[TensorType::Q6_K].vec_dot = &vec_dot_q6_k;
  table[TensorType::Q8_K].quantize = &quantize_q8_k;
}
}  // namespace detail

}  // namespace sieve::tensor
