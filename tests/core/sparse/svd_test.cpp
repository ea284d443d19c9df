// Randomized SVD: exact on matrices of low rank, the singular values of a
// known spectrum, and the Jacobi eigen-solver.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sparse/svd.h"

namespace sieve::sparse {
namespace {

std::vector<float> random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> m(static_cast<size_t>(rows * cols));
  for (float& v : m) v = g(rng);
  return m;
}

// m = U V with U rows x r, V r x cols: rank r exactly.
std::vector<float> low_rank_matrix(int64_t rows, int64_t cols, int64_t r, uint64_t seed) {
  const auto u = random_matrix(rows, r, seed), v = random_matrix(r, cols, seed + 1);
  std::vector<float> m(static_cast<size_t>(rows * cols), 0.0f);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t k = 0; k < r; ++k)
      for (int64_t j = 0; j < cols; ++j) m[i * cols + j] += u[i * r + k] * v[k * cols + j];
  return m;
}

double relative_error(const std::vector<float>& m, const LowRank& lr) {
  double err = 0, norm = 0;
  for (int64_t i = 0; i < lr.rows; ++i) {
    for (int64_t j = 0; j < lr.cols; ++j) {
      double approx = 0;
      for (int64_t k = 0; k < lr.rank; ++k) approx += lr.b[i * lr.rank + k] * lr.a[k * lr.cols + j];
      const double d = approx - m[i * lr.cols + j];
      err += d * d;
      norm += static_cast<double>(m[i * lr.cols + j]) * m[i * lr.cols + j];
    }
  }
  return std::sqrt(err / norm);
}

TEST(Svd, RecoversAMatrixOfLowRank) {
  ThreadPool pool(2);
  const auto m = low_rank_matrix(200, 96, 7, 3);
  const LowRank lr = low_rank_approximation(m.data(), 200, 96, 7, pool);
  EXPECT_EQ(lr.rank, 7);
  EXPECT_LT(relative_error(m, lr), 1e-4);
  EXPECT_NEAR(lr.captured(7), 1.0, 1e-6);
  // A's rows are orthonormal.
  for (int64_t p = 0; p < 7; ++p) {
    for (int64_t q = 0; q < 7; ++q) {
      double d = 0;
      for (int64_t j = 0; j < 96; ++j) d += lr.a[p * 96 + j] * lr.a[q * 96 + j];
      EXPECT_NEAR(d, p == q ? 1.0 : 0.0, 1e-4);
    }
  }
}

TEST(Svd, FindsTheLargestSingularValuesOfAKnownSpectrum) {
  // Diagonal 120 x 80 with singular values 80, 79, ..., 1 (rows permuted).
  ThreadPool pool(1);
  std::vector<float> m(120 * 80, 0.0f);
  for (int64_t k = 0; k < 80; ++k) m[((k * 37) % 120) * 80 + k] = static_cast<float>(80 - k);
  const LowRank lr = low_rank_approximation(m.data(), 120, 80, 5, pool, {.oversample = 20, .power_iterations = 4});
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(lr.singular_values[k], 80.0 - k, 0.05) << k;
  double total = 0;
  for (int k = 1; k <= 80; ++k) total += k * k;
  EXPECT_NEAR(lr.captured(5), (80.0 * 80 + 79 * 79 + 78 * 78 + 77 * 77 + 76 * 76) / total, 1e-3);
}

TEST(Svd, TruncateKeepsTheLeadingComponents) {
  ThreadPool pool(1);
  const auto m = random_matrix(50, 40, 9);
  LowRank lr = low_rank_approximation(m.data(), 50, 40, 10, pool);
  const LowRank full = lr;
  truncate(lr, 4);
  ASSERT_EQ(lr.rank, 4);
  ASSERT_EQ(lr.b.size(), 50u * 4);
  for (int64_t i = 0; i < 50; ++i)
    for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(lr.b[i * 4 + k], full.b[i * 10 + k]);
  EXPECT_GE(relative_error(m, lr), relative_error(m, full));
}

TEST(Svd, JacobiEigenSolverDiagonalisesASymmetricMatrix) {
  const std::vector<double> a = {4, 1, 2, 1, 3, 0, 2, 0, 5};
  std::vector<double> values, vectors;
  symmetric_eigen(a, 3, values, vectors);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_GE(values[0], values[1]);
  EXPECT_GE(values[1], values[2]);
  EXPECT_NEAR(values[0] + values[1] + values[2], 12.0, 1e-9);  // the trace
  for (int c = 0; c < 3; ++c) {  // A v = lambda v
    for (int r = 0; r < 3; ++r) {
      double av = 0;
      for (int k = 0; k < 3; ++k) av += a[r * 3 + k] * vectors[k * 3 + c];
      EXPECT_NEAR(av, values[c] * vectors[r * 3 + c], 1e-9);
    }
  }
}

}  // namespace
}  // namespace sieve::sparse
