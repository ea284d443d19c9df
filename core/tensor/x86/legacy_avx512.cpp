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

#include <algorithm>
#include <cstddef>
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

// No software prefetch here: on the AVX-512 EPYC (Zen 5) the hardware keeps
// these long, plain rows streaming, and a hint per 64 values made F16 / BF16
// decode 6-10% slower (TinyLlama shape, 2 threads, alternating runs).
template <class Row>
float dot_float_row(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const typename Row::Elem*>(w);
  const auto* b = static_cast<const float*>(x);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
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

// ---- Q4_0 with VNNI: rows against an activation prepared once per call -----------
// Q4_0's dot is compute-bound even from DRAM (two cores), so what counts is
// the vector operations per weight byte. A step takes 16 blocks (288 bytes)
// of a row, as four groups of 4 blocks (72 bytes):
//  - one load and one word permute put the 16 quant bytes of blocks 0..2 and
//    the first half of block 3's into one 128-bit lane each (blocks are 18
//    bytes, so quants always start on a 16-bit word); a masked 8-byte
//    broadcast adds the other half of block 3's;
//  - one AND gives the low nibbles (values 0..15 of each block); the high ones
//    (16..31) take one GF(2) affine byte transform with GFNI, else a shift and
//    an AND. Both feed vpdpbusd as unsigned bytes with no offset applied;
//  - Q4_0's "- 8" is the accumulator's starting value: -8 times the sum of
//    the activation values each int32 lane covers, computed once per call;
//  - the low and high products of a block land in the same four int32 lanes;
//    two rounds of unpack-and-add fold the four groups' 16 lanes into one
//    register holding the 16 block sums, converted and multiplied-added once
//    with d_w * d_x. The 16 fp16 weight scales are picked by four masked word
//    permutes of the groups' loads and converted together.
// About 42 vector operations per 16 blocks (the previous kernel: ~72, with
// two-source permutes and a scale shuffle per pair of blocks crowding port 5).
// The activation side (regrouped values, offset sums, scales in fold order)
// is computed for up to kQ4_0ChunkSteps steps at a time into a stack buffer
// and shared by every row of the call. The integer sums are exact; each row
// runs the same operations in the same order however many rows share the
// call, so vec_dot (one row) and vec_dot_rows give identical floats.

#if defined(__GNUC__) || defined(__clang__)
#define SIEVE_TARGET_VNNI __attribute__((target("avx512vnni")))
#else
#define SIEVE_TARGET_VNNI
#endif

// The activation side of one step of 16 blocks, in the rows' register layout.
struct alignas(64) Q4_0Step {
  __m512i xlo[4];     // group g = blocks 4g..4g+3: values 0..15 of each block, one 128-bit lane per block
  __m512i xhi[4];     // values 16..31, same lanes
  __m512i offset[4];  // per int32 lane: -8 * (sum of the 8 activation values its products cover)
  __m512 dx;          // activation scales in fold order: lane 4k + g holds block 4g + k's
};

constexpr int64_t kQ4_0StepBlocks = 16;
constexpr int64_t kQ4_0ChunkSteps = 16;  // 8192 values: 13 KiB of prepared activation, stays in L1
constexpr int64_t kQ4_0RowBatch = 16;    // rows whose accumulators survive from one chunk to the next
// Each step asks for the weight bytes this far ahead into L2, one hint per
// cache line, spread evenly over the compute. Streaming 1 GiB on 2 threads
// this gave 70-74% of the read bandwidth against 66-68% with no hints and
// 61-63% with matvec's usual hints (a burst of 16 rows ahead before each
// call; matvec leaves kernels with vec_dot_rows to prefetch for themselves);
// 2-6 KiB ahead measured alike, 12-16 KiB and L1 hints no better than none.
constexpr size_t kQ4_0PrefetchBytes = 3072;

// 32 word indices (or 16 dword indices, for `kDwords`) from a formula.
template <bool kDwords = false, class F>
__m512i lane_index(F at) {
  alignas(64) uint16_t words[32];
  alignas(64) uint32_t dwords[16];
  for (int j = 0; j < 32; ++j) words[j] = static_cast<uint16_t>(at(j));
  for (int j = 0; j < 16; ++j) dwords[j] = static_cast<uint32_t>(at(j));
  return kDwords ? _mm512_load_si512(dwords) : _mm512_load_si512(words);
}

__m512i load512(const void* p) { return _mm512_loadu_si512(p); }

// Keeps a loaded value in its register: without this the compiler folds the
// load into each of its two users, and these loads straddle cache lines.
inline void keep_in_register(__m512i& v) {
#if defined(__GNUC__) || defined(__clang__)
  asm("" : "+v"(v));
#else
  (void)v;
#endif
}

// Bits 4..7 of every byte moved to bits 0..3, the rest cleared: one GF(2)
// affine transform (the matrix rows pick input bits 4..7 for output bits 0..3).
// Inline assembly so that only this instruction needs GFNI (the functions
// around it are compiled for AVX512-VNNI and run on CPUs without GFNI too).
inline __m512i high_nibbles_gfni(__m512i v) {
  const __m512i matrix = _mm512_set1_epi64(0x1020408000000000);
#if defined(__GNUC__) || defined(__clang__)
  __m512i out;
  asm("vgf2p8affineqb $0, %2, %1, %0" : "=v"(out) : "v"(v), "v"(matrix));
  return out;
#else
  return _mm512_gf2p8affine_epi64_epi8(v, matrix, 0);
#endif
}

// Regroups the activation blocks of `steps` steps and precomputes their
// offsets and scales. Port 5 (shuffles) is the scarce resource here: 256-bit
// loads inserted into 512-bit registers (blends, not shuffles) put blocks 0, 1
// and 2, 3 side by side, and one 128-bit-lane shuffle per register sorts
// their halves into the rows' layout; a gather picks the fp16 scales.
SIEVE_TARGET_VNNI void prepare_q4_0_steps(const BlockQ8_0* x, int64_t steps, Q4_0Step* out) {
  // Fold order: lane 4k + g holds block 4g + k (a dword gather of each
  // block's first 4 bytes; the scale is the low half).
  const __m512i d_offsets = lane_index<true>([](int j) {
    return static_cast<int>(sizeof(BlockQ8_0)) * (4 * (j % 4) + j / 4);
  });
  const __m512i eights = _mm512_set1_epi8(8);
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t s = 0; s < steps; ++s) {
    const BlockQ8_0* blocks = x + kQ4_0StepBlocks * s;
    for (int g = 0; g < 4; ++g) {
      const BlockQ8_0* b = blocks + 4 * g;
      // 128-bit lanes: [values 0..15 of block 0, 16..31 of block 0, 0..15 of block 1, 16..31 of block 1].
      const __m512i first = _mm512_inserti64x4(_mm512_castsi256_si512(load256(b[0].qs)), load256(b[1].qs), 1);
      const __m512i second = _mm512_inserti64x4(_mm512_castsi256_si512(load256(b[2].qs)), load256(b[3].qs), 1);
      const __m512i lo = _mm512_shuffle_i64x2(first, second, _MM_SHUFFLE(2, 0, 2, 0));
      const __m512i hi = _mm512_shuffle_i64x2(first, second, _MM_SHUFFLE(3, 1, 3, 1));
      const __m512i eight_sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, eights, lo), eights, hi);
      out[s].xlo[g] = lo;
      out[s].xhi[g] = hi;
      out[s].offset[g] = _mm512_sub_epi32(zero, eight_sums);
    }
    const __m512i d = _mm512_i32gather_epi32(d_offsets, blocks, 1);
    out[s].dx = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d));
  }
}

// Adds `steps` steps of one row into acc0 (even steps) and acc1 (odd steps).
template <bool kGfni>
SIEVE_TARGET_VNNI void q4_0_row_steps(const BlockQ4_0* w, const Q4_0Step* xs, int64_t steps, __m512& acc0_io,
                                      __m512& acc1_io) {
  // A group's 36 words: block k is word 9k (d) then words 9k+1 .. 9k+8. The
  // first 32 words hold all but the last 4 quant words of block 3 (words
  // 32..35, broadcast into words 28..31).
  const __m512i q_index = lane_index([](int j) { return j < 28 ? 9 * (j / 8) + 1 + j % 8 : 0; });
  // Scale of block k of group g into word 4k + g (group g's permute writes
  // only its own words), the order the fold leaves the block sums in.
  const __m512i d_index = lane_index([](int j) { return 9 * ((j / 4) % 4); });
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  __m512 acc0 = acc0_io, acc1 = acc1_io;  // in registers: the loop's dependency chain must not go through memory
  for (int64_t s = 0; s < steps; ++s) {
    const BlockQ4_0* blocks = w + kQ4_0StepBlocks * s;
    const char* ahead = reinterpret_cast<const char*>(blocks) + kQ4_0PrefetchBytes;
    for (size_t line = 0; line < kQ4_0StepBlocks * sizeof(BlockQ4_0); line += 64) _mm_prefetch(ahead + line, _MM_HINT_T1);
    __m512i sums[4];
    __m512i d = _mm512_setzero_si512();
    for (int g = 0; g < 4; ++g) {
      const auto* group = reinterpret_cast<const uint16_t*>(blocks + 4 * g);
      __m512i window = load512(group);
      keep_in_register(window);
      int64_t last_words;
      std::memcpy(&last_words, group + 32, sizeof(last_words));
      const __m512i q = _mm512_mask_set1_epi64(_mm512_permutexvar_epi16(q_index, window), 0x80, last_words);
      d = _mm512_mask_permutexvar_epi16(d, static_cast<__mmask32>(0x1111u << g), d_index, window);
      const __m512i lo = _mm512_and_si512(q, low4);
      const __m512i hi = kGfni ? high_nibbles_gfni(q) : _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
      sums[g] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(xs[s].offset[g], lo, xs[s].xlo[g]), hi, xs[s].xhi[g]);
    }
    // 128-bit lane k: [g0 lanes 0+2, g1 0+2, g0 1+3, g1 1+3] (and g2, g3), then the block totals.
    const __m512i pairs01 = _mm512_add_epi32(_mm512_unpacklo_epi32(sums[0], sums[1]), _mm512_unpackhi_epi32(sums[0], sums[1]));
    const __m512i pairs23 = _mm512_add_epi32(_mm512_unpacklo_epi32(sums[2], sums[3]), _mm512_unpackhi_epi32(sums[2], sums[3]));
    const __m512i totals = _mm512_add_epi32(_mm512_unpacklo_epi64(pairs01, pairs23), _mm512_unpackhi_epi64(pairs01, pairs23));
    const __m512 scales = _mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(d)), xs[s].dx);
    __m512& acc = s % 2 == 0 ? acc0 : acc1;
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(totals), scales, acc);
  }
  acc0_io = acc0;
  acc1_io = acc1;
}

template <bool kGfni>
SIEVE_TARGET_VNNI void q4_0_rows(int64_t n, const void* w, size_t row_stride, int64_t n_rows, const void* x, float* y) {
  const auto* base = static_cast<const std::byte*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / kLegacyBlockElems;
  const int64_t steps = nb / kQ4_0StepBlocks;
  const int64_t tail = kQ4_0StepBlocks * steps;  // first block of the one-at-a-time end
  Q4_0Step prepared[kQ4_0ChunkSteps];
  __m512 saved[kQ4_0RowBatch][2];
  // Rows of up to one chunk take the prepared activation all at once; longer
  // rows go chunk by chunk, kQ4_0RowBatch rows at a time keeping their sums.
  const int64_t batch = steps <= kQ4_0ChunkSteps ? n_rows : kQ4_0RowBatch;
  for (int64_t r0 = 0; r0 < n_rows; r0 += batch) {
    const int64_t rows = std::min(batch, n_rows - r0);
    for (int64_t c0 = 0;; c0 += kQ4_0ChunkSteps) {
      const int64_t count = std::min(kQ4_0ChunkSteps, steps - c0);
      const bool first = c0 == 0, last = c0 + count >= steps;
      prepare_q4_0_steps(xb + kQ4_0StepBlocks * c0, count, prepared);
      for (int64_t r = 0; r < rows; ++r) {
        const auto* row = reinterpret_cast<const BlockQ4_0*>(base + static_cast<size_t>(r0 + r) * row_stride);
        __m512 acc0 = first ? _mm512_setzero_ps() : saved[r][0];
        __m512 acc1 = first ? _mm512_setzero_ps() : saved[r][1];
        q4_0_row_steps<kGfni>(row + kQ4_0StepBlocks * c0, prepared, count, acc0, acc1);
        if (last) {
          y[r0 + r] = hsum(_mm512_add_ps(acc0, acc1)) + dot_single_blocks(row + tail, xb + tail, nb - tail);
        } else {  // only with batch == kQ4_0RowBatch
          saved[r][0] = acc0;
          saved[r][1] = acc1;
        }
      }
      if (last) break;
    }
  }
}

template <bool kGfni>
SIEVE_TARGET_VNNI void dot_q4_0_rows_vnni(int64_t n, const void* w, size_t row_stride, int64_t n_rows, const void* x,
                                          float* y) {
  q4_0_rows<kGfni>(n, w, row_stride, n_rows, x, y);
}

template <bool kGfni>
SIEVE_TARGET_VNNI float dot_q4_0_vnni(int64_t n, const void* w, const void* x) {
  float y;
  q4_0_rows<kGfni>(n, w, 0, 1, x, &y);
  return y;
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

void register_legacy_avx512_vnni(KernelTable& table, bool gfni) {
  table[TensorType::Q4_0].vec_dot = gfni ? dot_q4_0_vnni<true> : dot_q4_0_vnni<false>;
  table[TensorType::Q4_0].vec_dot_rows = gfni ? dot_q4_0_rows_vnni<true> : dot_q4_0_rows_vnni<false>;
}

}  // namespace sieve::tensor::detail
