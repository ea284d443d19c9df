#pragma once
// Matrix products over weights of any computable type.
//
// Decode multiplies each weight matrix with one activation vector (matvec);
// prefill with a batch of them (matmat), reusing each weight row across the
// batch while it is in cache. Activations are converted once per call to the
// weight type's dot_type (kernels.h) into caller-owned scratch, so the token
// loop allocates nothing after its first call.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/kernels.h"
#include "tensor/tensor_type.h"
#include "util/thread_pool.h"

namespace sieve::tensor {

// Rows of `row_elems` values of `type`, `row_stride` bytes apart.
struct MatrixView {
  const void* data = nullptr;
  TensorType type = TensorType::F32;
  int64_t n_rows = 0;
  int64_t row_elems = 0;
  size_t row_stride = 0;
};

// Reusable buffer for converted activations; grows, never shrinks.
struct MatmulScratch {
  std::vector<std::byte> activations;
};

// y[r] = dot(W row r, x) for r in [0, n_rows). x has row_elems floats.
void matvec(const MatrixView& w, const float* x, float* y, ThreadPool& pool, MatmulScratch& scratch,
            const KernelTable& k = kernels());

// For each of n_vectors activations x[j] (row_elems floats each, contiguous):
// y[j * n_rows + r] = dot(W row r, x[j]).
void matmat(const MatrixView& w, const float* x, int64_t n_vectors, float* y, ThreadPool& pool,
            MatmulScratch& scratch, const KernelTable& k = kernels());

}  // namespace sieve::tensor
