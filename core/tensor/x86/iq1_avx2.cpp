// AVX2 dot products for IQ1_S and IQ1_M (blocks_iq1.h) against Q8_K. Each
// 32 values are four grid words (looked up by index, one 64-bit load each)
// turned into the integers v = 8 * grid + delta in one register: 8 * grid by
// a byte sign operation on 8, plus the +-1 deltas. v . x is then exact with
// the sign trick (|v| <= 9, x has no -128), and the scale (per 32 for IQ1_S,
// per 16 for IQ1_M) multiplies the 16-bit pair sums in the madd that widens
// them. One int32 total per super-block, scaled once, as the scalar code.
// Compiled with -mavx2 -mfma -mf16c; only called after kernels.cpp has
// checked the CPU.

#if !defined(__AVX2__) || (!defined(_MSC_VER) && (!defined(__FMA__) || !defined(__F16C__)))
#error "iq1_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
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

constexpr int64_t kAllMinusOne = -1;                   // eight bytes of -1
constexpr int64_t kAllPlusOne = 0x0101010101010101;    // eight bytes of +1

int64_t delta_bytes(int delta) { return delta < 0 ? kAllMinusOne : kAllPlusOne; }

// v = 8 * grid + delta for four groups (grid words g0..g3, delta words d0..d3).
__m256i group_values(int i0, int i1, int i2, int i3, __m256i deltas) {
  const __m256i grid = _mm256_setr_epi64x(static_cast<int64_t>(kIq1sGrid[i0]), static_cast<int64_t>(kIq1sGrid[i1]),
                                          static_cast<int64_t>(kIq1sGrid[i2]), static_cast<int64_t>(kIq1sGrid[i3]));
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), grid), deltas);
}

// 16-bit sums of adjacent products v[j] * x[j] (exact: |v| <= 9).
__m256i pair_sums(__m256i v, __m256i x) { return _mm256_maddubs_epi16(_mm256_abs_epi8(v), _mm256_sign_epi8(x, v)); }

float dot_iq1_s(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ1S*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ1S)>(wb + i);
    const BlockIQ1S& b = wb[i];
    __m256i total = _mm256_setzero_si256();
    for (int s = 0; s < 8; ++s) {
      const __m256i v = group_values(iq1s_index(b, s, 0), iq1s_index(b, s, 1), iq1s_index(b, s, 2),
                                     iq1s_index(b, s, 3), _mm256_set1_epi64x(delta_bytes(iq1s_delta(b, s))));
      const __m256i pairs = pair_sums(v, load256(xb[i].qs + 32 * s));
      total = _mm256_add_epi32(total, _mm256_madd_epi16(pairs, _mm256_set1_epi16(static_cast<int16_t>(iq1s_scale(b, s)))));
    }
    const __m256 d = _mm256_set1_ps(half_to_float(b.d) * xb[i].d * 0.125f);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), d, acc);
  }
  return hsum(acc);
}

// The four grid words and +-1 delta bytes of IQ1_M groups 4s..4s+3: the
// indices assembled in vector lanes (nibble k of qh[2s..2s+1] holds group
// k's top index bits and, in bit 3, its delta sign), the words gathered.
struct GroupWords {
  __m256i grid, deltas;
};

GroupWords iq1m_groups(const BlockIQ1M& b, int s) {
  uint32_t bytes4;
  std::memcpy(&bytes4, b.qs + 4 * s, sizeof(bytes4));
  const __m256i low = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(static_cast<int>(bytes4)));
  const int nibble_bits = b.qh[2 * s] | (b.qh[2 * s + 1] << 8);
  const __m256i nibbles = _mm256_srlv_epi64(_mm256_set1_epi64x(nibble_bits), _mm256_setr_epi64x(0, 4, 8, 12));
  const __m256i index = _mm256_or_si256(low, _mm256_slli_epi64(_mm256_and_si256(nibbles, _mm256_set1_epi64x(7)), 8));
  const __m256i negative = _mm256_cmpeq_epi64(_mm256_and_si256(nibbles, _mm256_set1_epi64x(8)), _mm256_set1_epi64x(8));
  GroupWords g;
  g.grid = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kIq1sGrid), index, 8);
  g.deltas = _mm256_blendv_epi8(_mm256_set1_epi64x(kAllPlusOne), _mm256_set1_epi64x(kAllMinusOne), negative);
  return g;
}

float dot_iq1_m(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ1M*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ1M)>(wb + i);
    const BlockIQ1M& b = wb[i];
    __m256i total = _mm256_setzero_si256();
    for (int s = 0; s < 8; ++s) {
      const GroupWords g = iq1m_groups(b, s);
      const __m256i v = _mm256_add_epi8(_mm256_sign_epi8(eight, g.grid), g.deltas);
      const __m256i pairs = pair_sums(v, load256(xb[i].qs + 32 * s));
      // Pair lanes 0..7 are the first 16 values, 8..15 the second 16.
      const __m256i scales = _mm256_setr_m128i(_mm_set1_epi16(static_cast<int16_t>(iq1m_scale(b, 2 * s))),
                                               _mm_set1_epi16(static_cast<int16_t>(iq1m_scale(b, 2 * s + 1))));
      total = _mm256_add_epi32(total, _mm256_madd_epi16(pairs, scales));
    }
    const __m256 d = _mm256_set1_ps(half_to_float(iq1m_d_bits(b)) * xb[i].d * 0.125f);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), d, acc);
  }
  return hsum(acc);
}

}  // namespace

void register_iq1_avx2(KernelTable& table) {
  table[TensorType::IQ1_S].vec_dot = dot_iq1_s;
  table[TensorType::IQ1_M].vec_dot = dot_iq1_m;
}

}  // namespace sieve::tensor::detail
