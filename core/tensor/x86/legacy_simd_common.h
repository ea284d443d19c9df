#pragma once
// 256-bit helpers shared by legacy_avx2.cpp and legacy_avx512.cpp (the latter
// uses them for the last blocks of a row). Include only from files compiled with at
// least -mavx2 -mfma -mf16c.
//
// Everything here has internal linkage on purpose: the two files are compiled
// with different ISA flags, and an inline function with external linkage could
// be merged across them by the linker, letting AVX-512 code run on an
// AVX2-only CPU. For the same reason these files convert fp16 with F16C
// instead of calling the inline functions of fp16.h.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tensor/blocks_legacy.h"

namespace sieve::tensor::x86 {
namespace {

constexpr float kMaxFp16 = 65504.0f;

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Same rounding and saturation as the scalar quantizers (quants_legacy.cpp).
inline uint16_t float_to_half_saturating(float v) {
  v = v > kMaxFp16 ? kMaxFp16 : (v < -kMaxFp16 ? -kMaxFp16 : v);
  const __m128i h = _mm_cvtps_ph(_mm_set_ss(v), _MM_FROUND_TO_NEAREST_INT);
  return static_cast<uint16_t>(_mm_extract_epi16(h, 0));
}

inline float inverse_or_zero(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Distance of the software prefetch ahead of a weight row. Streaming rows
// from memory, the hardware prefetcher alone left one core 25-30% short of
// what these loops reach with it (Q4_0 / Q8_0 rows, measured with 1-2 KiB).
constexpr size_t kPrefetchBytes = 1536;

// Prefetches the `kBytes` that lie kPrefetchBytes past `p`, one request per
// cache line (past the end of a buffer a prefetch is simply dropped).
template <size_t kBytes>
inline void prefetch_ahead(const void* p) {
  const char* ahead = static_cast<const char*>(p) + kPrefetchBytes;
  for (size_t offset = 0; offset < kBytes; offset += 64) _mm_prefetch(ahead + offset, _MM_HINT_T0);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The 32 four-bit values of a Q4/Q5 block as bytes 0..15, in value order
// (the low nibbles are values 0..15, the high nibbles 16..31). The broadcast
// load and the per-lane shift keep this off the shuffle port.
inline __m256i q4_bytes(const uint8_t* qs) {
  const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m256i high_in_upper = _mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4));
  return _mm256_and_si256(high_in_upper, _mm256_set1_epi8(0x0f));
}

// 0xff in byte j where bit j of the little-endian word at `qh` is set.
inline __m256i bit_bytes(const uint8_t* qh) {
  int32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  // Byte j takes byte j / 8 of the word, then tests its own bit j % 8.
  const __m256i source_byte = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202,
                                                 0x0303030303030303);
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(bits), source_byte);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Eight int32 partial sums of u[j] * s[j]: u unsigned bytes up to 31, s signed.
inline __m256i dot_u8_i8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Eight int32 partial sums of (u[j] - offset) * x[j], u unsigned up to 31:
// sum(u x) - offset * sum(x), each half exact in 16 bits. Cheaper than making
// u signed and using dot_i8.
inline __m256i dot_u8_i8_minus(__m256i u, __m256i x, char offset) {
  const __m256i pairs = _mm256_sub_epi16(_mm256_maddubs_epi16(u, x), _mm256_maddubs_epi16(_mm256_set1_epi8(offset), x));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Eight int32 partial sums of w[j] * x[j], both signed. maddubs wants its
// first operand unsigned, so move w's sign onto x. Exact as long as x holds no
// -128, which the Q8 quantizers never write (w may hold anything).
inline __m256i dot_i8(__m256i w, __m256i x) {
  return dot_u8_i8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

// ---- one block of weights times one block of activations -------------------
// Each returns eight int32 partial sums of q_w * q_x; the caller applies the
// block's scale d_w * d_x (and for Q4_1 / Q5_1 adds m_w * s_x).

// Q5 values 0..31 as unsigned bytes: the nibble plus 16 where the fifth bit is set.
inline __m256i q5_bytes(const uint8_t* qs, const uint8_t* qh) {
  return _mm256_or_si256(q4_bytes(qs), _mm256_and_si256(bit_bytes(qh), _mm256_set1_epi8(0x10)));
}

inline __m256i block_sums(const BlockQ4_0& w, const BlockQ8_0& x) {
  return dot_u8_i8_minus(q4_bytes(w.qs), load256(x.qs), 8);
}

inline __m256i block_sums(const BlockQ5_0& w, const BlockQ8_0& x) {
  return dot_u8_i8_minus(q5_bytes(w.qs, w.qh), load256(x.qs), 16);
}

inline __m256i block_sums(const BlockQ4_1& w, const BlockQ8_1& x) {
  return dot_u8_i8(q4_bytes(w.qs), load256(x.qs));
}

inline __m256i block_sums(const BlockQ5_1& w, const BlockQ8_1& x) {
  return dot_u8_i8(q5_bytes(w.qs, w.qh), load256(x.qs));
}

template <class Q8Block>
inline __m256i block_sums(const Q8Block& w, const Q8Block& x) {
  return dot_i8(load256(w.qs), load256(x.qs));
}

// Q4_1 and Q5_1 carry an offset m, applied as m * s of the Q8_1 activation.
template <class W>
inline constexpr bool kHasMin = std::is_same_v<W, BlockQ4_1> || std::is_same_v<W, BlockQ5_1>;

// One fp16 field of 8 consecutive blocks as floats: one conversion for 8
// blocks instead of one per block.
template <auto kField, class Block>
inline __m256 halves8(const Block* b) {
  alignas(16) uint16_t h[8];
  for (int k = 0; k < 8; ++k) h[k] = b[k].*kField;
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

// Blocks [0, count) one at a time: the end of a row after the grouped loop.
template <class W, class X>
inline float dot_single_blocks(const W* w, const X* x, int64_t count) {
  __m256 acc = _mm256_setzero_ps();
  float offset = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    const __m256 scale = _mm256_set1_ps(half_to_float(w[i].d) * half_to_float(x[i].d));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_sums(w[i], x[i])), scale, acc);
    if constexpr (kHasMin<W>) offset += half_to_float(w[i].m) * half_to_float(x[i].s);
  }
  return hsum(acc) + offset;
}

}  // namespace
}  // namespace sieve::tensor::x86
