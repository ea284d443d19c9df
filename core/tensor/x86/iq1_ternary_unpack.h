#pragma once
// Widening of IQ1_S, IQ1_M and TQ1_0 blocks to the unsigned bytes of the
// int8 prefill GEMM (gemm_q8.h; TQ2_0's, plain shifts, is shared in
// x86/q8_unpack_grid.h), for x86/gemm_q8_avx512.cpp only (it is
// compiled with AVX-512 F/BW/VL/DQ and VNNI, which the code here uses).
//
//   TQ1_0, TQ2_0  u = the stored digit q (0..2, TQ2_0 also 3), offset 1,
//                 one scale d for every 32 values.
//   IQ1_S         u = 8 * grid + delta + 9 (0..18), offset 9, scale d * ls / 8
//                 per 32 values.
//   IQ1_M         the same values, scale d * ls / 8 per 16 values.
//
// Each struct writes a block's 256 values to u in value order and its
// sub-block scales to scale[j * stride] (the interface of gemm_q8_avx512.cpp).

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "tensor/blocks_iq1.h"
#include "tensor/blocks_ternary.h"
#include "tensor/gemm_q8.h"
#include "tensor/iq1_grid.h"
#include "tensor/x86/kquant_simd_common.h"

namespace sieve::tensor {
namespace {

inline constexpr int kIq1GemmOffset = 9;  // 8 * grid + delta >= -9
inline constexpr int kTernaryGemmOffset = 1;
static_assert(q8_gemm_layout(TensorType::IQ1_S).offset == kIq1GemmOffset &&
              q8_gemm_layout(TensorType::IQ1_M).offset == kIq1GemmOffset &&
              q8_gemm_layout(TensorType::TQ1_0).offset == kTernaryGemmOffset &&
              q8_gemm_layout(TensorType::TQ2_0).offset == kTernaryGemmOffset,
              "gemm_q8.h's offsets must be the ones the bytes are widened with");

// 64 bytes 8 * grid + delta + 9 of eight IQ1 groups: low index bytes `qs`,
// top bits (index_bits >> shift[k]) & 7 and the delta sign bit sign_bits[k]
// of group k; the grid words are gathered.
inline void iq1_eight_groups(const uint8_t* qs, __m512i index_bits, __m512i shifts, __m512i sign_bits, uint8_t* u) {
  const __m512i low = _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
  const __m512i high = _mm512_and_si512(_mm512_srlv_epi64(index_bits, shifts), _mm512_set1_epi64(7));
  const __m512i index = _mm512_or_si512(low, _mm512_slli_epi64(high, 8));
  const __m512i grid = _mm512_i64gather_epi64(index, reinterpret_cast<const long long*>(kIq1sGrid), 8);
  // 8 * grid: a 16-bit shift with the bits carried into the next byte masked off.
  const __m512i eight_grid = _mm512_and_si512(_mm512_slli_epi16(grid, 3), _mm512_set1_epi8(static_cast<char>(0xf8)));
  const __mmask8 negative = _mm512_test_epi64_mask(index_bits, sign_bits);
  const __m512i offset_delta = _mm512_mask_blend_epi64(negative, _mm512_set1_epi8(kIq1GemmOffset + 1),
                                                       _mm512_set1_epi8(kIq1GemmOffset - 1));
  _mm512_storeu_si512(u, _mm512_add_epi8(eight_grid, offset_delta));
}

inline uint32_t iq1_load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

struct IQ1_SUnpack {
  using Block = BlockIQ1S;
  static constexpr int kValues = kIq1BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const __m512i shifts = _mm512_setr_epi64(0, 3, 6, 9, 16, 19, 22, 25);
    const __m512i sign_bits = _mm512_setr_epi64(0x8000, 0x8000, 0x8000, 0x8000, 0x80000000, 0x80000000, 0x80000000, 0x80000000);
    for (int p = 0; p < 4; ++p) {  // sub-blocks 2p, 2p + 1
      iq1_eight_groups(b.qs + 8 * p, _mm512_set1_epi64(iq1_load_u32(b.qh + 2 * p)), shifts, sign_bits, u + 64 * p);
    }
    const float d = x86::half_to_float(b.d) * 0.125f;
    for (int s = 0; s < 8; ++s) scale[static_cast<size_t>(s) * stride] = d * static_cast<float>(iq1s_scale(b, s));
  }
};

struct IQ1_MUnpack {
  using Block = BlockIQ1M;
  static constexpr int kValues = kIq1BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const __m512i shifts = _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28);
    const __m512i sign_bits = _mm512_sllv_epi64(_mm512_set1_epi64(8), shifts);
    for (int p = 0; p < 4; ++p) {  // groups 8p .. 8p + 7
      iq1_eight_groups(b.qs + 8 * p, _mm512_set1_epi64(iq1_load_u32(b.qh + 4 * p)), shifts, sign_bits, u + 64 * p);
    }
    const float d = x86::half_to_float(iq1m_d_bits(b)) * 0.125f;
    for (int h = 0; h < 16; ++h) scale[static_cast<size_t>(h) * stride] = d * static_cast<float>(iq1m_scale(b, h));
  }
};

// TQ1_0 base-3 digits of 64 bytes, byte j multiplied by its power of three
// (the per-16-byte-lane factors a..d; d = 0 selects qh's pattern 1 3 9 27).
inline __m512i tq1_digits(__m512i bytes, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const __m128i tail = _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27);
  __m512i m = _mm512_castsi128_si512(_mm_set1_epi8(static_cast<char>(a)));
  m = _mm512_inserti32x4(m, _mm_set1_epi8(static_cast<char>(b)), 1);
  m = _mm512_inserti32x4(m, _mm_set1_epi8(static_cast<char>(c)), 2);
  m = _mm512_inserti32x4(m, d == 0 ? tail : _mm_set1_epi8(static_cast<char>(d)), 3);
  const __m512i low8 = _mm512_set1_epi16(0xff), three = _mm512_set1_epi16(3);
  const __m512i even = _mm512_and_si512(_mm512_mullo_epi16(_mm512_and_si512(bytes, low8), _mm512_and_si512(m, low8)), low8);
  const __m512i odd = _mm512_and_si512(_mm512_mullo_epi16(_mm512_srli_epi16(bytes, 8), _mm512_srli_epi16(m, 8)), low8);
  const __m512i even_digit = _mm512_srli_epi16(_mm512_mullo_epi16(even, three), 8);
  const __m512i odd_digit = _mm512_srli_epi16(_mm512_mullo_epi16(odd, three), 8);
  return _mm512_or_si512(even_digit, _mm512_slli_epi16(odd_digit, 8));
}

struct TQ1_0Unpack {
  using Block = BlockTQ1_0;
  static constexpr int kValues = kTernaryBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    const __m128i middle = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32));
    const __m256i middle2 = _mm256_setr_m128i(middle, middle);
    const auto join = [](__m256i low, __m256i high) {
      return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
    };
    const __m512i both_first = join(first, first);
    const __m512i last = join(middle2, _mm256_setr_m128i(middle, _mm_set1_epi32(static_cast<int>(iq1_load_u32(b.qh)))));
    _mm512_storeu_si512(u, tq1_digits(both_first, 1, 1, 3, 3));            // values 0..63
    _mm512_storeu_si512(u + 64, tq1_digits(both_first, 9, 9, 27, 27));     // 64..127
    _mm512_storeu_si512(u + 128, tq1_digits(join(first, middle2), 81, 81, 1, 3));  // 128..191
    _mm512_storeu_si512(u + 192, tq1_digits(last, 9, 27, 81, 0));          // 192..255
    const float d = x86::half_to_float(b.d);
    for (int s = 0; s < 8; ++s) scale[static_cast<size_t>(s) * stride] = d;
  }
};

}  // namespace
}  // namespace sieve::tensor
