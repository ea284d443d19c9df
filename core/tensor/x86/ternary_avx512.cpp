// AVX-512 (F, BW, VL, DQ) dot products for TQ1_0 and TQ2_0 against Q8_K. As
// the AVX2 versions (ternary_avx2.cpp), with 64 values per register: a TQ1_0
// block is four registers of digits, [qs0..31 x 1 | x 3], [x 9 | x 27],
// [x 81 | qs32..47 x 1, x 3], [qs32..47 x 9, x 27, x 81 | qh], in value order.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "ternary_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ enabled (see core/tensor/CMakeLists.txt)"
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/blocks_ternary.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

float hsum512(__m512 v) { return x86::hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1))); }

struct Multipliers {
  __m512i even, odd;
};

Multipliers multipliers(__m512i per_byte) {
  return {_mm512_and_si512(per_byte, _mm512_set1_epi16(0xff)), _mm512_srli_epi16(per_byte, 8)};
}

// Per-16-byte-lane multipliers a, b, c, d (the tail pattern for d = 0).
__m512i lanes(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const __m128i tail = _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27);
  __m512i v = _mm512_castsi128_si512(_mm_set1_epi8(static_cast<char>(a)));
  v = _mm512_inserti32x4(v, _mm_set1_epi8(static_cast<char>(b)), 1);
  v = _mm512_inserti32x4(v, _mm_set1_epi8(static_cast<char>(c)), 2);
  return _mm512_inserti32x4(v, d == 0 ? tail : _mm_set1_epi8(static_cast<char>(d)), 3);
}

// Digit of each base-3 byte for its multiplier 3^n: ((byte * 3^n) mod 256 * 3) >> 8.
__m512i digits(__m512i bytes, const Multipliers& m) {
  const __m512i low8 = _mm512_set1_epi16(0xff);
  const __m512i even = _mm512_and_si512(_mm512_mullo_epi16(_mm512_and_si512(bytes, low8), m.even), low8);
  const __m512i odd = _mm512_and_si512(_mm512_mullo_epi16(_mm512_srli_epi16(bytes, 8), m.odd), low8);
  const __m512i three = _mm512_set1_epi16(3);
  const __m512i even_digit = _mm512_srli_epi16(_mm512_mullo_epi16(even, three), 8);
  const __m512i odd_digit = _mm512_srli_epi16(_mm512_mullo_epi16(odd, three), 8);
  return _mm512_or_si512(even_digit, _mm512_slli_epi16(odd_digit, 8));
}

__m512i dot_u8(__m512i u, __m512i x) { return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), _mm512_set1_epi16(1)); }

// Minus the block's sum of x, in the low eight int32 lanes.
__m512i minus_sum_x(const BlockQ8K& x) {
  const __m256i sums = _mm256_madd_epi16(load256(x.bsums), _mm256_set1_epi16(1));
  return _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), sums));
}

__m512i join(__m256i low, __m256i high) { return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1); }

float dot_tq1_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockTQ1_0*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const Multipliers m0 = multipliers(lanes(1, 1, 3, 3)), m1 = multipliers(lanes(9, 9, 27, 27));
  const Multipliers m2 = multipliers(lanes(81, 81, 1, 3)), m3 = multipliers(lanes(9, 27, 81, 0));
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < n / kTernaryBlockElems; ++i) {
    prefetch_ahead<sizeof(BlockTQ1_0)>(wb + i);
    const BlockTQ1_0& b = wb[i];
    const int8_t* q8 = xb[i].qs;
    const __m256i first = load256(b.qs);
    const __m128i middle = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32));
    int32_t tail_word;
    std::memcpy(&tail_word, b.qh, sizeof(tail_word));
    const __m256i middle2 = _mm256_setr_m128i(middle, middle);
    const __m512i both_first = join(first, first);
    __m512i total = minus_sum_x(xb[i]);
    total = _mm512_add_epi32(total, dot_u8(digits(both_first, m0), _mm512_loadu_si512(q8)));
    total = _mm512_add_epi32(total, dot_u8(digits(both_first, m1), _mm512_loadu_si512(q8 + 64)));
    total = _mm512_add_epi32(total, dot_u8(digits(join(first, middle2), m2), _mm512_loadu_si512(q8 + 128)));
    const __m512i last = join(middle2, _mm256_setr_m128i(middle, _mm_set1_epi32(tail_word)));
    total = _mm512_add_epi32(total, dot_u8(digits(last, m3), _mm512_loadu_si512(q8 + 192)));
    const __m512 d = _mm512_set1_ps(half_to_float(b.d) * xb[i].d);
    acc[i % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return hsum512(_mm512_add_ps(acc[0], acc[1]));
}

float dot_tq2_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockTQ2_0*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const __m512i low2 = _mm512_set1_epi8(3);
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < n / kTernaryBlockElems; ++i) {
    prefetch_ahead<sizeof(BlockTQ2_0)>(wb + i);
    const BlockTQ2_0& b = wb[i];
    const __m512i q = _mm512_loadu_si512(b.qs);  // bytes 0..31: values 32 l + m; 32..63: 128 + 32 l + m
    __m512i total = minus_sum_x(xb[i]);
    for (int l = 0; l < 4; ++l) {
      const __m512i u = _mm512_and_si512(_mm512_srli_epi16(q, 2 * l), low2);
      const __m512i xq = join(load256(xb[i].qs + 32 * l), load256(xb[i].qs + 128 + 32 * l));
      total = _mm512_add_epi32(total, dot_u8(u, xq));
    }
    const __m512 d = _mm512_set1_ps(half_to_float(b.d) * xb[i].d);
    acc[i % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return hsum512(_mm512_add_ps(acc[0], acc[1]));
}

}  // namespace

void register_ternary_avx512(KernelTable& table) {
  table[TensorType::TQ1_0].vec_dot = dot_tq1_0;
  table[TensorType::TQ2_0].vec_dot = dot_tq2_0;
}

}  // namespace sieve::tensor::detail
