// AVX-512 float GEMM tile (KernelTable::gemm_f32) for matmat.
//
// Register block: 4 weight rows x 6 vectors = 24 accumulators of 16 lanes,
// plus the 4 row loads and one vector load per step (29 of 32 registers).
// Each step of 16 values does 10 loads for 24 FMAs, so the FMA units, not the
// loads, set the pace. Sums run along k; each accumulator is reduced once at
// the end. The vector block is the outer loop: its 6 activation rows stay in
// L1 while the caller's weight tile (sized for L2) passes under it.

#if !defined(__AVX512F__)
#error "gemm_avx512.cpp must be compiled with AVX-512 enabled (see core/tensor/CMakeLists.txt)"
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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
constexpr int kVectors = 6;
constexpr int64_t kDepth = 512;
constexpr int64_t kLanes = 16;

template <int R, int V>
void micro(int64_t k, const float* w, int64_t ldw, const float* x, int64_t ldx, float* y, int64_t ldy,
           bool accumulate) {
  __m512 acc[R][V];
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_ps(w + r * ldw + i);
    for (int v = 0; v < V; ++v) {
      const __m512 xv = _mm512_loadu_ps(x + v * ldx + i);
      for (int r = 0; r < R; ++r) acc[r][v] = _mm512_fmadd_ps(wv[r], xv, acc[r][v]);
    }
  }
  if (i < k) {  // the last k % 16 values: masked loads read nothing past the row
    const __mmask16 mask = static_cast<__mmask16>((1u << (k - i)) - 1);
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_ps(mask, w + r * ldw + i);
    for (int v = 0; v < V; ++v) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + v * ldx + i);
      for (int r = 0; r < R; ++r) acc[r][v] = _mm512_fmadd_ps(wv[r], xv, acc[r][v]);
    }
  }
  for (int v = 0; v < V; ++v) {
    for (int r = 0; r < R; ++r) {
      const float sum = _mm512_reduce_add_ps(acc[r][v]);
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

void gemm_f32_avx512(int64_t n_rows, int64_t n_vectors, int64_t k, const float* w, int64_t ldw, const float* x,
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

void register_gemm_avx512(KernelTable& table) { table.gemm_f32 = gemm_f32_avx512; }

}  // namespace sieve::tensor::detail
