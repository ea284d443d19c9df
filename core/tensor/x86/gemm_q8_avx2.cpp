// AVX2 int8 GEMM for prefill (gemm_q8.h): packing of Q4_0, Q8_0, Q4_K, Q6_K,
// IQ4_NL, IQ4_XS, MXFP4, IQ3_*, IQ2_*, IQ1_* and TQ*_0 rows into 8-row
// groups, and the kernel that
// multiplies packed groups with a batch of int8 activations. The AVX2 table's
// gemm_q8; the AVX-512 table replaces it with x86/gemm_q8_avx512.cpp where
// the CPU has VNNI.
//
// Plain AVX2 has no vpdpbusd. Its byte product, vpmaddubsw (unsigned byte
// times signed byte, adjacent pairs summed to int16), SATURATES, so each type
// takes the cheapest exact route for the range of its values:
//
//   "bytes" (Q4_0, Q4_K: u <= 15; Q6_K: u <= 63; IQ1_*: u <= 18; TQ*_0:
//     u <= 3). One pair is at most 2 * 63 * 128 = 16128 (even for an
//     activation of -128), so vpmaddubsw is exact, and kChain steps of pairs
//     can be added in int16 before one vpmaddwd by ones widens them to int32:
//     8 steps for u <= 15 (8 * 3840 = 30720), 2 for u <= 63 (2 * 16128 =
//     32256), 4 for IQ1. About 2.3-2.5 uops per 32 products.
//   "signed" (the offset-128 types, s = u - 128: Q8_0 in [-128, 127];
//     IQ4_NL, IQ4_XS in [-127, 113]; MXFP4 +-12; IQ3_XXS +-62; IQ2_* +-43;
//     IQ3_S +-15). Packed as signed bytes; per step |s| once per group, then
//     per vector vpsignb puts s's sign on the activation and vpmaddubsw
//     multiplies |s| (unsigned, <= 128) by it. Exact because the activations
//     never reach -128 (the Q8_0 and Q8_K quantizers of every table clamp to
//     [-127, 127]; GemmQ8.ActivationsNeverReachMinus128): vpsignb cannot
//     negate -128, and a pair is at most 2 * 128 * 127 = 32512. Q8_0 and IQ4
//     pairs leave no room to chain (4 uops per 32 products: vpsignb,
//     vpmaddubsw, vpmaddwd, vpaddd); IQ2_* and IQ3_XXS chain 2 steps, MXFP4
//     and IQ3_S 8.
//
// "Signed" replaced a "words" route (values as int16, vpmaddwd with the
// activations widened to int16: exact for any bytes, also 4 uops per 32
// products). Signed wins at the same count because it packs half the bytes
// (the 256 KiB tile sits in L2, and words streamed 64 bytes per 96 products
// from it), broadcasts 4 activations at a time instead of 2, widens nothing
// per sub-block, and chains where the values are small. On the Zen 5 (one
// core, 2048 x 2048 x 128 vectors, best of 15-35 alternating runs) Q8_0,
// IQ4_NL, IQ4_XS went from 55-57 to 73-76 GMAC/s, MXFP4 from 56 to 86, IQ2_*
// from 39-44 to 52-55 and IQ3_* from 44-45 to 55-60 (there the scalar grid
// unpacking weighs more). vpsignb, vpmaddubsw and vpmaddwd each issue twice
// per cycle there, vpsignb mixed with vpmaddubsw 2.4 times, so the sign
// shares the multiply ports: about 1.4 cycles per 32 products, near that
// bound. Tried and slower: the sign as XOR + SUB with a per-group mask
// (60-62 against 72-74 GMAC/s, one more uop).
//
// Packed layout, per sub-block of kSub values: the values in steps (4 bytes
// per row), 32 bytes per step holding that step of the 8 rows —
// one 32-bit lane per row, as the AVX-512 layout has with 16 — then 8 float
// scales and, if the type has mins, 8 float mins. Packing widens each row's
// block to unsigned bytes (x86/q8_unpack.h, shared with the AVX-512 file;
// x86/q8_unpack_grid.h for the grid and ternary types) and interleaves
// 16-byte pieces of the 8 rows with a
// 4 x 4 dword transpose in each 128-bit lane (lane 0 rows 0-3, lane 1 rows 4-7);
// for "signed" the transpose's output gets its sign bit flipped (u - 128).
//
// Kernel: a register block of 1 group x 4 vectors ("bytes") or 1 x 8
// ("signed"). Per sub-block every int32 sum starts at the
// vector's -offset * sum(x) (at 0 for "signed", whose values are already
// u - offset: the same integer); then
// acc = fma(float(sum), scale * dx, acc) and, with mins, acc = fma(min,
// dx * sum(x), acc): the same float operations per row as the AVX-512
// kernel, whose integer sums are the same exact numbers, so both tables give
// bit-identical results (tests/core/tensor/gemm_q8_test.cpp). Every lane
// computes only its own row, so a row's result does not depend on the rows
// or vectors that share its call.
//
// Integer sub-block scales (IQ4_XS, Q8GemmLayout::int_scale_block): the
// packed scales are int16 pairs, and vpmaddwd widens each step's pairs times
// the row's scale instead of times one — the same instruction count — into
// sums that run over the 256-value super-block; one convert and one FMA per
// super-block instead of per sub-block. Prefill of the TinyLlama shape in
// IQ4_XS, AVX2, 2 threads, alternating old and new builds (4 rounds):
// 150-163 -> 162-173 tok/s.

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "gemm_q8_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "tensor/gemm_q8.h"
#include "tensor/x86/gemm_q8_block.h"
#include "tensor/x86/q8_unpack.h"
#include "tensor/x86/q8_unpack_grid.h"

namespace sieve::tensor {
namespace {

constexpr int64_t kGroupRows = kQ8GroupRowsAvx2;

// How the AVX2 kernel multiplies a type (see the header comment).
enum class Route {
  None,    // the type has no AVX2 packer
  Bytes,   // unsigned bytes u times activations by vpmaddubsw
  Signed,  // signed bytes s = u - offset: |s| times sign(x, s) by vpmaddubsw
};

struct Avx2Form {
  Route route = Route::None;
  int chain = 0;  // vpmaddubsw steps summed in int16 before widening
  constexpr bool signed_bytes() const { return route == Route::Signed; }
};

// Largest unsigned value each "bytes" type packs (x86/q8_unpack*.h).
constexpr int kMaxU4 = 15, kMaxU6 = 63, kMaxUIq1 = 18, kMaxUTernary = 3;
// Largest |s| each "signed" type packs: Q8_0 may hold -128, the IQ4 codebook
// reaches -127, MXFP4's +-12 (blocks_iq.h).
constexpr int kMaxAbsQ8 = 128, kMaxAbsIq4 = 127, kMaxAbsMxfp4 = 12;
// The grid types' largest magnitude (a byte of their grids, iq2_grids.cpp and
// iq3_grids.cpp; GemmQ8.GridMagnitudesAreTheAvx2SignedBounds checks them).
constexpr int kMaxAbsIq2 = 43, kMaxAbsIq3xxs = 62, kMaxAbsIq3s = 15;
constexpr int max_abs(const int8_t (&levels)[16]) {
  int m = 0;
  for (int8_t l : levels) m = std::max(m, l < 0 ? -l : +l);
  return m;
}
static_assert(max_abs(kIq4nlValues) == kMaxAbsIq4 && max_abs(kMxfp4Values) == kMaxAbsMxfp4);
// Largest |x| of an activation: Q8_0 and Q8_K quantizers clamp to [-127, 127]
// (quants_legacy.cpp, quants_k.cpp and their SIMD overrides). "Bytes" does not
// rely on it (it allows -128); "signed" must, since vpsignb cannot negate -128.
constexpr int kMaxAbsX = 127;

// The most steps of pairs that int16 holds when a pair is at most max_pair,
// rounded down to a divisor of the sub-block's steps.
constexpr int chain_for(int max_pair, int sub_block) {
  int chain = 32767 / max_pair;
  while ((sub_block / 4) % chain != 0) --chain;
  return chain;
}

constexpr Avx2Form bytes_form(TensorType type, int max_u) {
  return {Route::Bytes, chain_for(2 * max_u * 128, q8_gemm_layout(type).sub_block)};
}

constexpr Avx2Form signed_form(TensorType type, int max_abs) {
  return {Route::Signed, chain_for(2 * max_abs * kMaxAbsX, q8_gemm_layout(type).sub_block)};
}

constexpr Avx2Form avx2_form(TensorType type) {
  switch (type) {
    case TensorType::Q4_0:
    case TensorType::Q4_K: return bytes_form(type, kMaxU4);
    case TensorType::Q6_K: return bytes_form(type, kMaxU6);
    case TensorType::IQ1_S:
    case TensorType::IQ1_M: return bytes_form(type, kMaxUIq1);
    case TensorType::TQ1_0:
    case TensorType::TQ2_0: return bytes_form(type, kMaxUTernary);
    case TensorType::Q8_0: return signed_form(type, kMaxAbsQ8);
    case TensorType::IQ4_NL:
    case TensorType::IQ4_XS: return signed_form(type, kMaxAbsIq4);
    case TensorType::MXFP4: return signed_form(type, kMaxAbsMxfp4);
    case TensorType::IQ3_XXS: return signed_form(type, kMaxAbsIq3xxs);
    case TensorType::IQ3_S: return signed_form(type, kMaxAbsIq3s);
    case TensorType::IQ2_XXS:
    case TensorType::IQ2_XS:
    case TensorType::IQ2_S: return signed_form(type, kMaxAbsIq2);
    default: return {};
  }
}
static_assert(avx2_form(TensorType::Q4_0).chain == 8 && avx2_form(TensorType::Q6_K).chain == 2 &&
                  avx2_form(TensorType::IQ1_S).chain == 4 && avx2_form(TensorType::IQ1_M).chain == 4 &&
                  avx2_form(TensorType::TQ2_0).chain == 8,
              "int16 chains must stay below 32767 for Q8_K activations of -128");
static_assert(avx2_form(TensorType::Q8_0).chain == 1 && avx2_form(TensorType::IQ4_XS).chain == 1 &&
                  avx2_form(TensorType::IQ4_NL).chain == 1 && avx2_form(TensorType::MXFP4).chain == 8,
              "Q8_0 and IQ4 pairs reach 2 * 128 * 127 and 2 * 127 * 127: no room to chain in int16");
static_assert(avx2_form(TensorType::IQ2_XXS).chain == 2 && avx2_form(TensorType::IQ2_XS).chain == 2 &&
                  avx2_form(TensorType::IQ2_S).chain == 2 && avx2_form(TensorType::IQ3_XXS).chain == 2 &&
                  avx2_form(TensorType::IQ3_S).chain == 8,
              "grid pairs reach 2 * 43 * 127 (IQ2), 2 * 62 * 127 (IQ3_XXS) and 2 * 15 * 127 (IQ3_S)");

constexpr size_t sub_block_bytes(int sub, bool has_min) {
  return static_cast<size_t>(sub) * kGroupRows + 32 * (has_min ? 2 : 1);
}

// Bytes of one super-block's 8 float scales (Q8GemmLayout::int_scale_block).
constexpr size_t kSuperScaleBytes = 4 * kGroupRows;

size_t group_bytes_avx2(TensorType type, int64_t k) {
  const Q8GemmLayout l = q8_gemm_layout(type);
  const size_t super_scales = l.int_scale_block != 0 ? static_cast<size_t>(k / l.int_scale_block) * kSuperScaleBytes : 0;
  return static_cast<size_t>(k / l.sub_block) * sub_block_bytes(l.sub_block, l.has_min) + super_scales;
}

// An integer sub-block scale as the kernel multiplies it: vpmaddwd takes it as
// the int16 pair (scale, scale) of each 32-bit lane.
int32_t int16_pair(int32_t scale) { return static_cast<int32_t>(static_cast<uint16_t>(scale) * 0x10001u); }

// ---- packing 8 rows ----------------------------------------------------------------

// 16 bytes of row k in lane 0 and of row k + 4 in lane 1.
__m256i two_rows(const uint8_t* stage, size_t row_stride, int k) {
  const __m128i lo = load128(stage + static_cast<size_t>(k) * row_stride);
  const __m128i hi = load128(stage + static_cast<size_t>(k + 4) * row_stride);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// Bytes 16c..16c+15 (four dword steps) of the 8 staged rows as four steps of
// 32 bytes, each byte XORed with `flip` (0x80 turns u into the signed u - 128).
void interleave8(const uint8_t* stage, size_t row_stride, uint8_t* out, __m256i flip) {
  const __m256i r0 = two_rows(stage, row_stride, 0), r1 = two_rows(stage, row_stride, 1);
  const __m256i r2 = two_rows(stage, row_stride, 2), r3 = two_rows(stage, row_stride, 3);
  const __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
  const __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
  store256(out, _mm256_xor_si256(_mm256_unpacklo_epi64(t0, t2), flip));
  store256(out + 32, _mm256_xor_si256(_mm256_unpackhi_epi64(t0, t2), flip));
  store256(out + 64, _mm256_xor_si256(_mm256_unpacklo_epi64(t1, t3), flip));
  store256(out + 96, _mm256_xor_si256(_mm256_unpackhi_epi64(t1, t3), flip));
}

template <class T, TensorType kType>
void pack_rows(const void* rows, size_t row_stride, int64_t n_rows, int64_t k, void* group) {
  using Block = typename T::Block;
  constexpr Q8GemmLayout kLayout = q8_gemm_layout(kType);
  constexpr Avx2Form kForm = avx2_form(kType);
  static_assert(kLayout.sub_block != 0 && kForm.route != Route::None, "no AVX2 int8 layout for this type");
  static_assert(!kForm.signed_bytes() || kLayout.offset == 128, "signed bytes are u - 128");
  constexpr int kSub = kLayout.sub_block;
  constexpr size_t kSubBytes = sub_block_bytes(kSub, kLayout.has_min);
  constexpr int kSubsPerBlock = T::kValues / kSub;
  constexpr size_t kFloatStride = kSubBytes / sizeof(float);
  constexpr size_t kRowBytes = T::kValues;
  // With integer scales a block is one super-block, followed by its row scales.
  constexpr bool kIntScales = kLayout.int_scale_block != 0;
  static_assert(!kIntScales || (kLayout.int_scale_block == T::kValues && !kLayout.has_min),
                "integer scales: one super-block per block, no mins");
  constexpr size_t kBlockBytes = kSubsPerBlock * kSubBytes + (kIntScales ? kSuperScaleBytes : 0);
  // "Signed" stores s = u - 128: the sign bit of u flipped.
  constexpr uint8_t kFlip = kForm.signed_bytes() ? 0x80 : 0x00;
  alignas(32) uint8_t stage[kGroupRows][kRowBytes];
  auto* out = static_cast<uint8_t*>(group);
  const auto* base = static_cast<const std::byte*>(rows);
  for (int64_t b = 0; b < k / T::kValues; ++b) {
    uint8_t* sub0 = out + static_cast<size_t>(b) * kBlockBytes;
    auto* scale = reinterpret_cast<float*>(sub0 + kSub * kGroupRows);
    float* min = kLayout.has_min ? scale + kGroupRows : nullptr;
    auto* super_scale = reinterpret_cast<float*>(sub0 + kSubsPerBlock * kSubBytes);
    for (int64_t r = 0; r < kGroupRows; ++r) {
      if (r < n_rows) {
        const auto* blocks = reinterpret_cast<const Block*>(base + static_cast<size_t>(r) * row_stride);
        if constexpr (kIntScales) {
          auto* iscale = reinterpret_cast<int32_t*>(scale) + r;
          super_scale[r] = T::unpack_int(blocks[b], stage[r], iscale, kFloatStride);
          for (int s = 0; s < kSubsPerBlock; ++s) iscale[s * kFloatStride] = int16_pair(iscale[s * kFloatStride]);
        } else {
          T::unpack(blocks[b], stage[r], scale + r, min != nullptr ? min + r : nullptr, kFloatStride);
        }
      } else {  // padding rows: zero values (after the flip) and scales, never stored
        std::memset(stage[r], kFlip, sizeof(stage[r]));
        for (int s = 0; s < kSubsPerBlock; ++s) {
          scale[static_cast<size_t>(s) * kFloatStride + static_cast<size_t>(r)] = 0.0f;  // also integer 0
          if (min != nullptr) min[static_cast<size_t>(s) * kFloatStride + static_cast<size_t>(r)] = 0.0f;
        }
        if constexpr (kIntScales) super_scale[r] = 0.0f;
      }
    }
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(kFlip));
    for (size_t c = 0; c < kRowBytes / 16; ++c) {
      const size_t sub = 16 * c / kSub, step = (16 * c % kSub) / 4;
      interleave8(&stage[0][0] + 16 * c, kRowBytes, sub0 + sub * kSubBytes + 32 * step, flip);
    }
  }
}

// ---- the kernel --------------------------------------------------------------------

// "Bytes": one group (8 rows) x 4 vectors: 4 int16 chains, 4 int32 sums and
// 4 float accumulators fit the 16 ymm registers with the weights, the
// broadcast activation and the ones. Single-thread 2048 x 2048 x 128
// vectors on the Zen 5 EPYC (busy, best of 15): Q4_0 / Q4_K 94-97 GMAC/s,
// Q6_K 85-88 with 1 x 4; 2 x 3, 2 x 2 and 1 x 6 were no faster and spilled
// more. (The words route had 2 x 3: Q8_0 / IQ4_XS 57 / 56 GMAC/s against
// 50 / 50 with 1 x 4 and 53 / 53 with 1 x 6.) "Signed": 1 group x 8 vectors (8 sums, w,
// |w|, the ones and one product in registers; the float accumulators, used
// once per sub-block, go to the stack); IQ4_XS / Q8_0 72-77 GMAC/s with 128
// vectors, the same within noise as 1 x 5, 1 x 6 and 1 x 7, above 2 x 3 and
// 2 x 4 (68-71: two groups' w and |w| leave no room) and 1 x 4 (63-73). With
// 64 vectors (prefill's batch) 1 x 8 runs whole blocks and beat 1 x 6 by ~2%.
constexpr int kGroupBlock = 1;   // row groups per register block
constexpr int kVectorBlock = 4;  // vectors per register block
constexpr int kSignedGroupBlock = 1;
constexpr int kSignedVectorBlock = 8;

[[gnu::always_inline]] inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The integer sums of one sub-block, "bytes" form: vpmaddubsw pairs chained in int16.
template <int kSub, int kChain, int G, int V>
[[gnu::always_inline]] inline void sub_block_bytes_sums(const uint8_t* const* w, size_t sub_offset, const int8_t* const* x,
                                                      __m256i (&sums)[G][V]) {
  const __m256i ones = _mm256_set1_epi16(1);  // vpmaddwd by ones: the int16 pairs summed to int32
  for (int c0 = 0; c0 < kSub / 4; c0 += kChain) {
    __m256i part[G][V];
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < V; ++v) part[g][v] = _mm256_setzero_si256();
    // Not unrolled: unrolled, GCC reassociated the words route's additions
    // into a tree and spilled every product to the stack.
    #pragma GCC unroll 1
    for (int i = 0; i < kChain; ++i) {
      __m256i wv[G];
      for (int g = 0; g < G; ++g) wv[g] = load256(w[g] + sub_offset + 32 * (c0 + i));
      for (int v = 0; v < V; ++v) {
        const __m256i xv = _mm256_set1_epi32(load_i32(x[v] + 4 * (c0 + i)));
        for (int g = 0; g < G; ++g) part[g][v] = _mm256_add_epi16(part[g][v], _mm256_maddubs_epi16(wv[g], xv));
      }
    }
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < V; ++v) sums[g][v] = _mm256_add_epi32(sums[g][v], _mm256_madd_epi16(part[g][v], ones));
  }
}

// sum += add, in sum's register: plain _mm256_add_epi32 made GCC write the
// sum to a new register and copy it back, one vmovdqa per sum per step.
[[gnu::always_inline]] inline void add_in_place(__m256i& sum, __m256i add) {
  asm("vpaddd %1, %0, %0" : "+x"(sum) : "x"(add));
}

// The integer sums of one sub-block, "signed" form: per step, |w| once per
// group, then for each vector vpsignb puts w's sign on the broadcast
// activation and vpmaddubsw multiplies; kChain steps of pairs add in int16,
// and vpmaddwd widens them to int32 times each group's int16 multiplier:
// ones, or the rows' integer sub-block scales (Q8GemmLayout::int_scale_block),
// which so cost nothing.
template <int kSub, int kChain, int G, int V>
[[gnu::always_inline]] inline void sub_block_signed_sums(const uint8_t* const* w, size_t sub_offset, const int8_t* const* x,
                                                       const __m256i (&multiplier)[G], __m256i (&sums)[G][V]) {
  // The pairs of `step` for group g and vector v: |w| times x with w's sign.
  auto pairs = [&](int step, const __m256i (&ws)[G], const __m256i (&wa)[G], int v, int g) {
    const __m256i xv = _mm256_set1_epi32(load_i32(x[v] + 4 * step));
    return _mm256_maddubs_epi16(wa[g], _mm256_sign_epi8(xv, ws[g]));
  };
  auto load_step = [&](int step, __m256i (&ws)[G], __m256i (&wa)[G]) {
    for (int g = 0; g < G; ++g) {
      ws[g] = load256(w[g] + sub_offset + 32 * step);
      wa[g] = _mm256_abs_epi8(ws[g]);
    }
  };
  if constexpr (kChain == 1) {
    #pragma GCC unroll 1
    for (int step = 0; step < kSub / 4; ++step) {
      __m256i ws[G], wa[G];
      load_step(step, ws, wa);
      for (int v = 0; v < V; ++v)
        for (int g = 0; g < G; ++g) add_in_place(sums[g][v], _mm256_madd_epi16(pairs(step, ws, wa, v, g), multiplier[g]));
    }
  } else {
    for (int c0 = 0; c0 < kSub / 4; c0 += kChain) {
      __m256i part[G][V];
      {
        __m256i ws[G], wa[G];
        load_step(c0, ws, wa);
        for (int v = 0; v < V; ++v)
          for (int g = 0; g < G; ++g) part[g][v] = pairs(c0, ws, wa, v, g);
      }
      #pragma GCC unroll 1
      for (int i = 1; i < kChain; ++i) {
        __m256i ws[G], wa[G];
        load_step(c0 + i, ws, wa);
        for (int v = 0; v < V; ++v)
          for (int g = 0; g < G; ++g) part[g][v] = _mm256_add_epi16(part[g][v], pairs(c0 + i, ws, wa, v, g));
      }
      for (int g = 0; g < G; ++g)
        for (int v = 0; v < V; ++v) sums[g][v] = _mm256_add_epi32(sums[g][v], _mm256_madd_epi16(part[g][v], multiplier[g]));
    }
  }
}

// One group's results for V vectors; a partial last group stores its valid rows only.
template <int V>
[[gnu::always_inline]] inline void store_rows(const Q8GemmTask& t, int64_t group, int64_t v0, const __m256 (&acc)[V]) {
  const int64_t row0 = group * kGroupRows;
  const int64_t valid = std::min<int64_t>(kGroupRows, t.n_rows - row0);
  if (valid == kGroupRows) {
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(t.y + (v0 + v) * t.ldy + row0, acc[v]);
  } else {
    const __m256i mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int v = 0; v < V; ++v) _mm256_maskstore_ps(t.y + (v0 + v) * t.ldy + row0, mask, acc[v]);
  }
}

template <Route kRoute, int kSub, bool kMin, int kChain, int G, int V>
void micro(const Q8GemmTask& t, int64_t group0, int64_t v0) {
  constexpr size_t kSubBytes = sub_block_bytes(kSub, kMin);
  constexpr size_t kScaleOffset = static_cast<size_t>(kSub) * kGroupRows;
  const BlockInputs<G, V> in(t, group0, v0);
  const auto& [w, x, meta] = in;
  __m256 acc[G][V];
  for (int g = 0; g < G; ++g)
    for (int v = 0; v < V; ++v) acc[g][v] = _mm256_setzero_ps();
  const int64_t n_sub = t.k / kSub;
  for (int64_t s = 0; s < n_sub; ++s) {
    __m256i sums[G][V];
    const int8_t* xs[V];
    for (int v = 0; v < V; ++v) {
      // Signed values need no offset: their sums are those of u - offset already.
      const __m256i start = kRoute == Route::Signed ? _mm256_setzero_si256() : _mm256_set1_epi32(meta[v][s].offset_term);
      for (int g = 0; g < G; ++g) sums[g][v] = start;
      xs[v] = x[v] + s * kSub;
    }
    const size_t sub_offset = static_cast<size_t>(s) * kSubBytes;
    if constexpr (kRoute == Route::Signed) {
      __m256i ones[G];
      for (int g = 0; g < G; ++g) ones[g] = _mm256_set1_epi16(1);
      sub_block_signed_sums<kSub, kChain, G, V>(w, sub_offset, xs, ones, sums);
    } else {
      sub_block_bytes_sums<kSub, kChain, G, V>(w, sub_offset, xs, sums);
    }
    for (int g = 0; g < G; ++g) {
      const auto* scale = reinterpret_cast<const float*>(w[g] + sub_offset + kScaleOffset);
      const __m256 sc = _mm256_loadu_ps(scale);
      for (int v = 0; v < V; ++v) {
        const __m256 factor = _mm256_mul_ps(sc, _mm256_set1_ps(meta[v][s].dx));
        acc[g][v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[g][v]), factor, acc[g][v]);
      }
      if constexpr (kMin) {
        const __m256 mn = _mm256_loadu_ps(scale + kGroupRows);
        for (int v = 0; v < V; ++v) acc[g][v] = _mm256_fmadd_ps(mn, _mm256_set1_ps(meta[v][s].scaled_sum), acc[g][v]);
      }
    }
  }
  for (int g = 0; g < G; ++g) store_rows(t, group0 + g, v0, acc[g]);
}

// micro for integer sub-block scales ("signed" route, no mins): the int32
// sums run over a whole super-block, each step's pairs widened times the
// row's sub-block scale, and convert to float once per super-block with the
// row's float scale times the vector's dx (one per super-block: Q8_K). The
// AVX-512 kernel forms the same integers and does the same float operations.
template <int kSub, int kSuper, int kChain, int G, int V>
void micro_int_scales(const Q8GemmTask& t, int64_t group0, int64_t v0) {
  constexpr size_t kSubBytes = sub_block_bytes(kSub, false);
  constexpr size_t kScaleOffset = static_cast<size_t>(kSub) * kGroupRows;
  constexpr int kSubsPerSuper = kSuper / kSub;
  constexpr size_t kSuperBytes = kSubsPerSuper * kSubBytes + kSuperScaleBytes;
  const BlockInputs<G, V> in(t, group0, v0);
  const auto& [w, x, meta] = in;
  __m256 acc[G][V];
  for (int g = 0; g < G; ++g)
    for (int v = 0; v < V; ++v) acc[g][v] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < t.k / kSuper; ++sb) {
    __m256i sums[G][V];
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < V; ++v) sums[g][v] = _mm256_setzero_si256();
    const size_t super_offset = static_cast<size_t>(sb) * kSuperBytes;
    for (int j = 0; j < kSubsPerSuper; ++j) {
      const size_t sub_offset = super_offset + static_cast<size_t>(j) * kSubBytes;
      __m256i scales[G];
      for (int g = 0; g < G; ++g) scales[g] = load256(w[g] + sub_offset + kScaleOffset);
      const int8_t* xs[V];
      for (int v = 0; v < V; ++v) xs[v] = x[v] + (sb * kSubsPerSuper + j) * kSub;
      sub_block_signed_sums<kSub, kChain, G, V>(w, sub_offset, xs, scales, sums);
    }
    for (int g = 0; g < G; ++g) {
      const __m256 d = _mm256_loadu_ps(reinterpret_cast<const float*>(w[g] + super_offset + kSubsPerSuper * kSubBytes));
      for (int v = 0; v < V; ++v) {
        const __m256 factor = _mm256_mul_ps(d, _mm256_set1_ps(meta[v][sb * kSubsPerSuper].dx));
        acc[g][v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[g][v]), factor, acc[g][v]);
      }
    }
  }
  for (int g = 0; g < G; ++g) store_rows(t, group0 + g, v0, acc[g]);
}

// micro (or micro_int_scales) with V = n_v (1..the block's vectors) vectors.
template <Route kRoute, int kSub, bool kMin, int kChain, int kSuper, int G, int V>
void micro_vectors(const Q8GemmTask& t, int64_t group0, int64_t v0, int64_t n_v) {
  if constexpr (V > 1) {
    if (n_v < V) return micro_vectors<kRoute, kSub, kMin, kChain, kSuper, G, V - 1>(t, group0, v0, n_v);
  }
  if constexpr (kSuper != 0) {
    static_assert(kRoute == Route::Signed && !kMin, "integer scales take the signed route, without mins");
    micro_int_scales<kSub, kSuper, kChain, G, V>(t, group0, v0);
  } else {
    micro<kRoute, kSub, kMin, kChain, G, V>(t, group0, v0);
  }
}

template <Route kRoute, int kSub, bool kMin, int kChain, int kSuper>
void gemm_q8(const Q8GemmTask& t) {
  constexpr int kG = kRoute == Route::Signed ? kSignedGroupBlock : kGroupBlock;
  constexpr int kV = kRoute == Route::Signed ? kSignedVectorBlock : kVectorBlock;
  const int64_t n_groups = (t.n_rows + kGroupRows - 1) / kGroupRows;
  for (int64_t v0 = 0; v0 < t.n_vectors; v0 += kV) {
    const int64_t n_v = std::min<int64_t>(kV, t.n_vectors - v0);
    int64_t g0 = 0;
    for (; g0 + kG <= n_groups; g0 += kG) micro_vectors<kRoute, kSub, kMin, kChain, kSuper, kG, kV>(t, g0, v0, n_v);
    for (; g0 < n_groups; ++g0) micro_vectors<kRoute, kSub, kMin, kChain, kSuper, 1, kV>(t, g0, v0, n_v);
  }
}

template <TensorType kType>
void gemm_for(const Q8GemmTask& t) {
  constexpr Q8GemmLayout kLayout = q8_gemm_layout(kType);
  constexpr Avx2Form kForm = avx2_form(kType);
  gemm_q8<kForm.route, kLayout.sub_block, kLayout.has_min, kForm.chain, kLayout.int_scale_block>(t);
}

void gemm_q8_avx2(const Q8GemmTask& t) {
  switch (t.type) {
    case TensorType::Q4_0: return gemm_for<TensorType::Q4_0>(t);
    case TensorType::Q8_0: return gemm_for<TensorType::Q8_0>(t);
    case TensorType::Q4_K: return gemm_for<TensorType::Q4_K>(t);
    case TensorType::Q6_K: return gemm_for<TensorType::Q6_K>(t);
    case TensorType::IQ4_NL: return gemm_for<TensorType::IQ4_NL>(t);
    case TensorType::IQ4_XS: return gemm_for<TensorType::IQ4_XS>(t);
    case TensorType::MXFP4: return gemm_for<TensorType::MXFP4>(t);
    case TensorType::IQ3_XXS: return gemm_for<TensorType::IQ3_XXS>(t);
    case TensorType::IQ3_S: return gemm_for<TensorType::IQ3_S>(t);
    case TensorType::IQ2_XXS: return gemm_for<TensorType::IQ2_XXS>(t);
    case TensorType::IQ2_XS: return gemm_for<TensorType::IQ2_XS>(t);
    case TensorType::IQ2_S: return gemm_for<TensorType::IQ2_S>(t);
    case TensorType::IQ1_S: return gemm_for<TensorType::IQ1_S>(t);
    case TensorType::IQ1_M: return gemm_for<TensorType::IQ1_M>(t);
    case TensorType::TQ1_0: return gemm_for<TensorType::TQ1_0>(t);
    case TensorType::TQ2_0: return gemm_for<TensorType::TQ2_0>(t);
    default: return;  // no packer registered: matmat never calls the kernel for the type
  }
}

}  // namespace

namespace detail {
void register_gemm_q8_avx2(KernelTable& table) {
  clear_gemm_q8(table);
  table.gemm_q8 = gemm_q8_avx2;
  table.q8_group_rows = kGroupRows;
  table.q8_group_bytes = group_bytes_avx2;
  table[TensorType::Q4_0].pack_q8 = pack_rows<Q4_0Unpack, TensorType::Q4_0>;
  table[TensorType::Q8_0].pack_q8 = pack_rows<Q8_0Unpack, TensorType::Q8_0>;
  table[TensorType::Q4_K].pack_q8 = pack_rows<Q4_KUnpack, TensorType::Q4_K>;
  table[TensorType::Q6_K].pack_q8 = pack_rows<Q6_KUnpack, TensorType::Q6_K>;
  table[TensorType::IQ4_NL].pack_q8 = pack_rows<IQ4_NLUnpack, TensorType::IQ4_NL>;
  table[TensorType::IQ4_XS].pack_q8 = pack_rows<IQ4_XSUnpack, TensorType::IQ4_XS>;
  table[TensorType::MXFP4].pack_q8 = pack_rows<MXFP4Unpack, TensorType::MXFP4>;
  table[TensorType::IQ3_XXS].pack_q8 = pack_rows<IQ3_XXSUnpackScalar, TensorType::IQ3_XXS>;
  table[TensorType::IQ3_S].pack_q8 = pack_rows<IQ3_SUnpackScalar, TensorType::IQ3_S>;
  table[TensorType::IQ2_XXS].pack_q8 = pack_rows<IQ2UnpackScalar<BlockIQ2XXS, 32>, TensorType::IQ2_XXS>;
  table[TensorType::IQ2_XS].pack_q8 = pack_rows<IQ2UnpackScalar<BlockIQ2XS, 16>, TensorType::IQ2_XS>;
  table[TensorType::IQ2_S].pack_q8 = pack_rows<IQ2UnpackScalar<BlockIQ2S, 16>, TensorType::IQ2_S>;
  table[TensorType::IQ1_S].pack_q8 = pack_rows<IQ1_SUnpackScalar, TensorType::IQ1_S>;
  table[TensorType::IQ1_M].pack_q8 = pack_rows<IQ1_MUnpackScalar, TensorType::IQ1_M>;
  table[TensorType::TQ1_0].pack_q8 = pack_rows<TQ1_0UnpackScalar, TensorType::TQ1_0>;
  table[TensorType::TQ2_0].pack_q8 = pack_rows<TQ2_0UnpackScalar, TensorType::TQ2_0>;
}
}  // namespace detail

}  // namespace sieve::tensor
