// AVX-512 (F, BW, VL, DQ) kernels for IQ3_XXS and IQ3_S (blocks_iq3.h): the
// dot products against Q8_K, and the widening of a block to unsigned bytes
// for the int8 prefill GEMM (gemm_q8.h, x86/iq3_simd.h).
//
// Two sub-blocks (64 values) per step: 16 grid entries give the 64
// magnitudes, and the 64 sign bits are a mask register that
// negates the matching activations (IQ3_S stores them that way; IQ3_XXS's
// 7 bits per 8 values are completed with kIqEvenSigns). maddubs (|pair| <=
// 2 * 62 * 127) and a madd with the two sub-blocks' integer scales give int32
// sums; a super-block's are summed exactly and scaled as the scalar kernel
// does (quants_iq3.cpp), so results are bit-identical to it.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "iq3_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ enabled (see core/tensor/CMakeLists.txt)"
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

#include "tensor/blocks_iq3.h"
#include "tensor/blocks_k.h"
#include "tensor/iq3_grids.h"
#include "tensor/kernels.h"
#include "tensor/x86/iq3_simd.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using x86::half_to_float;
using x86::prefetch_ahead;

// The block's scaled sum, kept out of an FMA with the running total: the
// scalar kernel, built without FMA, rounds the product first, and so must we
// for bit-identical results (GCC contracts across statements otherwise).
float unfused(float v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+x"(v));
#endif
  return v;
}

constexpr int kPairs = kIq3BlockElems / (2 * kIq3SubBlockElems);

// Sub-blocks 2p and 2p + 1 of a block: magnitudes as unsigned bytes in value
// order, the sign mask (bit v set = value v negative) and integer scales.
struct Pair {
  __m512i magnitudes;
  __mmask64 negative;
  int scale[2];
};

// Two grid entries as one 64-bit lane: index j of `qs`, plus 256 where bit j
// of `high` is set (IQ3_S's ninth bit; 0 for IQ3_XXS, whose grid has 256).
int64_t grid_pair(const uint32_t* grid, const uint8_t* qs, uint32_t high, int j) {
  const auto index = [&](int k) { return qs[k] | ((high >> k) & 1u) << 8; };
  return static_cast<int64_t>(grid[index(j)] | static_cast<uint64_t>(grid[index(j + 1)]) << 32);
}

// The 16 grid entries of two sub-blocks. Plain loads paired into 64-bit
// lanes: on the AMD EPYC this was measured on, 1.7x faster than vpgatherdd.
__m512i lookup16(const uint32_t* grid, const uint8_t* qs, uint32_t high) {
  const __m256i low = _mm256_setr_epi64x(grid_pair(grid, qs, high, 0), grid_pair(grid, qs, high, 2),
                                         grid_pair(grid, qs, high, 4), grid_pair(grid, qs, high, 6));
  const __m256i upper = _mm256_setr_epi64x(grid_pair(grid, qs, high, 8), grid_pair(grid, qs, high, 10),
                                           grid_pair(grid, qs, high, 12), grid_pair(grid, qs, high, 14));
  return _mm512_inserti64x4(_mm512_castsi256_si512(low), upper, 1);
}

Pair iq3xxs_pair(const BlockIQ3XXS& b, int p) {
  const uint32_t aux0 = iq3xxs_aux(b, 2 * p), aux1 = iq3xxs_aux(b, 2 * p + 1);
  Pair out;
  out.magnitudes = lookup16(kIq3xxsGrid, b.qs + 16 * p, 0);
  out.negative = static_cast<__mmask64>(iq3xxs_sign_bits(aux0)) |
                 static_cast<__mmask64>(iq3xxs_sign_bits(aux1)) << 32;
  out.scale[0] = iq3xxs_scale(aux0);
  out.scale[1] = iq3xxs_scale(aux1);
  return out;
}

Pair iq3s_pair(const BlockIQ3S& b, int p) {
  uint16_t high_bits;  // bit j: bit 8 of index j of the two sub-blocks (qh[2p], qh[2p + 1])
  std::memcpy(&high_bits, b.qh + 2 * p, sizeof(high_bits));
  uint64_t signs;
  std::memcpy(&signs, b.signs + 8 * p, sizeof(signs));
  Pair out;
  out.magnitudes = lookup16(kIq3sGrid, b.qs + 16 * p, high_bits);
  out.negative = signs;
  out.scale[0] = iq3s_scale(b, 2 * p);
  out.scale[1] = iq3s_scale(b, 2 * p + 1);
  return out;
}

// Sixteen int32 sums of scale * magnitude * (+-x) over the pair's 64 values.
__m512i pair_sums(const Pair& pair, const int8_t* x) {
  const __m512i xq = _mm512_loadu_si512(x);
  const __m512i signed_x = _mm512_mask_sub_epi8(xq, pair.negative, _mm512_setzero_si512(), xq);
  const __m512i pairs = _mm512_maddubs_epi16(pair.magnitudes, signed_x);
  const __m512i scales = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16(static_cast<int16_t>(pair.scale[0])),
                                                 _mm512_set1_epi16(static_cast<int16_t>(pair.scale[1])));
  return _mm512_madd_epi16(pairs, scales);
}

float dot_iq3_xxs(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ3XXS*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq3BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ3XXS)>(wb + i);
    __m512i total = _mm512_setzero_si512();
    for (int p = 0; p < kPairs; ++p) {
      total = _mm512_add_epi32(total, pair_sums(iq3xxs_pair(wb[i], p), xb[i].qs + 64 * p));
    }
    sum += unfused(0.25f * half_to_float(wb[i].d) * xb[i].d * static_cast<float>(_mm512_reduce_add_epi32(total)));
  }
  return sum;
}

float dot_iq3_s(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ3S*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq3BlockElems; ++i) {
    prefetch_ahead<sizeof(BlockIQ3S)>(wb + i);
    __m512i total = _mm512_setzero_si512();
    for (int p = 0; p < kPairs; ++p) {
      total = _mm512_add_epi32(total, pair_sums(iq3s_pair(wb[i], p), xb[i].qs + 64 * p));
    }
    sum += unfused(half_to_float(wb[i].d) * xb[i].d * static_cast<float>(_mm512_reduce_add_epi32(total)));
  }
  return sum;
}

// u = 128 + signed value, and the float scale of each sub-block.
void store_unsigned(const Pair& pair, uint8_t* u) {
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i positive = _mm512_add_epi8(offset, pair.magnitudes);
  _mm512_storeu_si512(u, _mm512_mask_sub_epi8(positive, pair.negative, offset, pair.magnitudes));
}

}  // namespace

void unpack_iq3_xxs_u8(const BlockIQ3XXS& b, uint8_t* u, float* scale, size_t stride) {
  const float d = 0.25f * half_to_float(b.d);
  for (int p = 0; p < kPairs; ++p) {
    const Pair pair = iq3xxs_pair(b, p);
    store_unsigned(pair, u + 64 * p);
    scale[static_cast<size_t>(2 * p) * stride] = d * static_cast<float>(pair.scale[0]);
    scale[static_cast<size_t>(2 * p + 1) * stride] = d * static_cast<float>(pair.scale[1]);
  }
}

void unpack_iq3_s_u8(const BlockIQ3S& b, uint8_t* u, float* scale, size_t stride) {
  const float d = half_to_float(b.d);
  for (int p = 0; p < kPairs; ++p) {
    const Pair pair = iq3s_pair(b, p);
    store_unsigned(pair, u + 64 * p);
    scale[static_cast<size_t>(2 * p) * stride] = d * static_cast<float>(pair.scale[0]);
    scale[static_cast<size_t>(2 * p + 1) * stride] = d * static_cast<float>(pair.scale[1]);
  }
}

void register_iq3_avx512(KernelTable& table) {
  table[TensorType::IQ3_XXS].vec_dot = dot_iq3_xxs;
  table[TensorType::IQ3_S].vec_dot = dot_iq3_s;
}

}  // namespace sieve::tensor::detail
