// AVX-512 (F, BW, VL, DQ) kernels for IQ2_XXS, IQ2_XS and IQ2_S: the dot with
// Q8_K as the AVX2 one (iq2_avx2.cpp) with 64 values per register, and the
// widening of a block for the int8 GEMM (iq2_pack.h).
//
// The eight sign bytes of eight groups, read as one 64-bit word, are exactly
// a byte mask (bit 8l + j = value 8l + j negative), so the signs move onto
// the activation with one masked subtraction. The 16-bit pair sums of the
// four 16-value sub-blocks in a register sit in its four 128-bit lanes and
// are widened by a madd with the lanes' factors 2 ls + 1. Grid entries come
// in with one gather per 64 values where the indices load as a vector.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "iq2_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ enabled (see core/tensor/CMakeLists.txt)"
#endif

// GCC 12's AVX-512 intrinsics self-initialise their "undefined" operands,
// which -Wall reports at every use (GCC bug 105593): silence that here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

#include "tensor/blocks_iq2.h"
#include "tensor/blocks_k.h"
#include "tensor/kernels.h"
#include "tensor/x86/iq2_pack.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

float hsum512(__m512 v) { return x86::hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1))); }

// Grid magnitudes of groups 8c..8c+7 (values 64c..64c+63).
template <class Block>
__m512i grid8(const Block& b, int c) {
  const int g = 8 * c;
  return _mm512_setr_epi64(static_cast<long long>(iq2_grid(b, g)), static_cast<long long>(iq2_grid(b, g + 1)),
                           static_cast<long long>(iq2_grid(b, g + 2)), static_cast<long long>(iq2_grid(b, g + 3)),
                           static_cast<long long>(iq2_grid(b, g + 4)), static_cast<long long>(iq2_grid(b, g + 5)),
                           static_cast<long long>(iq2_grid(b, g + 6)), static_cast<long long>(iq2_grid(b, g + 7)));
}

// The same with one gather where the eight indices load as a vector: IQ2_XS
// (9 low bits of each 16-bit qs) and IQ2_S (qs bytes plus 2 bits of qh).
__m512i grid8(const BlockIQ2XS& b, int c) {
  const __m512i q = _mm512_cvtepu16_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 8 * c)));
  return _mm512_i64gather_epi64(_mm512_and_si512(q, _mm512_set1_epi64(511)), kIq2xsGrid, 8);
}
__m512i grid8(const BlockIQ2S& b, int c) {
  const __m512i low = _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + 8 * c)));
  uint16_t qh;  // two bytes: four groups each, 2 bits per group
  std::memcpy(&qh, b.qh + 2 * c, sizeof(qh));
  const __m512i high = _mm512_and_si512(_mm512_srlv_epi64(_mm512_set1_epi64(qh), _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14)),
                                        _mm512_set1_epi64(3));
  return _mm512_i64gather_epi64(_mm512_or_si512(low, _mm512_slli_epi64(high, 8)), kIq2sGrid, 8);
}
__m512i grid8(const BlockIQ2XXS& b, int c) {  // indices: bytes 0-3 and 8-11 of the two sub-blocks' 16 bytes
  const __m128i words = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 8 * c));
  const __m128i idx = _mm_shuffle_epi8(words, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1));
  return _mm512_i64gather_epi64(_mm512_cvtepu8_epi64(idx), kIq2xxsGrid, 8);
}

// Negative-value mask of groups 8c..8c+7: their sign bytes in order.
template <class Block>
__mmask64 signs8(const Block& b, int c) {
  uint64_t out = 0;
  for (int l = 0; l < 8; ++l) out |= static_cast<uint64_t>(iq2_signs(b, 8 * c + l)) << (8 * l);
  return out;
}
// IQ2_XXS and IQ2_XS store 7 sign bits per group: with one group's bits in
// each 64-bit lane, add the parity bit (kIqEvenSigns) and narrow the lanes to
// the eight sign bytes.
__mmask64 signs_with_parity(__m512i s7) {
  __m512i p = _mm512_xor_si512(s7, _mm512_srli_epi64(s7, 4));
  p = _mm512_xor_si512(p, _mm512_srli_epi64(p, 2));
  p = _mm512_xor_si512(p, _mm512_srli_epi64(p, 1));
  const __m512i full = _mm512_or_si512(s7, _mm512_slli_epi64(_mm512_and_si512(p, _mm512_set1_epi64(1)), 7));
  return static_cast<__mmask64>(_mm_cvtsi128_si64(_mm512_cvtepi64_epi8(full)));
}
__mmask64 signs8(const BlockIQ2XS& b, int c) {
  const __m512i q = _mm512_cvtepu16_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 8 * c)));
  return signs_with_parity(_mm512_srli_epi64(q, 9));
}
__mmask64 signs8(const BlockIQ2XXS& b, int c) {  // 7 bits per group at 7l of each sub-block's second word
  const __m512i words = _mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1);
  const uint32_t w[2] = {iq2xxs_word(b, 2 * c, 1), iq2xxs_word(b, 2 * c + 1, 1)};
  const __m512i both = _mm512_permutexvar_epi64(words, _mm512_castsi128_si512(_mm_setr_epi32(static_cast<int>(w[0]), 0, static_cast<int>(w[1]), 0)));
  const __m512i s7 = _mm512_and_si512(_mm512_srlv_epi64(both, _mm512_setr_epi64(0, 7, 14, 21, 0, 7, 14, 21)), _mm512_set1_epi64(127));
  return signs_with_parity(s7);
}
__mmask64 signs8(const BlockIQ2S& b, int c) {  // stored as bytes already
  uint64_t out;
  std::memcpy(&out, b.qs + kIq2Groups + 8 * c, sizeof(out));
  return out;
}

// Factors 2 ls + 1 of 16-value sub-blocks 4c..4c+3, sub-block 4c + k over
// the 16-bit lanes of 128-bit lane k.
template <class Block>
__m512i factors4(const Block& b, int c) {
  const __m128i f = _mm_setr_epi32(2 * iq2_scale(b, 4 * c) + 1, 2 * iq2_scale(b, 4 * c + 1) + 1,
                                   2 * iq2_scale(b, 4 * c + 2) + 1, 2 * iq2_scale(b, 4 * c + 3) + 1);
  const __m512i spread = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                                  _mm512_castsi128_si512(f));
  return _mm512_or_si512(spread, _mm512_slli_epi32(spread, 16));  // both 16-bit halves
}

template <class Block>
float dot_iq2(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const int64_t nb = n / kIq2BlockElems;
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(Block)>(wb + i);
    const Block& b = wb[i];
    __m512i total = _mm512_setzero_si512();
    for (int c = 0; c < kIq2BlockElems / 64; ++c) {
      const __m512i xq = _mm512_loadu_si512(xb[i].qs + 64 * c);
      const __m512i signed_x = _mm512_mask_sub_epi8(xq, signs8(b, c), zero, xq);
      const __m512i pairs = _mm512_maddubs_epi16(grid8(b, c), signed_x);
      total = _mm512_add_epi32(total, _mm512_madd_epi16(pairs, factors4(b, c)));
    }
    const __m512 d = _mm512_set1_ps(half_to_float(b.d) * xb[i].d);
    acc[i % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return 0.125f * hsum512(_mm512_add_ps(acc[0], acc[1]));
}

// u = value + 128 = value ^ 0x80 for |value| < 128; scales as dequantize
// (quants_iq2.cpp) computes them, one per `kSub` values.
template <int kSub, class Block>
void unpack_q8(const Block& b, uint8_t* u, float* scale, size_t stride) {
  const __m512i zero = _mm512_setzero_si512(), flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int c = 0; c < kIq2BlockElems / 64; ++c) {
    const __m512i grid = grid8(b, c);
    const __m512i values = _mm512_mask_sub_epi8(grid, signs8(b, c), zero, grid);
    _mm512_storeu_si512(u + 64 * c, _mm512_xor_si512(values, flip));
  }
  const float d = half_to_float(b.d);
  for (int j = 0; j < kIq2BlockElems / kSub; ++j) {
    scale[static_cast<size_t>(j) * stride] = d * (0.5f + static_cast<float>(iq2_scale(b, j * kSub / 16))) * 0.25f;
  }
}

}  // namespace

void unpack_iq2_xxs_q8(const BlockIQ2XXS& b, uint8_t* u, float* scale, size_t stride) { unpack_q8<32>(b, u, scale, stride); }
void unpack_iq2_xs_q8(const BlockIQ2XS& b, uint8_t* u, float* scale, size_t stride) { unpack_q8<16>(b, u, scale, stride); }
void unpack_iq2_s_q8(const BlockIQ2S& b, uint8_t* u, float* scale, size_t stride) { unpack_q8<16>(b, u, scale, stride); }

void register_iq2_avx512(KernelTable& table) {
  using T = TensorType;
  table[T::IQ2_XXS].vec_dot = dot_iq2<BlockIQ2XXS>;
  table[T::IQ2_XS].vec_dot = dot_iq2<BlockIQ2XS>;
  table[T::IQ2_S].vec_dot = dot_iq2<BlockIQ2S>;
}

}  // namespace sieve::tensor::detail
