// AVX-512 (F, BW, VL, DQ) dot products for IQ1_S and IQ1_M against Q8_K. As
// the AVX2 versions (iq1_avx2.cpp), with 64 values (eight grid words, two
// sub-blocks of 32) per register; the eight 11-bit indices are assembled in
// vector lanes and the grid words fetched with one gather.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "iq1_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ enabled (see core/tensor/CMakeLists.txt)"
#endif

// GCC 12's AVX-512 intrinsics self-initialise their "undefined" operands,
// which -Wall reports at every use (GCC bug 105593): silence that here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tensor/blocks_iq1.h"
#include "tensor/blocks_k.h"
#include "tensor/iq1_grid.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

constexpr int64_t kAllMinusOne = -1;
constexpr int64_t kAllPlusOne = 0x0101010101010101;


float hsum512(__m512 v) { return x86::hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1))); }

// 16-bit sums of adjacent products v[j] * x[j], v = 8 * grid + delta (exact:
// |v| <= 9, x has no -128). 8 * grid is a 16-bit shift by 3 with the bits
// carried into the next byte masked off.
__m512i pair_sums(__m512i grid, __m512i deltas, __m512i x) {
  const __m512i eight_grid = _mm512_and_si512(_mm512_slli_epi16(grid, 3), _mm512_set1_epi8(static_cast<char>(0xf8)));
  const __m512i v = _mm512_add_epi8(eight_grid, deltas);
  const __m512i x_signed = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(v), _mm512_setzero_si512(), x);
  return _mm512_maddubs_epi16(_mm512_abs_epi8(v), x_signed);
}

// The grid words of eight groups: low index bytes `qs` (eight), top bits
// (index_bits >> shift[k]) & 7 for group k, gathered in one instruction.
__m512i gather_grid(const uint8_t* qs, __m512i index_bits, __m512i shifts) {
  const __m512i low = _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
  const __m512i high = _mm512_and_si512(_mm512_srlv_epi64(index_bits, shifts), _mm512_set1_epi64(7));
  const __m512i index = _mm512_or_si512(low, _mm512_slli_epi64(high, 8));
  return _mm512_i64gather_epi64(index, reinterpret_cast<const long long*>(kIq1sGrid), 8);
}

// +1 bytes per group, -1 where `negative` has the group's bit.
__m512i delta_bytes(__mmask8 negative) {
  return _mm512_mask_blend_epi64(negative, _mm512_set1_epi64(kAllPlusOne), _mm512_set1_epi64(kAllMinusOne));
}

uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

float dot_iq1_s(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ1S*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  // Two qh words side by side: groups 0..3 of the first, then of the second.
  const __m512i shifts = _mm512_setr_epi64(0, 3, 6, 9, 16, 19, 22, 25);
  const __m512i sign_bits = _mm512_setr_epi64(0x8000, 0x8000, 0x8000, 0x8000, 0x80000000, 0x80000000, 0x80000000, 0x80000000);
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ1S)>(wb + i);
    const BlockIQ1S& b = wb[i];
    __m512i total = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const int s = 2 * p;
      const __m512i words = _mm512_set1_epi64(load_u32(b.qh + s));
      const __m512i grid = gather_grid(b.qs + 8 * p, words, shifts);
      const __m512i deltas = delta_bytes(_mm512_test_epi64_mask(words, sign_bits));
      const __m512i pairs = pair_sums(grid, deltas, _mm512_loadu_si512(xb[i].qs + 64 * p));
      const __m512i scale = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16(static_cast<int16_t>(iq1s_scale(b, s))),
                                                    _mm512_set1_epi16(static_cast<int16_t>(iq1s_scale(b, s + 1))));
      total = _mm512_add_epi32(total, _mm512_madd_epi16(pairs, scale));
    }
    const __m512 d = _mm512_set1_ps(half_to_float(b.d) * xb[i].d * 0.125f);
    acc[i % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return hsum512(_mm512_add_ps(acc[0], acc[1]));
}

float dot_iq1_m(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ1M*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  // 16-bit pair lane k of a 64-value register belongs to half-sub-block k / 8.
  const __m512i lane_half = _mm512_srli_epi16(
      _mm512_set_epi64(0x001f001e001d001c, 0x001b001a00190018, 0x0017001600150014, 0x0013001200110010,
                       0x000f000e000d000c, 0x000b000a00090008, 0x0007000600050004, 0x0003000200010000),
      3);
  // Four qh bytes hold eight nibbles, group k's at bit 4k.
  const __m512i shifts = _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28);
  const __m512i sign_bits = _mm512_sllv_epi64(_mm512_set1_epi64(8), shifts);
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ1M)>(wb + i);
    const BlockIQ1M& b = wb[i];
    __m512i total = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const __m512i nibbles = _mm512_set1_epi64(load_u32(b.qh + 4 * p));
      const __m512i grid = gather_grid(b.qs + 8 * p, nibbles, shifts);
      const __m512i deltas = delta_bytes(_mm512_test_epi64_mask(nibbles, sign_bits));
      const __m128i four = _mm_setr_epi16(static_cast<int16_t>(iq1m_scale(b, 4 * p)), static_cast<int16_t>(iq1m_scale(b, 4 * p + 1)),
                                          static_cast<int16_t>(iq1m_scale(b, 4 * p + 2)), static_cast<int16_t>(iq1m_scale(b, 4 * p + 3)),
                                          0, 0, 0, 0);
      const __m512i scale = _mm512_permutexvar_epi16(lane_half, _mm512_castsi128_si512(four));
      const __m512i pairs = pair_sums(grid, deltas, _mm512_loadu_si512(xb[i].qs + 64 * p));
      total = _mm512_add_epi32(total, _mm512_madd_epi16(pairs, scale));
    }
    const __m512 d = _mm512_set1_ps(half_to_float(iq1m_d_bits(b)) * xb[i].d * 0.125f);
    acc[i % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return hsum512(_mm512_add_ps(acc[0], acc[1]));
}

}  // namespace

void register_iq1_avx512(KernelTable& table) {
  table[TensorType::IQ1_S].vec_dot = dot_iq1_s;
  table[TensorType::IQ1_M].vec_dot = dot_iq1_m;
}

}  // namespace sieve::tensor::detail
