// AVX-512 VNNI int8 GEMM for prefill (gemm_q8.h): packing of Q4_0, Q8_0,
// Q4_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4, IQ1_*, IQ2_*, IQ3_* and TQ*_0 rows into
// 16-row groups, and the kernel that multiplies packed groups with a batch of
// int8 activations.
//
// Packing: each row's block is first widened to unsigned bytes in value order
// (a 16 x block staging area in L1), then 16 rows x 16 values are
// interleaved with a 4 x 4 dword transpose inside each 128-bit lane: register
// k holds, in lane p, 16 values of row 4p + k, so after the transpose dword
// 4p + k of step register g is row 4p + k's values 4g..4g+3.
//
// Kernel: a register block of 2 groups (32 rows) x 4 vectors. Per sub-block,
// each of the 8 int32 accumulators starts at the vector's -offset * sum(x)
// and takes one vpdpbusd per four values; then it is converted and added to
// its float accumulator with the row's scale times the vector's dx (and the
// row's min times dx * sum x). Each lane follows exactly the same operations
// whatever the other lanes hold, so results are per row and per vector.
// Types with integer sub-block scales (IQ4_XS, Q8GemmLayout::int_scale_block)
// multiply each sub-block's sum by the row's integer scale (vpmulld) and
// convert once per super-block, as the AVX2 kernel does.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "gemm_q8_avx512.cpp must be compiled with AVX-512 F/BW/VL and VNNI enabled (see core/tensor/CMakeLists.txt)"
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/gemm_q8.h"
#include "tensor/x86/gemm_q8_block.h"
#include "tensor/x86/iq3_simd.h"
#include "tensor/x86/iq2_pack.h"
#include "tensor/x86/iq1_ternary_unpack.h"
#include "tensor/x86/q8_unpack_grid.h"  // TQ2_0: plain shifts, no AVX-512 version
#include "tensor/x86/kquant_simd_common.h"
#include "tensor/x86/q8_unpack.h"

namespace sieve::tensor {
namespace {

// Types whose widening lives in their own family's file (x86/iq2_pack.h, x86/iq3_simd.h).
template <class B, void (*kUnpack)(const B&, uint8_t*, float*, size_t)>
struct ExternalUnpack {
  using Block = B;
  static constexpr int kValues = kQK;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) { kUnpack(b, u, scale, stride); }
};

// ---- packing 16 rows ---------------------------------------------------------------

// 16 values of row 4p + k (p = 0..3) in lane p.
__m512i four_rows(const uint8_t* stage, size_t row_stride, int k) {
  __m512i v = _mm512_castsi128_si512(load128(stage + static_cast<size_t>(k) * row_stride));
  v = _mm512_inserti32x4(v, load128(stage + static_cast<size_t>(4 + k) * row_stride), 1);
  v = _mm512_inserti32x4(v, load128(stage + static_cast<size_t>(8 + k) * row_stride), 2);
  return _mm512_inserti32x4(v, load128(stage + static_cast<size_t>(12 + k) * row_stride), 3);
}

// Values 16c..16c+15 of the 16 staged rows as four value steps of 64 bytes.
void interleave16(const uint8_t* stage, size_t row_stride, uint8_t* out) {
  const __m512i r0 = four_rows(stage, row_stride, 0), r1 = four_rows(stage, row_stride, 1);
  const __m512i r2 = four_rows(stage, row_stride, 2), r3 = four_rows(stage, row_stride, 3);
  const __m512i t0 = _mm512_unpacklo_epi32(r0, r1), t1 = _mm512_unpackhi_epi32(r0, r1);
  const __m512i t2 = _mm512_unpacklo_epi32(r2, r3), t3 = _mm512_unpackhi_epi32(r2, r3);
  _mm512_storeu_si512(out, _mm512_unpacklo_epi64(t0, t2));
  _mm512_storeu_si512(out + 64, _mm512_unpackhi_epi64(t0, t2));
  _mm512_storeu_si512(out + 128, _mm512_unpacklo_epi64(t1, t3));
  _mm512_storeu_si512(out + 192, _mm512_unpackhi_epi64(t1, t3));
}

template <class T>
void pack_rows(const void* rows, size_t row_stride, int64_t n_rows, int64_t k, void* group) {
  using Block = typename T::Block;
  constexpr Q8GemmLayout kLayout = q8_gemm_layout(T::kType);
  constexpr int kSub = kLayout.sub_block;
  constexpr size_t kSubBytes = q8_sub_block_bytes(kLayout);
  constexpr int kSubsPerBlock = T::kValues / kSub;
  // With integer scales a block is one super-block, followed by its row scales.
  constexpr bool kIntScales = kLayout.int_scale_block != 0;
  static_assert(!kIntScales || (kLayout.int_scale_block == T::kValues && !kLayout.has_min),
                "integer scales: one super-block per block, no mins");
  constexpr size_t kBlockBytes = kSubsPerBlock * kSubBytes + (kIntScales ? 4 * kQ8GroupRows : 0);
  alignas(64) uint8_t stage[kQ8GroupRows][T::kValues];
  auto* out = static_cast<uint8_t*>(group);
  const auto* base = static_cast<const std::byte*>(rows);
  for (int64_t b = 0; b < k / T::kValues; ++b) {
    uint8_t* sub0 = out + static_cast<size_t>(b) * kBlockBytes;
    auto* scale = reinterpret_cast<float*>(sub0 + kSub * kQ8GroupRows);
    float* min = kLayout.has_min ? scale + kQ8GroupRows : nullptr;
    auto* super_scale = reinterpret_cast<float*>(sub0 + kSubsPerBlock * kSubBytes);
    constexpr size_t kFloatStride = kSubBytes / sizeof(float);
    for (int64_t r = 0; r < kQ8GroupRows; ++r) {
      if (r < n_rows) {
        const auto* blocks = reinterpret_cast<const Block*>(base + static_cast<size_t>(r) * row_stride);
        if constexpr (kIntScales) {
          super_scale[r] = T::unpack_int(blocks[b], stage[r], reinterpret_cast<int32_t*>(scale) + r, kFloatStride);
        } else {
          T::unpack(blocks[b], stage[r], scale + r, min != nullptr ? min + r : nullptr, kFloatStride);
        }
      } else {  // padding rows: zero values and scales, never stored
        std::memset(stage[r], 0, sizeof(stage[r]));
        for (int s = 0; s < kSubsPerBlock; ++s) {
          scale[static_cast<size_t>(s) * kFloatStride + static_cast<size_t>(r)] = 0.0f;  // also integer 0
          if (min != nullptr) min[static_cast<size_t>(s) * kFloatStride + static_cast<size_t>(r)] = 0.0f;
        }
        if constexpr (kIntScales) super_scale[r] = 0.0f;
      }
    }
    for (int c = 0; c < T::kValues / 16; ++c) {
      const int sub = 16 * c / kSub, step = (16 * c % kSub) / 4;
      interleave16(&stage[0][16 * c], T::kValues, sub0 + static_cast<size_t>(sub) * kSubBytes + 64 * step);
    }
  }
}

struct Q4_0Pack : Q4_0Unpack { static constexpr TensorType kType = TensorType::Q4_0; };
struct Q8_0Pack : Q8_0Unpack { static constexpr TensorType kType = TensorType::Q8_0; };
struct Q4_KPack : Q4_KUnpack { static constexpr TensorType kType = TensorType::Q4_K; };
struct Q6_KPack : Q6_KUnpack { static constexpr TensorType kType = TensorType::Q6_K; };
struct IQ4_NLPack : IQ4_NLUnpack { static constexpr TensorType kType = TensorType::IQ4_NL; };
struct IQ4_XSPack : IQ4_XSUnpack { static constexpr TensorType kType = TensorType::IQ4_XS; };
struct MXFP4Pack : MXFP4Unpack { static constexpr TensorType kType = TensorType::MXFP4; };
struct IQ3_XXSPack : ExternalUnpack<BlockIQ3XXS, detail::unpack_iq3_xxs_u8> { static constexpr TensorType kType = TensorType::IQ3_XXS; };
struct IQ3_SPack : ExternalUnpack<BlockIQ3S, detail::unpack_iq3_s_u8> { static constexpr TensorType kType = TensorType::IQ3_S; };
struct IQ2_XXSPack : ExternalUnpack<BlockIQ2XXS, detail::unpack_iq2_xxs_q8> { static constexpr TensorType kType = TensorType::IQ2_XXS; };
struct IQ2_XSPack : ExternalUnpack<BlockIQ2XS, detail::unpack_iq2_xs_q8> { static constexpr TensorType kType = TensorType::IQ2_XS; };
struct IQ2_SPack : ExternalUnpack<BlockIQ2S, detail::unpack_iq2_s_q8> { static constexpr TensorType kType = TensorType::IQ2_S; };
struct IQ1_SPack : IQ1_SUnpack { static constexpr TensorType kType = TensorType::IQ1_S; };
struct IQ1_MPack : IQ1_MUnpack { static constexpr TensorType kType = TensorType::IQ1_M; };
struct TQ1_0Pack : TQ1_0Unpack { static constexpr TensorType kType = TensorType::TQ1_0; };
struct TQ2_0Pack : TQ2_0UnpackScalar { static constexpr TensorType kType = TensorType::TQ2_0; };

// ---- the kernel --------------------------------------------------------------------

constexpr int kGroupBlock = 2;   // row groups per register block
constexpr int kVectorBlock = 6;  // vectors per register block

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The exact integer sums of sub-block s for every group and vector: each
// starts at the vector's -offset * sum(x) and takes one vpdpbusd per four values.
template <int kSub, int G, int V>
[[gnu::always_inline]] inline void sub_block_sums(const BlockInputs<G, V>& in, size_t sub_offset, int64_t s,
                                                  __m512i (&sums)[G][V]) {
  for (int v = 0; v < V; ++v) {
    const __m512i start = _mm512_set1_epi32(in.meta[v][s].offset_term);
    for (int g = 0; g < G; ++g) sums[g][v] = start;
  }
  for (int step = 0; step < kSub / 4; ++step) {
    __m512i wv[G];
    for (int g = 0; g < G; ++g) wv[g] = _mm512_load_si512(in.w[g] + sub_offset + 64 * step);
    for (int v = 0; v < V; ++v) {
      const __m512i xv = _mm512_set1_epi32(load_i32(in.x[v] + s * kSub + 4 * step));
      for (int g = 0; g < G; ++g) sums[g][v] = _mm512_dpbusd_epi32(sums[g][v], wv[g], xv);
    }
  }
}

// One group's results for V vectors; a partial last group stores its valid rows only.
template <int V>
[[gnu::always_inline]] inline void store_rows(const Q8GemmTask& t, int64_t group, int64_t v0, const __m512 (&acc)[V]) {
  const int64_t row0 = group * kQ8GroupRows;
  const int64_t valid = std::min<int64_t>(kQ8GroupRows, t.n_rows - row0);
  const auto mask = static_cast<__mmask16>((1u << valid) - 1u);
  for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(t.y + (v0 + v) * t.ldy + row0, mask, acc[v]);
}

template <int kSub, bool kMin, int G, int V>
void micro(const Q8GemmTask& t, int64_t group0, int64_t v0) {
  constexpr size_t kSubBytes = q8_sub_block_bytes(Q8GemmLayout{kSub, 0, kMin});
  const BlockInputs<G, V> in(t, group0, v0);
  const auto& [w, x, meta] = in;
  __m512 acc[G][V];
  for (int g = 0; g < G; ++g)
    for (int v = 0; v < V; ++v) acc[g][v] = _mm512_setzero_ps();
  const int64_t n_sub = t.k / kSub;
  for (int64_t s = 0; s < n_sub; ++s) {
    __m512i sums[G][V];
    const size_t sub_offset = static_cast<size_t>(s) * kSubBytes;
    sub_block_sums<kSub>(in, sub_offset, s, sums);
    for (int g = 0; g < G; ++g) {
      const auto* scale = reinterpret_cast<const float*>(w[g] + sub_offset + kSub * kQ8GroupRows);
      const __m512 sc = _mm512_load_ps(scale);
      for (int v = 0; v < V; ++v) {
        const __m512 factor = _mm512_mul_ps(sc, _mm512_set1_ps(meta[v][s].dx));
        acc[g][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[g][v]), factor, acc[g][v]);
      }
      if constexpr (kMin) {
        const __m512 mn = _mm512_load_ps(scale + kQ8GroupRows);
        for (int v = 0; v < V; ++v) acc[g][v] = _mm512_fmadd_ps(mn, _mm512_set1_ps(meta[v][s].scaled_sum), acc[g][v]);
      }
    }
  }
  for (int g = 0; g < G; ++g) store_rows(t, group0 + g, v0, acc[g]);
}

// micro for integer sub-block scales (Q8GemmLayout::int_scale_block, no
// mins): each sub-block's exact int32 sum is multiplied by the row's integer
// scale and summed over the super-block, then converted once with the row's
// float scale times the vector's dx. The same integers and float operations
// as the AVX2 kernel, so the two agree to the bit.
template <int kSub, int kSuper, int G, int V>
void micro_int_scales(const Q8GemmTask& t, int64_t group0, int64_t v0) {
  constexpr size_t kSubBytes = q8_sub_block_bytes(Q8GemmLayout{kSub, 0, false});
  constexpr int kSubsPerSuper = kSuper / kSub;
  constexpr size_t kSuperBytes = kSubsPerSuper * kSubBytes + 4 * kQ8GroupRows;
  const BlockInputs<G, V> in(t, group0, v0);
  const auto& [w, x, meta] = in;
  __m512 acc[G][V];
  for (int g = 0; g < G; ++g)
    for (int v = 0; v < V; ++v) acc[g][v] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < t.k / kSuper; ++sb) {
    __m512i super_sums[G][V];
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < V; ++v) super_sums[g][v] = _mm512_setzero_si512();
    const size_t super_offset = static_cast<size_t>(sb) * kSuperBytes;
    for (int j = 0; j < kSubsPerSuper; ++j) {
      const int64_t s = sb * kSubsPerSuper + j;
      const size_t sub_offset = super_offset + static_cast<size_t>(j) * kSubBytes;
      __m512i sums[G][V];
      sub_block_sums<kSub>(in, sub_offset, s, sums);
      for (int g = 0; g < G; ++g) {
        const __m512i scale = _mm512_load_si512(w[g] + sub_offset + kSub * kQ8GroupRows);
        for (int v = 0; v < V; ++v) {
          super_sums[g][v] = _mm512_add_epi32(super_sums[g][v], _mm512_mullo_epi32(sums[g][v], scale));
        }
      }
    }
    for (int g = 0; g < G; ++g) {
      const __m512 d = _mm512_load_ps(reinterpret_cast<const float*>(w[g] + super_offset + kSubsPerSuper * kSubBytes));
      for (int v = 0; v < V; ++v) {
        const __m512 factor = _mm512_mul_ps(d, _mm512_set1_ps(meta[v][sb * kSubsPerSuper].dx));
        acc[g][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(super_sums[g][v]), factor, acc[g][v]);
      }
    }
  }
  for (int g = 0; g < G; ++g) store_rows(t, group0 + g, v0, acc[g]);
}

template <int kSub, bool kMin, int kSuper, int G, int V>
void micro_any(const Q8GemmTask& t, int64_t group0, int64_t v0) {
  if constexpr (kSuper != 0) {
    static_assert(!kMin, "integer scales come without mins");
    micro_int_scales<kSub, kSuper, G, V>(t, group0, v0);
  } else {
    micro<kSub, kMin, G, V>(t, group0, v0);
  }
}

template <int kSub, bool kMin, int kSuper, int G>
void micro_vectors(const Q8GemmTask& t, int64_t group0, int64_t v0, int64_t n_v) {
  switch (n_v) {
    case 1: micro_any<kSub, kMin, kSuper, G, 1>(t, group0, v0); break;
    case 2: micro_any<kSub, kMin, kSuper, G, 2>(t, group0, v0); break;
    case 3: micro_any<kSub, kMin, kSuper, G, 3>(t, group0, v0); break;
    case 4: micro_any<kSub, kMin, kSuper, G, 4>(t, group0, v0); break;
    case 5: micro_any<kSub, kMin, kSuper, G, 5>(t, group0, v0); break;
    default: micro_any<kSub, kMin, kSuper, G, kVectorBlock>(t, group0, v0); break;
  }
}

template <int kSub, bool kMin, int kSuper = 0>
void gemm_q8(const Q8GemmTask& t) {
  const int64_t n_groups = (t.n_rows + kQ8GroupRows - 1) / kQ8GroupRows;
  for (int64_t v0 = 0; v0 < t.n_vectors; v0 += kVectorBlock) {
    const int64_t n_v = std::min<int64_t>(kVectorBlock, t.n_vectors - v0);
    int64_t g0 = 0;
    for (; g0 + kGroupBlock <= n_groups; g0 += kGroupBlock) micro_vectors<kSub, kMin, kSuper, kGroupBlock>(t, g0, v0, n_v);
    for (; g0 < n_groups; ++g0) micro_vectors<kSub, kMin, kSuper, 1>(t, g0, v0, n_v);
  }
}

void gemm_q8_avx512(const Q8GemmTask& t) {
  if (t.layout.int_scale_block == 256 && t.layout.sub_block == 32 && !t.layout.has_min) {
    gemm_q8<32, false, 256>(t);
  } else if (t.layout.sub_block == 16) {
    gemm_q8<16, false>(t);
  } else if (t.layout.has_min) {
    gemm_q8<32, true>(t);
  } else {
    gemm_q8<32, false>(t);
  }
}

size_t group_bytes_avx512(TensorType type, int64_t k) { return q8_group_bytes(q8_gemm_layout(type), k); }

}  // namespace

namespace detail {
void register_gemm_q8_avx512(KernelTable& table) {
  clear_gemm_q8(table);
  table.gemm_q8 = gemm_q8_avx512;
  table.q8_group_rows = kQ8GroupRows;
  table.q8_group_bytes = group_bytes_avx512;
  table[TensorType::Q4_0].pack_q8 = pack_rows<Q4_0Pack>;
  table[TensorType::Q8_0].pack_q8 = pack_rows<Q8_0Pack>;
  table[TensorType::Q4_K].pack_q8 = pack_rows<Q4_KPack>;
  table[TensorType::Q6_K].pack_q8 = pack_rows<Q6_KPack>;
  table[TensorType::IQ4_NL].pack_q8 = pack_rows<IQ4_NLPack>;
  table[TensorType::IQ4_XS].pack_q8 = pack_rows<IQ4_XSPack>;
  table[TensorType::MXFP4].pack_q8 = pack_rows<MXFP4Pack>;
  table[TensorType::IQ3_XXS].pack_q8 = pack_rows<IQ3_XXSPack>;
  table[TensorType::IQ3_S].pack_q8 = pack_rows<IQ3_SPack>;
  table[TensorType::IQ2_XXS].pack_q8 = pack_rows<IQ2_XXSPack>;
  table[TensorType::IQ2_XS].pack_q8 = pack_rows<IQ2_XSPack>;
  table[TensorType::IQ2_S].pack_q8 = pack_rows<IQ2_SPack>;
  table[TensorType::IQ1_S].pack_q8 = pack_rows<IQ1_SPack>;
  table[TensorType::IQ1_M].pack_q8 = pack_rows<IQ1_MPack>;
  table[TensorType::TQ1_0].pack_q8 = pack_rows<TQ1_0Pack>;
  table[TensorType::TQ2_0].pack_q8 = pack_rows<TQ2_0Pack>;
}
}  // namespace detail

}  // namespace sieve::tensor
