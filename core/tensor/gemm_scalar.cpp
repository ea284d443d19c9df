// Portable float GEMM tile: the reference for the SIMD versions and the
// kernel of the scalar table. Two rows by two vectors share each load. Every
// output is one running sum along k, in the 2 x 2 block and at the edges
// alike, so a row's result does not depend on whether it was paired with a
// neighbour (the flash engine multiplies views of some rows of a matrix).

#include <cstdint>

#include "tensor/gemm.h"

namespace sieve::tensor::detail {
namespace {

float dot(int64_t k, const float* w, const float* x) {
  float acc = 0;
  for (int64_t i = 0; i < k; ++i) acc += w[i] * x[i];
  return acc;
}

// y for rows r, r+1 and vectors j, j+1 in one pass over k.
void dot_2x2(int64_t k, const float* w0, const float* w1, const float* x0, const float* x1, float out[4]) {
  float a00 = 0, a01 = 0, a10 = 0, a11 = 0;
  for (int64_t i = 0; i < k; ++i) {
    a00 += w0[i] * x0[i];
    a01 += w0[i] * x1[i];
    a10 += w1[i] * x0[i];
    a11 += w1[i] * x1[i];
  }
  out[0] = a00;
  out[1] = a01;
  out[2] = a10;
  out[3] = a11;
}

void gemm_f32_scalar(int64_t n_rows, int64_t n_vectors, int64_t k, const float* w, int64_t ldw, const float* x,
                     int64_t ldx, float* y, int64_t ldy) {
  int64_t j = 0;
  for (; j + 2 <= n_vectors; j += 2) {
    const float* x0 = x + j * ldx;
    int64_t r = 0;
    for (; r + 2 <= n_rows; r += 2) {
      float out[4];
      dot_2x2(k, w + r * ldw, w + (r + 1) * ldw, x0, x0 + ldx, out);
      y[j * ldy + r] = out[0];
      y[(j + 1) * ldy + r] = out[1];
      y[j * ldy + r + 1] = out[2];
      y[(j + 1) * ldy + r + 1] = out[3];
    }
    for (; r < n_rows; ++r) {
      y[j * ldy + r] = dot(k, w + r * ldw, x0);
      y[(j + 1) * ldy + r] = dot(k, w + r * ldw, x0 + ldx);
    }
  }
  for (; j < n_vectors; ++j) {
    for (int64_t r = 0; r < n_rows; ++r) y[j * ldy + r] = dot(k, w + r * ldw, x + j * ldx);
  }
}

}  // namespace

void register_gemm_scalar(KernelTable& table) { table.gemm_f32 = gemm_f32_scalar; }

}  // namespace sieve::tensor::detail
