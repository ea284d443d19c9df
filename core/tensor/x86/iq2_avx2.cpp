// AVX2 dot products for the 2-bit grid types IQ2_XXS, IQ2_XS and IQ2_S
// (blocks_iq2.h) against Q8_K. Per 32 values: the four groups' grid entries
// are loaded as one register of unsigned magnitudes, the four sign bytes are
// spread into ±1 per value and moved onto the activation (exact: the Q8_K
// quantizer never writes -128), maddubs gives 16-bit pair sums (|pair| <= 2 *
// 43 * 127), and the madd that widens them multiplies by the two 16-value
// sub-blocks' factors 2 ls + 1. A super-block's sums stay in exact int32
// lanes, converted and scaled once per block: the result differs from the
// scalar one only by the order of the float additions.
// Compiled with -mavx2 -mfma -mf16c; only called after kernels.cpp has
// checked the CPU.

#if !defined(__AVX2__) || (!defined(_MSC_VER) && (!defined(__FMA__) || !defined(__F16C__)))
#error "iq2_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstdint>

#include "tensor/blocks_iq2.h"
#include "tensor/blocks_k.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

// Grid magnitudes of groups 4s..4s+3 (values 32s..32s+31).
template <class Block>
__m256i grid4(const Block& b, int s) {
  return _mm256_setr_epi64x(static_cast<long long>(iq2_grid(b, 4 * s)), static_cast<long long>(iq2_grid(b, 4 * s + 1)),
                            static_cast<long long>(iq2_grid(b, 4 * s + 2)), static_cast<long long>(iq2_grid(b, 4 * s + 3)));
}

// The sign bytes of groups 4s..4s+3, group 4s + l in byte l.
template <class Block>
uint32_t signs4(const Block& b, int s) {
  uint32_t out = 0;
  for (int l = 0; l < 4; ++l) out |= static_cast<uint32_t>(iq2_signs(b, 4 * s + l)) << (8 * l);
  return out;
}

// ±1 per value from four sign bytes: byte l is copied over values 8l..8l+7,
// and value j of a group tests bit j.
__m256i plus_minus_one(uint32_t signs) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(signs)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bits = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  const __m256i negative = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bits), bits);
  return _mm256_or_si256(negative, _mm256_set1_epi8(1));
}

template <class Block>
float dot_iq2(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const int64_t nb = n / kIq2BlockElems;
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(Block)>(wb + i);
    const Block& b = wb[i];
    __m256i total = _mm256_setzero_si256();
    for (int s = 0; s < kIq2BlockElems / 32; ++s) {
      const __m256i xq = _mm256_sign_epi8(load256(xb[i].qs + 32 * s), plus_minus_one(signs4(b, s)));
      const __m256i pairs = _mm256_maddubs_epi16(grid4(b, s), xq);
      const __m256i factors = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(2 * iq2_scale(b, 2 * s + 1) + 1)),
                                               _mm_set1_epi16(static_cast<int16_t>(2 * iq2_scale(b, 2 * s) + 1)));
      total = _mm256_add_epi32(total, _mm256_madd_epi16(pairs, factors));
    }
    const __m256 d = _mm256_set1_ps(half_to_float(b.d) * xb[i].d);
    acc[i % 2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), d, acc[i % 2]);
  }
  return 0.125f * hsum(_mm256_add_ps(acc[0], acc[1]));
}

}  // namespace

void register_iq2_avx2(KernelTable& table) {
  using T = TensorType;
  table[T::IQ2_XXS].vec_dot = dot_iq2<BlockIQ2XXS>;
  table[T::IQ2_XS].vec_dot = dot_iq2<BlockIQ2XS>;
  table[T::IQ2_S].vec_dot = dot_iq2<BlockIQ2S>;
}

}  // namespace sieve::tensor::detail
