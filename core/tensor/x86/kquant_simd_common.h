#pragma once
// Small helpers shared by kquant_avx2.cpp and kquant_avx512.cpp.
//
// Everything is in an anonymous namespace on purpose: the two files are
// compiled with different -m flags, and ordinary inline functions would be
// merged by the linker, so the AVX2 table could end up running AVX-512 code.
//
// The dot products all follow one scheme. Weight quants are widened to
// unsigned bytes (offsets such as Q6_K's -32 are applied later through the
// activation's bsums), multiplied with the int8 activations by maddubs into
// int16 pairs, and those are multiplied by the group's integer scale and
// summed into int32 by madd. One float multiply-add per block then applies
// the fp16 super-block factor and the activation's scale.

#include <immintrin.h>

#include <cstdint>

#include "tensor/blocks_k.h"

namespace sieve::tensor::x86 {
namespace {

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Software prefetch distance for weight rows. The hardware prefetchers stop
// at 4 KiB page boundaries and let a single core stream a large matrix at
// only ~60% of its read bandwidth; prefetching one page ahead brings the
// Q4_K and Q6_K row dot products to ~90% (measured on a Sapphire Rapids VM).
// Reaching past the end of a row is intended (the next row usually follows
// in memory) and harmless past the end of a buffer: prefetches never fault.
constexpr uintptr_t kPrefetchBytes = 4096;

// Prefetches the cache lines of the block lying kPrefetchBytes ahead of
// `block`. Called once per block, it covers the whole stream. (The address
// is formed as an integer: it may lie outside any object.)
template <typename Block>
inline void prefetch_ahead(const Block* block) {
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(block) + kPrefetchBytes;
  for (uintptr_t offset = 0; offset < sizeof(Block); offset += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(ahead + offset), _MM_HINT_T0);
  }
}

inline float hsum(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

inline float hsum(__m256 v) { return hsum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))); }

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// The activation's sums over each 32-value group (pairs of bsums), int16.
inline __m128i q8k_sums_per_32(const BlockQ8K& x) {
  const __m256i bsums = load256(x.bsums);
  return _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
}

// Q4_K / Q5_K: sum over the eight groups of min[g] * (sum of the activation
// over group g), as four int32 partial sums.
inline __m128i k4_min_terms(uint64_t mins, const BlockQ8K& x) {
  const __m128i mins16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mins)));
  return _mm_madd_epi16(mins16, q8k_sums_per_32(x));
}

// Sum over the sixteen 16-value groups of scale[g] * bsums[g], as eight int32
// partial sums (scales16: the sixteen group scales as int16).
inline __m256i group16_bsum_terms(__m256i scales16, const BlockQ8K& x) {
  return _mm256_madd_epi16(scales16, load256(x.bsums));
}

// The sixteen signed Q3_K scales as int8, built in registers (bytes written
// one by one and reloaded as a vector would stall store forwarding).
inline __m128i q3k_scales(const uint8_t* packed) {
  const Q3KScaleWords s = unpack_q3k_scale_words(packed);
  const __m128i biased = _mm_setr_epi32(static_cast<int>(s.w[0]), static_cast<int>(s.w[1]), static_cast<int>(s.w[2]),
                                        static_cast<int>(s.w[3]));
  return _mm_sub_epi8(biased, _mm_set1_epi8(32));
}

// A pshufb control that copies int16 element `word` of a 128-bit lane into
// all eight positions of that lane.
inline __m128i word_broadcast_control(int word) {
  return _mm_set1_epi16(static_cast<short>(((2 * word + 1) << 8) | (2 * word)));
}

}  // namespace
}  // namespace sieve::tensor::x86
