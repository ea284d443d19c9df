#pragma once
// Throughput of matvec / matmat for one weight type on a matrix much bigger
// than the caches, as `sieve bench-kernels` reports it.
//
// The matrix is not quantized in full (slow quantizers would take minutes per
// GiB): a few dozen random rows are quantized with the type's own quantizer and
// repeated to fill it. The data is real, well-formed blocks, and the kernels'
// speed does not depend on the values; caches key on addresses, so repeating
// rows does not make the reads any cheaper.

#include <cstdint>

#include "tensor/kernels.h"
#include "tensor/tensor_type.h"
#include "util/thread_pool.h"

namespace sieve::bench {

struct KernelBenchOptions {
  uint64_t matrix_bytes = uint64_t{1} << 30;  // about this many weight bytes (at least one row)
  int64_t row_elems = 4096;
  int matvec_passes = 5;  // timed passes after one warm-up; the best counts
  int matmat_passes = 2;
  int64_t matmat_vectors = 16;
};

struct KernelBenchResult {
  tensor::TensorType type = tensor::TensorType::F32;
  int64_t n_rows = 0;
  int64_t row_elems = 0;
  uint64_t weight_bytes = 0;
  double matvec_seconds = 0;  // best pass
  double matmat_seconds = 0;  // best pass
  int64_t matmat_vectors = 0;

  // Weight bytes streamed per second by matvec (1e9 bytes).
  double matvec_gbps() const { return static_cast<double>(weight_bytes) / matvec_seconds / 1e9; }
  // 2 flops (multiply + add) per weight per vector.
  double matmat_gflops() const {
    return 2.0 * static_cast<double>(n_rows) * static_cast<double>(row_elems) *
           static_cast<double>(matmat_vectors) / matmat_seconds / 1e9;
  }
  // Weight bytes per vector per second: what matvec would need to stream to match.
  double matmat_gbps_per_vector() const {
    return static_cast<double>(weight_bytes) * static_cast<double>(matmat_vectors) / matmat_seconds / 1e9;
  }
};

// Whether `k` has what the benchmark needs for `type`: a dot kernel, and a
// quantizer to build the matrix (F32 needs none; types Sieve reads but does
// not write are filled with random blocks).
bool can_bench(tensor::TensorType type, const tensor::KernelTable& k);

// Builds the matrix, times matvec then matmat, and frees the matrix.
// Throws sieve::Error when can_bench() is false or the row length does not fit
// the type's blocks.
KernelBenchResult bench_kernel(tensor::TensorType type, const tensor::KernelTable& k, ThreadPool& pool,
                               const KernelBenchOptions& options);

}  // namespace sieve::bench
