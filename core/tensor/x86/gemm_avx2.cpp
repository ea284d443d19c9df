// AVX2 + FMA float GEMM tile (KernelTable::gemm_f32) for matmat.
//
// Register block: 4 weight rows x 3 vectors = 12 accumulators of 8 lanes,
// plus 3 vector loads held and one row load at a time: all 16 YMM registers.
// Each step of 8 values does 7 loads for 12 FMAs. Four rows divide matmat's
// tiles (multiples of 16 rows) evenly; with 3 rows per block every tile ended
// in a 1-row block (4 FMAs per 5 loads), ~9% of a BF16 prefill's GEMM time.
// Sums run along k and are reduced once at the end; the vector block is the
// outer loop so its activation rows stay in L1 while the caller's weight tile
// (sized for L2) passes under it.

#if !defined(__AVX2__) || !defined(__FMA__)
#error "gemm_avx2.cpp must be compiled with AVX2 and FMA enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "tensor/gemm.h"

namespace sieve::tensor::detail {
namespace {

constexpr int kRows = 4;
constexpr int kVectors = 3;
constexpr int64_t kDepth = 512;
constexpr int64_t kLanes = 8;

float reduce_add(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// Lane l is loaded when l < count (maskload reads nothing for the others).
__m256i tail_mask(int64_t count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
}

template <int R, int V>
void micro(int64_t k, const float* w, int64_t ldw, const float* x, int64_t ldx, float* y, int64_t ldy,
           bool accumulate) {
  __m256 acc[R][V];
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    __m256 xv[V];
    for (int v = 0; v < V; ++v) xv[v] = _mm256_loadu_ps(x + v * ldx + i);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_loadu_ps(w + r * ldw + i);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(wv, xv[v], acc[r][v]);
    }
  }
  if (i < k) {
    const __m256i mask = tail_mask(k - i);
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm256_maskload_ps(w + r * ldw + i, mask);
    for (int v = 0; v < V; ++v) {
      const __m256 xv = _mm256_maskload_ps(x + v * ldx + i, mask);
      for (int r = 0; r < R; ++r) acc[r][v] = _mm256_fmadd_ps(wv[r], xv, acc[r][v]);
    }
  }
  for (int v = 0; v < V; ++v) {
    for (int r = 0; r < R; ++r) {
      const float sum = reduce_add(acc[r][v]);
      y[v * ldy + r] = accumulate ? y[v * ldy + r] + sum : sum;
    }
  }
}

using MicroFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, bool);

// kBlocks[r - 1][v - 1] handles r rows by v vectors: full blocks and edges.
template <int R, int... V>
constexpr std::array<MicroFn, kVectors> row_of(std::integer_sequence<int, V...>) {
  return {&micro<R, V + 1>...};
}
template <int... R>
constexpr std::array<std::array<MicroFn, kVectors>, kRows> all_blocks(std::integer_sequence<int, R...>) {
  return {row_of<R + 1>(std::make_integer_sequence<int, kVectors>())...};
}
constexpr auto kBlocks = all_blocks(std::make_integer_sequence<int, kRows>());

void gemm_f32_avx2(int64_t n_rows, int64_t n_vectors, int64_t k, const float* w, int64_t ldw, const float* x,
                   int64_t ldx, float* y, int64_t ldy) {
  for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
    const int64_t depth = std::min(kDepth, k - k0);
    for (int64_t j = 0; j < n_vectors; j += kVectors) {
      const int64_t v = std::min<int64_t>(kVectors, n_vectors - j);
      for (int64_t r = 0; r < n_rows; r += kRows) {
        const int64_t rows = std::min<int64_t>(kRows, n_rows - r);
        kBlocks[rows - 1][v - 1](depth, w + r * ldw + k0, ldw, x + j * ldx + k0, ldx, y + j * ldy + r, ldy, k0 > 0);
      }
    }
  }
}

}  // namespace

void register_gemm_avx2(KernelTable& table) { table.gemm_f32 = gemm_f32_avx2; }

}  // namespace sieve::tensor::detail
