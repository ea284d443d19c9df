// Portable float GEMM tile: the reference for the SIMD versions and the
// kernel of the scalar table. Two rows by two vectors share each load, with
// four independent sums per pair so the additions pipeline.

#include <cstdint>

#include "tensor/gemm.h"

namespace sieve::tensor::detail {
namespace {

constexpr int kLanes = 4;

float dot(int64_t k, const float* w, const float* x) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += w[i + l] * x[i + l];
  }
  for (; i < k; ++i) acc[0] += w[i] * x[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
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
