// AVX2 dot products for TQ1_0 and TQ2_0 (blocks_ternary.h) against Q8_K.
// The stored digits u in {0, 1, 2} (TQ2_0 also 3) multiply the activation as
// unsigned bytes (maddubs, exact: 2 * 3 * 127 fits 16 bits); the block's
// sum of x, from the Q8_K bsums, is then taken off once: sum (u - 1) x.
// TQ1_0 digits come out of their base-3 bytes with 16-bit multiplies, even
// and odd bytes apart so that no product carries into its neighbour.
// Compiled with -mavx2 -mfma -mf16c; only called after kernels.cpp has
// checked the CPU.

#if !defined(__AVX2__) || (!defined(_MSC_VER) && (!defined(__FMA__) || !defined(__F16C__)))
#error "ternary_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
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

// Per-byte powers of three, split into the even and odd bytes' 16-bit lanes.
struct Multipliers {
  __m256i even, odd;
};

Multipliers multipliers(__m256i per_byte) {
  return {_mm256_and_si256(per_byte, _mm256_set1_epi16(0xff)), _mm256_srli_epi16(per_byte, 8)};
}

Multipliers halves(uint8_t low, uint8_t high) {
  return multipliers(_mm256_setr_m128i(_mm_set1_epi8(static_cast<char>(low)), _mm_set1_epi8(static_cast<char>(high))));
}

// Digit n of each base-3 byte, where byte j's multiplier is 3^n:
// ((byte * 3^n) mod 256 * 3) >> 8.
__m256i digits(__m256i bytes, const Multipliers& m) {
  const __m256i low8 = _mm256_set1_epi16(0xff);
  const __m256i even = _mm256_and_si256(_mm256_mullo_epi16(_mm256_and_si256(bytes, low8), m.even), low8);
  const __m256i odd = _mm256_and_si256(_mm256_mullo_epi16(_mm256_srli_epi16(bytes, 8), m.odd), low8);
  const __m256i three = _mm256_set1_epi16(3);
  const __m256i even_digit = _mm256_srli_epi16(_mm256_mullo_epi16(even, three), 8);
  const __m256i odd_digit = _mm256_srli_epi16(_mm256_mullo_epi16(odd, three), 8);
  return _mm256_or_si256(even_digit, _mm256_slli_epi16(odd_digit, 8));
}

// sum u * x over 32 values as eight int32 lanes.
__m256i dot_u8(__m256i u, const int8_t* x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, load256(x)), _mm256_set1_epi16(1));
}

// The block's sum of x, as eight int32 lanes (from the 16 bsums).
__m256i sum_x(const BlockQ8K& x) {
  return _mm256_madd_epi16(load256(x.bsums), _mm256_set1_epi16(1));
}

struct Tq1Constants {
  Multipliers pow3[5];
  Multipliers pairs[2];  // [1 | 3] and [9 | 27] over the two 16-byte halves
  Multipliers tail;      // [81 x 16 | 1 1 1 1 3 3 3 3 9 9 9 9 27 27 27 27]
};

Tq1Constants tq1_constants() {
  Tq1Constants c;
  const uint8_t pow3[5] = {1, 3, 9, 27, 81};
  for (int n = 0; n < 5; ++n) c.pow3[n] = halves(pow3[n], pow3[n]);
  c.pairs[0] = halves(1, 3);
  c.pairs[1] = halves(9, 27);
  c.tail = multipliers(_mm256_setr_epi8(81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81,  //
                                        1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27));
  return c;
}

float dot_tq1_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockTQ1_0*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const Tq1Constants c = tq1_constants();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kTernaryBlockElems; ++i) {
    prefetch_ahead<sizeof(BlockTQ1_0)>(wb + i);
    const BlockTQ1_0& b = wb[i];
    const int8_t* q8 = xb[i].qs;
    __m256i total = _mm256_sub_epi32(_mm256_setzero_si256(), sum_x(xb[i]));
    const __m256i first = load256(b.qs);  // values 32 n + m
    for (int d = 0; d < 5; ++d) total = _mm256_add_epi32(total, dot_u8(digits(first, c.pow3[d]), q8 + 32 * d));
    const __m128i middle = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32));  // values 160 + 16 n + m
    int32_t tail_word;
    std::memcpy(&tail_word, b.qh, sizeof(tail_word));  // values 240 + 4 n + j
    const __m256i both = _mm256_setr_m128i(middle, middle);
    total = _mm256_add_epi32(total, dot_u8(digits(both, c.pairs[0]), q8 + 160));
    total = _mm256_add_epi32(total, dot_u8(digits(both, c.pairs[1]), q8 + 192));
    const __m256i last = _mm256_setr_m128i(middle, _mm_set1_epi32(tail_word));
    total = _mm256_add_epi32(total, dot_u8(digits(last, c.tail), q8 + 224));
    const __m256 d = _mm256_set1_ps(half_to_float(b.d) * xb[i].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), d, acc);
  }
  return hsum(acc);
}

float dot_tq2_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockTQ2_0*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const __m256i low2 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kTernaryBlockElems; ++i) {
    prefetch_ahead<sizeof(BlockTQ2_0)>(wb + i);
    const BlockTQ2_0& b = wb[i];
    __m256i total = _mm256_sub_epi32(_mm256_setzero_si256(), sum_x(xb[i]));
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load256(b.qs + 32 * h);
      for (int l = 0; l < 4; ++l) {
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * l), low2);
        total = _mm256_add_epi32(total, dot_u8(u, xb[i].qs + 128 * h + 32 * l));
      }
    }
    const __m256 d = _mm256_set1_ps(half_to_float(b.d) * xb[i].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), d, acc);
  }
  return hsum(acc);
}

}  // namespace

void register_ternary_avx2(KernelTable& table) {
  table[TensorType::TQ1_0].vec_dot = dot_tq1_0;
  table[TensorType::TQ2_0].vec_dot = dot_tq2_0;
}

}  // namespace sieve::tensor::detail
