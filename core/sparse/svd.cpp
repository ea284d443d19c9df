#include "sparse/svd.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace sieve::sparse {
namespace {

double dot(const float* a, const float* b, int64_t n) {
  float sum = 0;  // float lanes vectorize; rows here are at most a few thousand long
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Makes the k rows (n values each) orthonormal, in order (modified
// Gram-Schmidt, applied twice for stability). A row that becomes ~0 (the
// matrix has lower rank) is replaced by zeros.
void orthonormalize_rows(float* rows, int64_t k, int64_t n, ThreadPool& pool) {
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t j = 0; j < k; ++j) {
      float* q = rows + j * n;
      const double norm = std::sqrt(dot(q, q, n));
      const float scale = norm > 1e-20 ? static_cast<float>(1.0 / norm) : 0.0f;
      for (int64_t i = 0; i < n; ++i) q[i] *= scale;
      pool.parallel_for(
          k - j - 1,
          [&](int64_t b, int64_t e) {
            for (int64_t l = j + 1 + b; l < j + 1 + e; ++l) {
              float* r = rows + l * n;
              const auto p = static_cast<float>(dot(r, q, n));
              for (int64_t i = 0; i < n; ++i) r[i] -= p * q[i];
            }
          },
          8);
    }
  }
}

}  // namespace

double LowRank::captured(int64_t r) const {
  if (total_energy <= 0) return 1.0;
  double sum = 0;
  for (int64_t i = 0; i < std::min<int64_t>(r, static_cast<int64_t>(singular_values.size())); ++i) {
    sum += singular_values[static_cast<size_t>(i)] * singular_values[static_cast<size_t>(i)];
  }
  return std::min(1.0, sum / total_energy);
}

void project_rows(const float* m, int64_t rows, int64_t cols, const float* v, int64_t k, float* out, ThreadPool& pool) {
  pool.parallel_for(
      rows,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const float* row = m + i * cols;
          for (int64_t j = 0; j < k; ++j) out[j * rows + i] = static_cast<float>(dot(row, v + j * cols, cols));
        }
      },
      16);
}

void combine_rows(const float* m, int64_t rows, int64_t cols, const float* w, int64_t k, float* out, ThreadPool& pool) {
  constexpr int64_t kBlock = 256;
  const int64_t n_blocks = (cols + kBlock - 1) / kBlock;
  pool.parallel_for(n_blocks, [&](int64_t b, int64_t e) {
    for (int64_t block = b; block < e; ++block) {
      const int64_t c0 = block * kBlock, c1 = std::min(cols, c0 + kBlock);
      for (int64_t j = 0; j < k; ++j) std::fill(out + j * cols + c0, out + j * cols + c1, 0.0f);
      for (int64_t i = 0; i < rows; ++i) {
        const float* row = m + i * cols;
        for (int64_t j = 0; j < k; ++j) {
          const float wji = w[j * rows + i];
          if (wji == 0.0f) continue;
          float* o = out + j * cols;
          for (int64_t c = c0; c < c1; ++c) o[c] += wji * row[c];
        }
      }
    }
  });
}

void symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>& values, std::vector<double>& vectors) {
  const auto at = [n](std::vector<double>& m, int64_t r, int64_t c) -> double& { return m[static_cast<size_t>(r * n + c)]; };
  std::vector<double> v(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) at(v, i, i) = 1.0;
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0, diag = 0;
    for (int64_t p = 0; p < n; ++p) {
      diag += at(a, p, p) * at(a, p, p);
      for (int64_t q = p + 1; q < n; ++q) off += at(a, p, q) * at(a, p, q);
    }
    if (off <= 1e-22 * std::max(diag, 1e-300)) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = at(a, p, q);
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (at(a, q, q) - at(a, p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // columns p, q
          const double akp = at(a, k, p), akq = at(a, k, q);
          at(a, k, p) = c * akp - s * akq;
          at(a, k, q) = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {  // rows p, q
          const double apk = at(a, p, k), aqk = at(a, q, k);
          at(a, p, k) = c * apk - s * aqk;
          at(a, q, k) = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double vkp = at(v, k, p), vkq = at(v, k, q);
          at(v, k, p) = c * vkp - s * vkq;
          at(v, k, q) = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return at(a, x, x) > at(a, y, y); });
  values.resize(static_cast<size_t>(n));
  vectors.assign(static_cast<size_t>(n * n), 0.0);
  for (int64_t c = 0; c < n; ++c) {
    values[static_cast<size_t>(c)] = at(a, order[static_cast<size_t>(c)], order[static_cast<size_t>(c)]);
    for (int64_t r = 0; r < n; ++r) at(vectors, r, c) = at(v, r, order[static_cast<size_t>(c)]);
  }
}

LowRank low_rank_approximation(const float* m, int64_t rows, int64_t cols, int64_t rank, ThreadPool& pool,
                               const SvdOptions& options) {
  LowRank lr;
  lr.rows = rows;
  lr.cols = cols;
  rank = std::clamp<int64_t>(rank, 1, std::min(rows, cols));
  const int64_t k = std::min(rank + options.oversample, std::min(rows, cols));
  for (int64_t i = 0; i < rows * cols; ++i) lr.total_energy += static_cast<double>(m[i]) * m[i];

  std::mt19937_64 rng(options.seed);
  std::normal_distribution<float> gauss;
  std::vector<float> omega(static_cast<size_t>(k * cols));
  for (float& x : omega) x = gauss(rng);
  std::vector<float> yt(static_cast<size_t>(k * rows));  // the range basis, one row per direction
  project_rows(m, rows, cols, omega.data(), k, yt.data(), pool);
  orthonormalize_rows(yt.data(), k, rows, pool);
  std::vector<float> zt(static_cast<size_t>(k * cols));
  for (int q = 0; q < options.power_iterations; ++q) {
    combine_rows(m, rows, cols, yt.data(), k, zt.data(), pool);
    orthonormalize_rows(zt.data(), k, cols, pool);
    project_rows(m, rows, cols, zt.data(), k, yt.data(), pool);
    orthonormalize_rows(yt.data(), k, rows, pool);
  }
  // C = Q^T M (k x cols); its SVD from the eigen-decomposition of C C^T.
  std::vector<float>& c = zt;
  combine_rows(m, rows, cols, yt.data(), k, c.data(), pool);
  std::vector<double> gram(static_cast<size_t>(k * k));
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = i; j < k; ++j) {
      gram[static_cast<size_t>(i * k + j)] = gram[static_cast<size_t>(j * k + i)] =
          dot(c.data() + i * cols, c.data() + j * cols, cols);
    }
  }
  std::vector<double> values, vectors;
  symmetric_eigen(std::move(gram), k, values, vectors);

  lr.rank = rank;
  lr.a.assign(static_cast<size_t>(rank * cols), 0.0f);
  for (int64_t r = 0; r < rank; ++r) {
    const double sigma = std::sqrt(std::max(values[static_cast<size_t>(r)], 0.0));
    lr.singular_values.push_back(sigma);
    if (sigma <= 1e-20) continue;
    float* out = lr.a.data() + r * cols;
    for (int64_t j = 0; j < k; ++j) {
      const auto w = static_cast<float>(vectors[static_cast<size_t>(j * k + r)] / sigma);
      const float* cj = c.data() + j * cols;
      for (int64_t x = 0; x < cols; ++x) out[x] += w * cj[x];
    }
  }
  // B = M A^T: the best B for this A.
  std::vector<float> bt(static_cast<size_t>(rank * rows));
  project_rows(m, rows, cols, lr.a.data(), rank, bt.data(), pool);
  lr.b.resize(static_cast<size_t>(rows * rank));
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t r = 0; r < rank; ++r) lr.b[static_cast<size_t>(i * rank + r)] = bt[static_cast<size_t>(r * rows + i)];
  }
  return lr;
}

void truncate(LowRank& lr, int64_t r) {
  r = std::clamp<int64_t>(r, 1, lr.rank);
  if (r == lr.rank) return;
  lr.a.resize(static_cast<size_t>(r * lr.cols));
  std::vector<float> b(static_cast<size_t>(lr.rows * r));
  for (int64_t i = 0; i < lr.rows; ++i) {
    std::copy_n(lr.b.data() + i * lr.rank, r, b.data() + i * r);
  }
  lr.b = std::move(b);
  lr.singular_values.resize(static_cast<size_t>(r));
  lr.rank = r;
}

}  // namespace sieve::sparse
