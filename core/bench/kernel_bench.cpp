#include "bench/kernel_bench.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/memory_bandwidth.h"
#include "tensor/matmul.h"
#include "util/error.h"

namespace sieve::bench {
namespace {

using tensor::TensorType;

// Distinct rows quantized for real; the matrix repeats them.
constexpr int64_t kDistinctRows = 64;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> out(n);
  for (float& v : out) v = dist(gen);
  return out;
}

// kDistinctRows rows of `type`, back to back.
std::vector<std::byte> quantized_rows(TensorType type, const tensor::KernelTable& k, int64_t row_elems,
                                      size_t row_bytes) {
  const std::vector<float> values = random_floats(static_cast<size_t>(kDistinctRows * row_elems), 1234);
  std::vector<std::byte> rows(row_bytes * kDistinctRows);
  for (int64_t r = 0; r < kDistinctRows; ++r) {
    const float* src = values.data() + r * row_elems;
    std::byte* dst = rows.data() + static_cast<size_t>(r) * row_bytes;
    if (k[type].quantize != nullptr) k[type].quantize(src, dst, row_elems);
    // F32: the values are the row. Read-only types (IQ1_*): their bytes are
    // random, which may make the results NaN but not the dot slower.
    else std::memcpy(dst, src, row_bytes);
  }
  return rows;
}

// Writes the pattern rows over the whole matrix; each thread touches (and so
// faults in) its own share of the pages.
void fill_matrix(AlignedBuffer& matrix, const std::vector<std::byte>& pattern, size_t row_bytes, int64_t n_rows,
                 ThreadPool& pool) {
  pool.parallel_for(
      n_rows,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const size_t src = static_cast<size_t>(r % kDistinctRows) * row_bytes;
          std::memcpy(matrix.data() + static_cast<size_t>(r) * row_bytes, pattern.data() + src, row_bytes);
        }
      },
      1024);
}

template <typename Fn>
double best_seconds(int passes, Fn&& run) {
  run();  // warm-up
  double best = 0;
  for (int pass = 0; pass < std::max(1, passes); ++pass) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (pass == 0 || s < best) best = s;
  }
  return best;
}

}  // namespace

bool can_bench(TensorType type, const tensor::KernelTable& k) {
  return k[type].vec_dot != nullptr;
}

KernelBenchResult bench_kernel(TensorType type, const tensor::KernelTable& k, ThreadPool& pool,
                               const KernelBenchOptions& options) {
  const std::string name(tensor::type_name(type));
  if (!can_bench(type, k)) {
    throw Error("bench-kernels: no kernel for type " + name + " (ISA " + std::string(tensor::isa_name(k.isa)) + ")");
  }
  if (options.row_elems <= 0 || !tensor::is_whole_blocks(type, static_cast<uint64_t>(options.row_elems))) {
    throw Error("bench-kernels: row length " + std::to_string(options.row_elems) +
                " is not a whole number of " + name + " blocks");
  }
  KernelBenchResult result;
  result.type = type;
  result.row_elems = options.row_elems;
  result.matmat_vectors = options.matmat_vectors;
  const size_t row_bytes = tensor::bytes_for(type, static_cast<uint64_t>(options.row_elems));
  result.n_rows = std::max<int64_t>(1, static_cast<int64_t>(options.matrix_bytes / row_bytes));
  result.weight_bytes = row_bytes * static_cast<uint64_t>(result.n_rows);

  AlignedBuffer matrix(result.weight_bytes);
  fill_matrix(matrix, quantized_rows(type, k, options.row_elems, row_bytes), row_bytes, result.n_rows, pool);
  const tensor::MatrixView w{matrix.data(), type, result.n_rows, options.row_elems, row_bytes};

  const int64_t n_vec = std::max<int64_t>(1, options.matmat_vectors);
  const std::vector<float> x = random_floats(static_cast<size_t>(n_vec * options.row_elems), 99);
  std::vector<float> y(static_cast<size_t>(n_vec * result.n_rows));
  tensor::MatmulScratch scratch;
  result.matvec_seconds =
      best_seconds(options.matvec_passes, [&] { tensor::matvec(w, x.data(), y.data(), pool, scratch, k); });
  result.matmat_seconds = best_seconds(
      options.matmat_passes, [&] { tensor::matmat(w, x.data(), n_vec, y.data(), pool, scratch, k); });
  result.matmat_vectors = n_vec;
  return result;
}

}  // namespace sieve::bench
