#pragma once
// Low-rank approximation of a matrix by randomized subspace iteration
// (Halko, Martinsson & Tropp): M (rows x cols) ~= B A with A (rank x cols)
// and B (rows x rank). Used for training-free predictors (the gate rows of a
// ReLU-family layer, docs/sparsity.md) and to start the trained ones.
//
// A's rows are orthonormal (the top right singular vectors), so B = M A^T and
// B's columns carry the singular values.

#include <cstdint>
#include <vector>

#include "util/thread_pool.h"

namespace sieve::sparse {

struct LowRank {
  int64_t rank = 0;
  int64_t rows = 0, cols = 0;
  std::vector<float> a;                // rank x cols, row-major
  std::vector<float> b;                // rows x rank, row-major
  std::vector<double> singular_values;  // the top `rank`, descending
  double total_energy = 0;              // squared Frobenius norm of M
  // Fraction of ||M||^2 the first r components capture.
  double captured(int64_t r) const;
};

struct SvdOptions {
  int64_t oversample = 16;     // extra random directions beyond the rank
  int power_iterations = 2;    // sharpen the subspace for slowly decaying spectra
  uint64_t seed = 0x5eed;
};

// `m` is row-major (rows x cols). rank is clamped to min(rows, cols).
LowRank low_rank_approximation(const float* m, int64_t rows, int64_t cols, int64_t rank, ThreadPool& pool,
                               const SvdOptions& options = {});

// Keeps the first r components (r <= rank).
void truncate(LowRank& lr, int64_t r);

// Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic
// Jacobi rotations: eigenvalues descending, eigenvectors as the columns of
// `vectors` (row-major n x n). Small n only (the sketch size).
void symmetric_eigen(std::vector<double> matrix, int64_t n, std::vector<double>& values, std::vector<double>& vectors);

// Dense helpers shared with predictor training (row-major, on the pool):
// out (k x rows) = V (k x cols) M^T, i.e. out[j][i] = dot(M row i, V row j).
void project_rows(const float* m, int64_t rows, int64_t cols, const float* v, int64_t k, float* out, ThreadPool& pool);
// out (k x cols) = W (k x rows) M, i.e. out[j] = sum_i W[j][i] M row i.
void combine_rows(const float* m, int64_t rows, int64_t cols, const float* w, int64_t k, float* out, ThreadPool& pool);

}  // namespace sieve::sparse
