// AVX512-BF16 GEMM for prefill (gemm_bf16.h): packing BF16 rows into 16-row
// groups of value pairs, rounding the activations to BF16, and the kernel
// that multiplies packed groups with a batch of them.
//
// Packing: 8 values (4 pairs, 16 bytes) of each of 16 rows at a time. Register
// k holds, in 128-bit lane p, those bytes of row 4p + k; a 4 x 4 dword
// transpose inside each lane then leaves, in dword 4p + k of step register g,
// row 4p + k's pair g (the int8 GEMM's interleave, one pair per dword).
//
// Kernel: a register block of 4 groups (64 rows) x 6 vectors = 24 float
// accumulators, plus 4 weight loads and one broadcast per pair: 10 loads per
// 24 vdpbf16ps. Each lane is one row, so the results need no horizontal sums
// and land in y as 16 consecutive floats. Sums run along k in chunks of 512
// pairs (the 6 vectors' chunk, 12 KiB, stays in L1 while the tile's rows pass
// under it); each chunk adds into y.

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512BF16__)
#error "gemm_bf16_avx512.cpp must be compiled with AVX-512 F/BW and BF16 enabled (see core/tensor/CMakeLists.txt)"
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "tensor/gemm_bf16.h"

namespace sieve::tensor {
namespace {

constexpr size_t kStepBytes = 64;                                // one pair of 16 rows
constexpr size_t kPackRowBytes = kBf16PackValues * 2;            // 16 bytes of a row per packing step
constexpr size_t kPackStepBytes = kStepBytes * kBf16PackValues / 2;  // 256 bytes of a group per packing step

__m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// ---- packing 16 rows ---------------------------------------------------------------

// 16 bytes of rows 4p + k (p = 0..3) in lane p.
__m512i four_rows(const std::byte* const* rows, int k) {
  __m512i v = _mm512_castsi128_si512(load128(rows[k]));
  v = _mm512_inserti32x4(v, load128(rows[4 + k]), 1);
  v = _mm512_inserti32x4(v, load128(rows[8 + k]), 2);
  return _mm512_inserti32x4(v, load128(rows[12 + k]), 3);
}

// 4 pairs of each of the 16 rows (16 bytes at rows[r]) as four pair steps of 64 bytes.
void interleave(const std::byte* const* rows, std::byte* out) {
  const __m512i r0 = four_rows(rows, 0), r1 = four_rows(rows, 1);
  const __m512i r2 = four_rows(rows, 2), r3 = four_rows(rows, 3);
  const __m512i t0 = _mm512_unpacklo_epi32(r0, r1), t1 = _mm512_unpackhi_epi32(r0, r1);
  const __m512i t2 = _mm512_unpacklo_epi32(r2, r3), t3 = _mm512_unpackhi_epi32(r2, r3);
  _mm512_storeu_si512(out, _mm512_unpacklo_epi64(t0, t2));
  _mm512_storeu_si512(out + kStepBytes, _mm512_unpackhi_epi64(t0, t2));
  _mm512_storeu_si512(out + 2 * kStepBytes, _mm512_unpacklo_epi64(t1, t3));
  _mm512_storeu_si512(out + 3 * kStepBytes, _mm512_unpackhi_epi64(t1, t3));
}

void pack_rows_bf16(const void* rows, size_t row_stride, int64_t n_rows, int64_t k, void* group) {
  const auto* base = static_cast<const std::byte*>(rows);
  auto* out = static_cast<std::byte*>(group);
  alignas(64) std::byte zeros[kPackRowBytes] = {};
  const std::byte* at[kBf16GroupRows];
  const int64_t full_steps = k / kBf16PackValues;
  for (int64_t s = 0; s < full_steps; ++s) {
    const size_t offset = static_cast<size_t>(s) * kPackRowBytes;
    for (int64_t r = 0; r < kBf16GroupRows; ++r) {
      at[r] = r < n_rows ? base + static_cast<size_t>(r) * row_stride + offset : zeros;
    }
    interleave(at, out + static_cast<size_t>(s) * kPackStepBytes);
  }
  const int64_t tail = k - full_steps * kBf16PackValues;
  if (tail == 0) return;
  // The last values of each row, zero-padded to a whole step (never reading past a row).
  alignas(64) std::byte staged[kBf16GroupRows][kPackRowBytes] = {};
  const size_t offset = static_cast<size_t>(full_steps) * kPackRowBytes;
  for (int64_t r = 0; r < kBf16GroupRows; ++r) {
    if (r < n_rows) std::memcpy(staged[r], base + static_cast<size_t>(r) * row_stride + offset, static_cast<size_t>(tail) * 2);
    at[r] = staged[r];
  }
  interleave(at, out + static_cast<size_t>(full_steps) * kPackStepBytes);
}

// ---- activations ---------------------------------------------------------------------

__m512i round_32(__m512 lo, __m512 hi) {
  const __m512bh b = _mm512_cvtne2ps_pbh(hi, lo);  // values 0..15 from lo, 16..31 from hi
  __m512i out;
  std::memcpy(&out, &b, sizeof(out));
  return out;
}

void round_bf16_avx512(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_storeu_si512(dst + i, round_32(_mm512_loadu_ps(src + i), _mm512_loadu_ps(src + i + 16)));
  }
  const int64_t rest = n - i;
  if (rest == 0) return;
  // Masked-off lanes load as 0.0f: the pad value of an odd n.
  const auto lo = static_cast<__mmask16>(rest >= 16 ? 0xffffu : (1u << rest) - 1u);
  const auto hi = static_cast<__mmask16>(rest > 16 ? (1u << (rest - 16)) - 1u : 0u);
  const int64_t written = (rest + 1) / 2 * 2;
  const __mmask32 store = written == 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << written) - 1u);
  _mm512_mask_storeu_epi16(dst + i, store,
                           round_32(_mm512_maskz_loadu_ps(lo, src + i), _mm512_maskz_loadu_ps(hi, src + i + 16)));
}

// ---- the kernel --------------------------------------------------------------------

constexpr int kGroupBlock = 4;   // row groups per register block
constexpr int kVectorBlock = 6;  // vectors per register block
constexpr int64_t kDepthPairs = 512;

__m512bh as_bh(__m512i v) {
  __m512bh out;
  std::memcpy(&out, &v, sizeof(out));
  return out;
}

int32_t load_pair(const uint16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Pairs [p0, p1) of groups group0.. (G of them) times vectors v0.. (V of them).
template <int G, int V>
void micro(const Bf16GemmTask& t, int64_t group0, int64_t v0, int64_t p0, int64_t p1) {
  const std::byte* w[G];
  for (int g = 0; g < G; ++g) w[g] = t.groups + static_cast<size_t>(group0 + g) * t.group_bytes;
  const uint16_t* x[V];
  for (int v = 0; v < V; ++v) x[v] = t.x + static_cast<size_t>(v0 + v) * t.x_stride;
  __m512 acc[G][V];
  for (int g = 0; g < G; ++g)
    for (int v = 0; v < V; ++v) acc[g][v] = _mm512_setzero_ps();
  for (int64_t p = p0; p < p1; ++p) {
    __m512bh wv[G];
    for (int g = 0; g < G; ++g) wv[g] = as_bh(_mm512_loadu_si512(w[g] + static_cast<size_t>(p) * kStepBytes));
    for (int v = 0; v < V; ++v) {
      const __m512bh xv = as_bh(_mm512_set1_epi32(load_pair(x[v] + 2 * p)));
      for (int g = 0; g < G; ++g) acc[g][v] = _mm512_dpbf16_ps(acc[g][v], wv[g], xv);
    }
  }
  for (int g = 0; g < G; ++g) {
    const int64_t row0 = (group0 + g) * kBf16GroupRows;
    const int64_t valid = std::min<int64_t>(kBf16GroupRows, t.n_rows - row0);
    const auto mask = static_cast<__mmask16>((1u << valid) - 1u);
    for (int v = 0; v < V; ++v) {
      float* out = t.y + (v0 + v) * t.ldy + row0;
      __m512 sum = acc[g][v];
      if (p0 > 0) sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), sum);
      _mm512_mask_storeu_ps(out, mask, sum);
    }
  }
}

using MicroFn = void (*)(const Bf16GemmTask&, int64_t, int64_t, int64_t, int64_t);

template <int G>
MicroFn micro_for(int64_t n_v) {
  switch (n_v) {
    case 1: return micro<G, 1>;
    case 2: return micro<G, 2>;
    case 3: return micro<G, 3>;
    case 4: return micro<G, 4>;
    case 5: return micro<G, 5>;
    default: return micro<G, kVectorBlock>;
  }
}

MicroFn micro_for(int64_t n_groups, int64_t n_v) {
  switch (n_groups) {
    case 1: return micro_for<1>(n_v);
    case 2: return micro_for<2>(n_v);
    case 3: return micro_for<3>(n_v);
    default: return micro_for<kGroupBlock>(n_v);
  }
}

void gemm_bf16_avx512(const Bf16GemmTask& t) {
  const int64_t n_groups = (t.n_rows + kBf16GroupRows - 1) / kBf16GroupRows;
  const int64_t pairs = bf16_pairs(t.k);
  for (int64_t p0 = 0; p0 < pairs; p0 += kDepthPairs) {
    const int64_t p1 = std::min(pairs, p0 + kDepthPairs);
    for (int64_t v0 = 0; v0 < t.n_vectors; v0 += kVectorBlock) {
      const int64_t n_v = std::min<int64_t>(kVectorBlock, t.n_vectors - v0);
      for (int64_t g0 = 0; g0 < n_groups; g0 += kGroupBlock) {
        micro_for(std::min<int64_t>(kGroupBlock, n_groups - g0), n_v)(t, g0, v0, p0, p1);
      }
    }
  }
}

}  // namespace

namespace detail {
void register_gemm_bf16_avx512(KernelTable& table) {
  table.gemm_bf16 = gemm_bf16_avx512;
  table.round_bf16 = round_bf16_avx512;
  table[TensorType::BF16].pack_bf16 = pack_rows_bf16;
}
}  // namespace detail

}  // namespace sieve::tensor
