// AVX-512 (F, BW, VL, DQ) kernels for the legacy types. They override the
// AVX2 entries (registered first, see kernels.cpp) with 512-bit versions:
// float rows take 16 values per step, quantized rows two blocks per register
// (lanes 0..7 hold one block's partial sums, lanes 8..15 the next one's).

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "legacy_avx512.cpp must be compiled with AVX-512 F/BW/VL/DQ enabled (see core/tensor/CMakeLists.txt)"
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

#include "tensor/blocks_legacy.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

// Horizontal reductions through the 256-bit helpers (GCC 12's own
// _mm512_reduce_* trip -Wmaybe-uninitialized).
float hsum(__m512 v) {
  return x86::hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}
int32_t hsum(__m512i v) {
  return x86::hsum(_mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}
float hmax(__m512 v) {
  return x86::hmax(_mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

// ---- float weights (F32, F16, BF16) times a float activation ---------------

// How each float-like weight type loads 16 values; the masked form reads only
// the first `count` of them, for the end of a row.
struct F32Row {
  using Elem = float;
  static __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16Row {
  using Elem = uint16_t;
  static __m512 load16(const uint16_t* p) { return _mm512_cvtph_ps(load256(p)); }
  static __m512 load16(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct BF16Row {  // bf16 is the top half of an f32
  using Elem = uint16_t;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load16(const uint16_t* p) { return widen(load256(p)); }
  static __m512 load16(const uint16_t* p, __mmask16 m) { return widen(_mm256_maskz_loadu_epi16(m, p)); }
};

template <class Row>
float dot_float_row(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const typename Row::Elem*>(w);
  const auto* b = static_cast<const float*>(x);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    prefetch_ahead<64 * sizeof(typename Row::Elem)>(a + i);
    for (int k = 0; k < 4; ++k) {
      acc[k] = _mm512_fmadd_ps(Row::load16(a + i + 16 * k), _mm512_loadu_ps(b + i + 16 * k), acc[k]);
    }
  }
  for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(Row::load16(a + i), _mm512_loadu_ps(b + i), acc[0]);
  if (i < n) {
    const auto tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
    acc[1] = _mm512_fmadd_ps(Row::load16(a + i, tail), _mm512_maskz_loadu_ps(tail, b + i), acc[1]);
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

// ---- quantized weights: groups of 8 blocks, two per register -----------------

__m512i pair_q8(const int8_t* first, const int8_t* second) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(load256(first)), load256(second), 1);
}

// The values of two Q4/Q5 blocks as bytes 0..15: 128-bit lanes hold
// [first, first, second, second], and the second copy of each is shifted so
// its high nibbles come down (loads and shifts only, no shuffles).
__m512i pair_q4(const uint8_t* first, const uint8_t* second) {
  __m512i both = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first)));
  both = _mm512_mask_broadcast_i32x4(both, 0xff00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(second)));
  const __m512i shifted = _mm512_srlv_epi64(both, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4));
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0f));
}

// Bit j of the mask: the fifth bit of value j of the two blocks together.
template <class Block>
__mmask64 pair_fifth_bits(const Block* b) {
  uint32_t first, second;
  std::memcpy(&first, b[0].qh, sizeof(first));
  std::memcpy(&second, b[1].qh, sizeof(second));
  return _cvtu64_mask64(first | (static_cast<uint64_t>(second) << 32));
}

__m512i dot_u8_i8(__m512i u, __m512i s) {
  return _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1));
}

// (u[j] - offset) * x[j], as dot_u8_i8_minus in legacy_simd_common.h.
__m512i dot_u8_i8_minus(__m512i u, __m512i x, char offset) {
  const __m512i pairs = _mm512_sub_epi16(_mm512_maddubs_epi16(u, x), _mm512_maddubs_epi16(_mm512_set1_epi8(offset), x));
  return _mm512_madd_epi16(pairs, _mm512_set1_epi16(1));
}

// Signed times signed via the sign trick (see dot_i8 in legacy_simd_common.h).
__m512i dot_i8(__m512i w, __m512i x) {
  const __m512i x_signed = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
  return dot_u8_i8(_mm512_abs_epi8(w), x_signed);
}

// Q5 values 0..31 of two blocks: the nibble plus 16 where the fifth bit is set.
template <class Block>
__m512i pair_q5(const Block* b) {
  const __m512i low = pair_q4(b[0].qs, b[1].qs);
  return _mm512_mask_add_epi8(low, pair_fifth_bits(b), low, _mm512_set1_epi8(16));
}

// Each pair_sums returns the int32 partial sums of q_w * q_x of blocks 0 and
// 1: lanes 0..7 for the first block, 8..15 for the second.

__m512i pair_sums(const BlockQ4_0* w, const BlockQ8_0* x) {
  return dot_u8_i8_minus(pair_q4(w[0].qs, w[1].qs), pair_q8(x[0].qs, x[1].qs), 8);
}

__m512i pair_sums(const BlockQ5_0* w, const BlockQ8_0* x) {
  return dot_u8_i8_minus(pair_q5(w), pair_q8(x[0].qs, x[1].qs), 16);
}

__m512i pair_sums(const BlockQ4_1* w, const BlockQ8_1* x) {
  return dot_u8_i8(pair_q4(w[0].qs, w[1].qs), pair_q8(x[0].qs, x[1].qs));
}

__m512i pair_sums(const BlockQ5_1* w, const BlockQ8_1* x) {
  return dot_u8_i8(pair_q5(w), pair_q8(x[0].qs, x[1].qs));
}

template <class Q8Block>
__m512i pair_sums(const Q8Block* w, const Q8Block* x) {
  return dot_i8(pair_q8(w[0].qs, w[1].qs), pair_q8(x[0].qs, x[1].qs));
}

// Words kWord, kWord + stride, ... (four fields of blocks in a row) out of
// the 64 words at `window`, placed in 16-bit lanes `kLane`..`kLane + 3`.
template <int kWord, int kStride, int kLane>
__m128i pick4(const uint16_t* window) {
  constexpr auto at = [](int lane) {
    const int j = lane - kLane;
    return static_cast<short>(j >= 0 && j < 4 ? kWord + j * kStride : 0);
  };
  const __m128i index = _mm_setr_epi16(at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7));
  const __m512i picked = _mm512_permutex2var_epi16(_mm512_loadu_si512(window), _mm512_castsi128_si512(index),
                                                   _mm512_loadu_si512(window + 32));
  return _mm512_castsi512_si128(picked);
}

// One fp16 field (16-bit word kWord of each block) of 8 consecutive blocks as
// floats, picked out of the blocks with two word permutes rather than eight
// inserts. Block sizes are even, so every field is word-aligned. Each permute
// reads a 64-word window that stays inside the 8 blocks: the first starts at
// block 0, the second at block 4 or, for short blocks, ends where block 7 does.
template <int kWord, class Block>
__m256 fields8(const Block* b) {
  constexpr int kStride = sizeof(Block) / 2;
  constexpr int kSecond = 4 * kStride < 8 * kStride - 64 ? 4 * kStride : 8 * kStride - 64;
  static_assert(8 * kStride >= 64 && kSecond >= 0 && 7 * kStride + kWord - kSecond < 64);
  const auto* words = reinterpret_cast<const uint16_t*>(b);
  const __m128i first = pick4<kWord, kStride, 0>(words);
  const __m128i second = pick4<4 * kStride + kWord - kSecond, kStride, 4>(words + kSecond);
  return _mm256_cvtph_ps(_mm_blend_epi16(first, second, 0xf0));
}

// Scales of blocks 2 * pair and 2 * pair + 1 of a group, spread over the
// lanes their sums occupy.
__m512 pair_scale(__m256 scales, int pair) {
  const __m512i lane_block = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i index = _mm512_add_epi32(lane_block, _mm512_set1_epi32(2 * pair));
  return _mm512_permutexvar_ps(index, _mm512_castps256_ps512(scales));
}

// As the AVX2 loop: per group of 8 blocks the scales (and offsets) are
// converted together, then each pair is scaled into one of two accumulators.
template <class W, class X>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const W*>(w);
  const auto* xb = static_cast<const X*>(x);
  const int64_t nb = n / kLegacyBlockElems;
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  __m256 offsets = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    prefetch_ahead<8 * sizeof(W)>(wb + i);
    const __m256 scales = _mm256_mul_ps(fields8<0>(wb + i), fields8<0>(xb + i));
    if constexpr (kHasMin<W>) {
      offsets = _mm256_fmadd_ps(fields8<1>(wb + i), fields8<1>(xb + i), offsets);
    }
    for (int p = 0; p < 4; ++p) {
      const __m512 sums = _mm512_cvtepi32_ps(pair_sums(wb + i + 2 * p, xb + i + 2 * p));
      acc[p % 2] = _mm512_fmadd_ps(sums, pair_scale(scales, p), acc[p % 2]);
    }
  }
  return hsum(_mm512_add_ps(acc[0], acc[1])) + x86::hsum(offsets) + dot_single_blocks(wb + i, xb + i, nb - i);
}

// ---- Q4_0 with VNNI: several rows per pass over one activation ------------------
// Q4_0's dot is compute-bound even from DRAM: unpacking nibbles and the
// offset term cost more per byte than the other types. With VNNI (int32
// sums of four u8 x s8 products, no 16-bit saturation) the high nibbles need
// no shift: lanes holding them multiply 16 * q and get scale / 16, and the
// offset 8 * x becomes 128 * x there. Both changes are exact (powers of two),
// so the floats equal dot_blocks<BlockQ4_0, BlockQ8_0>'s (barring denormal
// scales). Rows that share an activation share its loads, its fp16 scales and
// the offset term, so each row costs only its own unpacking, products and
// scaling; every row runs the same operations in the same order whatever rows
// share its pass, so vec_dot and vec_dot_rows give identical floats.

#if defined(__GNUC__) || defined(__clang__)
#define SIEVE_TARGET_VNNI __attribute__((target("avx512vnni")))
#else
#define SIEVE_TARGET_VNNI
#endif

// Scales of blocks 2p (lanes 0..3 as they are, 4..7 over 16) and 2p + 1
// (lanes 8..11, 12..15 over 16): `scales16` holds the 8 scales then them / 16.
__m512 pair_scale_nibbles(__m512 scales16, int pair) {
  const __m512i pattern = _mm512_setr_epi32(0, 0, 0, 0, 8, 8, 8, 8, 1, 1, 1, 1, 9, 9, 9, 9);
  return _mm512_permutexvar_ps(_mm512_add_epi32(pattern, _mm512_set1_epi32(2 * pair)), scales16);
}

template <int R>
SIEVE_TARGET_VNNI void dot_q4_0_rows(int64_t n, const BlockQ4_0* const* w, const BlockQ8_0* x, float* y) {
  const int64_t nb = n / kLegacyBlockElems;
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  // 128-bit lanes: first block's low nibbles, its high nibbles, second block's low, high.
  const __m512i nibbles = _mm512_setr_epi64(0x0f0f0f0f0f0f0f0f, 0x0f0f0f0f0f0f0f0f, static_cast<int64_t>(0xf0f0f0f0f0f0f0f0),
                                            static_cast<int64_t>(0xf0f0f0f0f0f0f0f0), 0x0f0f0f0f0f0f0f0f,
                                            0x0f0f0f0f0f0f0f0f, static_cast<int64_t>(0xf0f0f0f0f0f0f0f0),
                                            static_cast<int64_t>(0xf0f0f0f0f0f0f0f0));
  const __m512i offsets = _mm512_setr_epi64(0x0808080808080808, 0x0808080808080808, static_cast<int64_t>(0x8080808080808080),
                                            static_cast<int64_t>(0x8080808080808080), 0x0808080808080808,
                                            0x0808080808080808, static_cast<int64_t>(0x8080808080808080),
                                            static_cast<int64_t>(0x8080808080808080));
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    const __m256 x_scales = fields8<0>(x + i);
    __m512 scales[R];
    for (int r = 0; r < R; ++r) {
      prefetch_ahead<8 * sizeof(BlockQ4_0)>(w[r] + i);
      const __m256 s = _mm256_mul_ps(fields8<0>(w[r] + i), x_scales);
      scales[r] = _mm512_insertf32x8(_mm512_castps256_ps512(s), _mm256_mul_ps(s, _mm256_set1_ps(1.0f / 16)), 1);
    }
    for (int p = 0; p < 4; ++p) {
      const __m512i xv = pair_q8(x[i + 2 * p].qs, x[i + 2 * p + 1].qs);
      const __m512i offset = _mm512_dpbusd_epi32(_mm512_setzero_si512(), offsets, xv);
      for (int r = 0; r < R; ++r) {
        const BlockQ4_0* b = w[r] + i + 2 * p;
        __m512i both = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs)));
        both = _mm512_mask_broadcast_i32x4(both, 0xff00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs)));
        const __m512i q = _mm512_and_si512(both, nibbles);
        const __m512i sums = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q, xv), offset);
        acc[r][p % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), pair_scale_nibbles(scales[r], p), acc[r][p % 2]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    y[r] = hsum(_mm512_add_ps(acc[r][0], acc[r][1])) + dot_single_blocks(w[r] + i, x + i, nb - i);
  }
}

SIEVE_TARGET_VNNI float dot_q4_0_vnni(int64_t n, const void* w, const void* x) {
  const auto* row = static_cast<const BlockQ4_0*>(w);
  float y;
  dot_q4_0_rows<1>(n, &row, static_cast<const BlockQ8_0*>(x), &y);
  return y;
}

SIEVE_TARGET_VNNI void dot_q4_0_rows_vnni(int64_t n, const void* w, size_t row_stride, int64_t n_rows, const void* x,
                                          float* y) {
  constexpr int kRows = 4;
  const auto* base = static_cast<const std::byte*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const BlockQ4_0* rows[kRows];
  int64_t r = 0;
  for (; r + kRows <= n_rows; r += kRows) {
    for (int k = 0; k < kRows; ++k) {
      rows[k] = reinterpret_cast<const BlockQ4_0*>(base + static_cast<size_t>(r + k) * row_stride);
    }
    dot_q4_0_rows<kRows>(n, rows, xb, y + r);
  }
  for (; r < n_rows; ++r) {
    rows[0] = reinterpret_cast<const BlockQ4_0*>(base + static_cast<size_t>(r) * row_stride);
    dot_q4_0_rows<1>(n, rows, xb, y + r);
  }
}

// ---- Q8 activation quantizers (bit-identical to the scalar ones) --------------

__m512i round_to_q8(__m512 v, __m512 id) {
  __m512 scaled = _mm512_min_ps(_mm512_mul_ps(v, id), _mm512_set1_ps(127.0f));
  scaled = _mm512_max_ps(scaled, _mm512_set1_ps(-127.0f));
  return _mm512_cvtps_epi32(scaled);  // rounds to nearest even, like nearbyint
}

// Quantizes 32 floats to `q` with the scale stored in `d`; returns sum(q).
int32_t quantize_q8_block(const float* x, uint16_t& d, int8_t* q) {
  const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
  __m512 amax = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps());  // a NaN input is ignored
  amax = _mm512_max_ps(_mm512_abs_ps(v1), amax);
  const float scale = hmax(amax) / 127.0f;
  d = float_to_half_saturating(scale);
  const __m512 id = _mm512_set1_ps(inverse_or_zero(scale));  // unrounded, as the scalar path
  const __m512i q0 = round_to_q8(v0, id), q1 = round_to_q8(v1, id);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtsepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), _mm512_cvtsepi32_epi8(q1));
  return hsum(_mm512_add_epi32(q0, q1));
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kLegacyBlockElems; ++i) {
    quantize_q8_block(src + i * kLegacyBlockElems, b[i].d, b[i].qs);
  }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kLegacyBlockElems; ++i) {
    const int32_t sum = quantize_q8_block(src + i * kLegacyBlockElems, b[i].d, b[i].qs);
    b[i].s = float_to_half_saturating(half_to_float(b[i].d) * static_cast<float>(sum));
  }
}

}  // namespace

void register_legacy_avx512(KernelTable& table) {
  using T = TensorType;
  table[T::F32].vec_dot = dot_float_row<F32Row>;
  table[T::F16].vec_dot = dot_float_row<F16Row>;
  table[T::BF16].vec_dot = dot_float_row<BF16Row>;
  table[T::Q4_0].vec_dot = dot_blocks<BlockQ4_0, BlockQ8_0>;
  table[T::Q4_1].vec_dot = dot_blocks<BlockQ4_1, BlockQ8_1>;
  table[T::Q5_0].vec_dot = dot_blocks<BlockQ5_0, BlockQ8_0>;
  table[T::Q5_1].vec_dot = dot_blocks<BlockQ5_1, BlockQ8_1>;
  table[T::Q8_0].vec_dot = dot_blocks<BlockQ8_0, BlockQ8_0>;
  table[T::Q8_1].vec_dot = dot_blocks<BlockQ8_1, BlockQ8_1>;
  table[T::Q8_0].quantize = quantize_q8_0;
  table[T::Q8_1].quantize = quantize_q8_1;
}

void register_legacy_avx512_vnni(KernelTable& table) {
  table[TensorType::Q4_0].vec_dot = dot_q4_0_vnni;
  table[TensorType::Q4_0].vec_dot_rows = dot_q4_0_rows_vnni;
}

}  // namespace sieve::tensor::detail
