// AVX-512 (F, BW, VL, DQ) dot products for IQ4_NL, IQ4_XS and MXFP4. As the
// AVX2 versions (iquant_avx2.cpp), with two 32-value blocks per register:
// lanes 0..7 hold one block's partial sums, lanes 8..15 the next one's.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "iquant_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ enabled (see core/tensor/CMakeLists.txt)"
#endif

// GCC 12's AVX-512 intrinsics self-initialise their "undefined" operands,
// which -Wall reports at every use (GCC bug 105593): silence that here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

float hsum512(__m512 v) { return x86::hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1))); }

__m512i table512(const int8_t* table) {
  return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
}

// The indices of two blocks as bytes 0..15 in value order: 128-bit lanes
// hold [first, first, second, second], the second copy of each shifted so its
// high nibbles come down.
__m512i pair_indices(const uint8_t* first, const uint8_t* second) {
  __m512i both = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first)));
  both = _mm512_mask_broadcast_i32x4(both, 0xff00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(second)));
  const __m512i shifted = _mm512_srlv_epi64(both, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4));
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0f));
}

__m512i pair_q8(const int8_t* first, const int8_t* second) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(load256(first)), load256(second), 1);
}

// 16-bit pair sums of q[j] * x[j], both signed (q's sign moved onto x; exact
// since |q| <= 127 and x holds no -128).
__m512i signed_pairs(__m512i q, __m512i x) {
  const __m512i x_signed = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(q), _mm512_setzero_si512(), x);
  return _mm512_maddubs_epi16(_mm512_abs_epi8(q), x_signed);
}

float iq4_nl_scale(const BlockIQ4NL& b) { return half_to_float(b.d); }
float mxfp4_scale(const BlockMXFP4& b) { return e8m0_half_to_float(b.e); }

// The scales of 8 consecutive blocks as floats, converted together.
__m256 scales8(const BlockIQ4NL* b) { return halves8<&BlockIQ4NL::d>(b); }

// 2^(e - 128) from the bits (see e8m0_half_to_float).
__m256 scales8(const BlockMXFP4* b) {
  alignas(8) uint8_t e[8];
  for (int k = 0; k < 8; ++k) e[k] = b[k].e;
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(e)));
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(v, _mm256_set1_epi32(1)), 23);
  const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), v);
  const __mmask8 small = _mm256_cmplt_epu32_mask(v, _mm256_set1_epi32(2));
  return _mm256_castsi256_ps(_mm256_mask_blend_epi32(small, normal, subnormal));
}

// Scales of blocks 2p and 2p + 1 of a group of 8, over the lanes their sums occupy.
__m512 pair_scale(__m256 scales, int pair) {
  const __m512i lane_block = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  return _mm512_permutexvar_ps(_mm512_add_epi32(lane_block, _mm512_set1_epi32(2 * pair)), _mm512_castps256_ps512(scales));
}

// IQ4_NL and MXFP4 against Q8_0, in groups of 8 blocks (scales converted
// together), two blocks per register.
template <class Block, const int8_t* kTable, float (*kScale)(const Block&)>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / kIqBlockElems;
  const __m512i table = table512(kTable);
  const __m512i ones = _mm512_set1_epi16(1);
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    prefetch_ahead<8 * sizeof(Block)>(wb + i);
    const __m256 scales = _mm256_mul_ps(scales8(wb + i), halves8<&BlockQ8_0::d>(xb + i));
    for (int p = 0; p < 4; ++p) {
      const int64_t b = i + 2 * p;
      const __m512i q = _mm512_shuffle_epi8(table, pair_indices(wb[b].qs, wb[b + 1].qs));
      const __m512i sums = _mm512_madd_epi16(signed_pairs(q, pair_q8(xb[b].qs, xb[b + 1].qs)), ones);
      acc[p % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), pair_scale(scales, p), acc[p % 2]);
    }
  }
  float sum = hsum512(_mm512_add_ps(acc[0], acc[1]));
  for (; i < nb; ++i) {  // the last blocks one at a time
    const __m256i q = _mm256_shuffle_epi8(_mm512_castsi512_si256(table), q4_bytes(wb[i].qs));
    sum += kScale(wb[i]) * half_to_float(xb[i].d) * static_cast<float>(x86::hsum(dot_i8(q, load256(xb[i].qs))));
  }
  return sum;
}

// ---- with VNNI --------------------------------------------------------------------
// The same loop with levels as unsigned bytes u = level + 128 (the table
// shifted): vpdpbusd multiplies u with the signed activation directly, and a
// second one with 128 gives the amount to take off, 3 operations per pair of
// blocks instead of the sign trick's 5. Exact integer sums, as above.

#if defined(__GNUC__) || defined(__clang__)
#define SIEVE_TARGET_VNNI __attribute__((target("avx512vnni")))
#else
#define SIEVE_TARGET_VNNI
#endif

template <class Block, const int8_t* kTable, float (*kScale)(const Block&)>
SIEVE_TARGET_VNNI float dot_blocks_vnni(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / kIqBlockElems;
  const __m512i table = _mm512_xor_si512(table512(kTable), _mm512_set1_epi8(static_cast<char>(0x80)));
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    prefetch_ahead<8 * sizeof(Block)>(wb + i);
    const __m256 scales = _mm256_mul_ps(scales8(wb + i), halves8<&BlockQ8_0::d>(xb + i));
    for (int p = 0; p < 4; ++p) {
      const int64_t b = i + 2 * p;
      const __m512i u = _mm512_shuffle_epi8(table, pair_indices(wb[b].qs, wb[b + 1].qs));
      const __m512i xq = pair_q8(xb[b].qs, xb[b + 1].qs);
      const __m512i sums = _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, u, xq), _mm512_dpbusd_epi32(zero, offset, xq));
      acc[p % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), pair_scale(scales, p), acc[p % 2]);
    }
  }
  float sum = hsum512(_mm512_add_ps(acc[0], acc[1]));
  for (; i < nb; ++i) {
    const __m256i q = _mm256_shuffle_epi8(_mm512_castsi512_si256(table512(kTable)), q4_bytes(wb[i].qs));
    sum += kScale(wb[i]) * half_to_float(xb[i].d) * static_cast<float>(x86::hsum(dot_i8(q, load256(xb[i].qs))));
  }
  return sum;
}

// IQ4_XS against Q8_K: four pairs of sub-blocks per super-block, each pair's
// 16-bit sums widened by a madd with the two sub-block scales (ls - 32).
float dot_iq4_xs(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ4XS*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const int64_t nb = n / kIq4xsBlockElems;
  const __m512i table = table512(kIq4nlValues);
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(BlockIQ4XS)>(wb + i);
    const BlockIQ4XS& b = wb[i];
    __m512i total = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const __m512i q = _mm512_shuffle_epi8(table, pair_indices(b.qs + 32 * p, b.qs + 32 * p + 16));
      const __m512i xq = _mm512_loadu_si512(xb[i].qs + 64 * p);
      const __m512i scale = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16(static_cast<int16_t>(iq4xs_scale(b, 2 * p) - 32)),
                                                    _mm512_set1_epi16(static_cast<int16_t>(iq4xs_scale(b, 2 * p + 1) - 32)));
      total = _mm512_add_epi32(total, _mm512_madd_epi16(signed_pairs(q, xq), scale));
    }
    const __m512 d = _mm512_set1_ps(half_to_float(b.d) * xb[i].d);
    acc[i % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return hsum512(_mm512_add_ps(acc[0], acc[1]));
}

}  // namespace

void register_iquant_avx512(KernelTable& table) {
  using T = TensorType;
  table[T::IQ4_NL].vec_dot = dot_blocks<BlockIQ4NL, kIq4nlValues, iq4_nl_scale>;
  table[T::MXFP4].vec_dot = dot_blocks<BlockMXFP4, kMxfp4Values, mxfp4_scale>;
  table[T::IQ4_XS].vec_dot = dot_iq4_xs;
}

void register_iquant_avx512_vnni(KernelTable& table) {
  using T = TensorType;
  table[T::IQ4_NL].vec_dot = dot_blocks_vnni<BlockIQ4NL, kIq4nlValues, iq4_nl_scale>;
  table[T::MXFP4].vec_dot = dot_blocks_vnni<BlockMXFP4, kMxfp4Values, mxfp4_scale>;
}

}  // namespace sieve::tensor::detail
