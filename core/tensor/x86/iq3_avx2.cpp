// AVX2 dot products for the 3-bit grid types IQ3_XXS and IQ3_S
// (blocks_iq3.h) against Q8_K. Per sub-block of 32 values: the 8 grid
// entries (the magnitudes as unsigned bytes), the 32 sign bits spread
// to a byte mask that negates the matching activations, then maddubs (|pair|
// <= 2 * 62 * 127 fits 16 bits) and a madd with the integer sub-block scale.
// A super-block's eight int32 lanes are summed exactly and scaled the way the
// scalar kernel (quants_iq3.cpp) scales its sum, so results are bit-identical
// to it. Compiled with -mavx2 -mfma -mf16c; only called after kernels.cpp has
// checked the CPU.

#if !defined(__AVX2__) || (!defined(_MSC_VER) && (!defined(__FMA__) || !defined(__F16C__)))
#error "iq3_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tensor/blocks_iq3.h"
#include "tensor/blocks_k.h"
#include "tensor/iq3_grids.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

// The block's scaled sum, kept out of an FMA with the running total: the
// scalar kernel, built without FMA, rounds the product first, and so must we
// for bit-identical results (GCC contracts across statements otherwise).
float unfused(float v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+x"(v));
#endif
  return v;
}

// 0xff in byte j where bit j of `bits` is set.
__m256i sign_bytes(uint32_t bits) {
  const __m256i source_byte = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(bits)), source_byte);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Eight int32 sums of scale * grid[j] * (+-x[j]) over one sub-block.
__m256i sub_block_sums(__m256i magnitudes, uint32_t sign_bits, const int8_t* x, int scale) {
  const __m256i negate = sign_bytes(sign_bits);
  const __m256i xq = load256(x);
  const __m256i signed_x = _mm256_sub_epi8(_mm256_xor_si256(xq, negate), negate);  // -x where negate = -1
  const __m256i pairs = _mm256_maddubs_epi16(magnitudes, signed_x);
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(static_cast<int16_t>(scale)));
}

// Two grid entries as one 64-bit lane: index j of `qs`, plus 256 where bit j
// of `high` is set (IQ3_S's ninth bit; 0 for IQ3_XXS, whose grid has 256).
int64_t grid_pair(const uint32_t* grid, const uint8_t* qs, uint32_t high, int j) {
  const auto index = [&](int k) { return qs[k] | ((high >> k) & 1u) << 8; };
  return static_cast<int64_t>(grid[index(j)] | static_cast<uint64_t>(grid[index(j + 1)]) << 32);
}

// The 8 grid entries of a sub-block: plain loads paired into 64-bit lanes
// (faster than vpgatherdd on the AMD EPYC this was measured on).
__m256i lookup8(const uint32_t* grid, const uint8_t* qs, uint32_t high) {
  return _mm256_setr_epi64x(grid_pair(grid, qs, high, 0), grid_pair(grid, qs, high, 2), grid_pair(grid, qs, high, 4),
                            grid_pair(grid, qs, high, 6));
}

float dot_iq3_xxs(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ3XXS*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq3BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ3XXS)>(wb + i);
    const BlockIQ3XXS& b = wb[i];
    __m256i total = _mm256_setzero_si256();
    for (int s = 0; s < kIq3BlockElems / kIq3SubBlockElems; ++s) {
      const uint32_t aux = iq3xxs_aux(b, s);
      const __m256i magnitudes = lookup8(kIq3xxsGrid, b.qs + 8 * s, 0);
      total = _mm256_add_epi32(total, sub_block_sums(magnitudes, iq3xxs_sign_bits(aux),
                                                     xb[i].qs + kIq3SubBlockElems * s, iq3xxs_scale(aux)));
    }
    sum += unfused(0.25f * half_to_float(b.d) * xb[i].d * static_cast<float>(x86::hsum(total)));
  }
  return sum;
}

float dot_iq3_s(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ3S*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq3BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ3S)>(wb + i);
    const BlockIQ3S& b = wb[i];
    __m256i total = _mm256_setzero_si256();
    for (int s = 0; s < kIq3BlockElems / kIq3SubBlockElems; ++s) {
      const __m256i magnitudes = lookup8(kIq3sGrid, b.qs + 8 * s, b.qh[s]);
      uint32_t signs;
      std::memcpy(&signs, b.signs + 4 * s, sizeof(signs));
      total = _mm256_add_epi32(total,
                               sub_block_sums(magnitudes, signs, xb[i].qs + kIq3SubBlockElems * s, iq3s_scale(b, s)));
    }
    sum += unfused(half_to_float(b.d) * xb[i].d * static_cast<float>(x86::hsum(total)));
  }
  return sum;
}

}  // namespace

void register_iq3_avx2(KernelTable& table) {
  table[TensorType::IQ3_XXS].vec_dot = dot_iq3_xxs;
  table[TensorType::IQ3_S].vec_dot = dot_iq3_s;
}

}  // namespace sieve::tensor::detail
