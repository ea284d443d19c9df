#pragma once
// Helpers shared by the block-type kernel tests (iq1_test, ternary_test):
// random activations, the kernel tables this CPU runs, and the int8 prefill
// GEMM compared with decode's vec_dot on the same rows.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/tensor_type.h"
#include "util/thread_pool.h"

namespace sieve::tensor::testing {

using Bytes = std::vector<uint8_t>;

inline const KernelTable& scalar() { return kernels_for(Isa::Scalar); }

inline std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

inline Bytes quantize(const KernelTable& k, TensorType type, const std::vector<float>& x) {
  Bytes out(bytes_for(type, x.size()));
  k[type].quantize(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

inline std::vector<float> dequantize(const KernelTable& k, TensorType type, const Bytes& data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  k[type].dequantize(data.data(), out.data(), n);
  return out;
}

inline double float_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

inline double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
  return s;
}

struct Variant {
  std::string name;
  const KernelTable* table;
};

// Every SIMD table the CPU runs (AVX-512 includes the VNNI GEMM where present).
inline std::vector<Variant> simd_variants() {
  std::vector<Variant> out;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (isa_available(isa)) out.push_back({std::string(isa_name(isa)), &kernels_for(isa)});
  }
  return out;
}

// The int8 GEMM (matmat on a batch, rows packed by pack_q8) against vec_dot
// of each row with each vector converted to the dot type. Both sum exact
// integer products per sub-block; only the float scaling and summation
// order differ, so they agree to float rounding of sum |w x|.
inline void expect_gemm_matches_vec_dot(const KernelTable& k, TensorType type, const Bytes& rows, int64_t n_rows,
                                        int64_t row_elems) {
  ASSERT_NE(k.gemm_q8, nullptr);
  ASSERT_NE(k[type].pack_q8, nullptr) << type_name(type);
  const int64_t n_vectors = 11;
  const std::vector<float> x = gaussian(n_vectors * row_elems, 77, 2.0f);
  const MatrixView view{rows.data(), type, n_rows, row_elems, bytes_for(type, static_cast<uint64_t>(row_elems))};
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<float> y(static_cast<size_t>(n_vectors * n_rows));
  matmat(view, x.data(), n_vectors, y.data(), pool, scratch, k);

  const TensorType dot = k[type].dot_type;
  std::vector<float> row(static_cast<size_t>(row_elems));
  for (int64_t j = 0; j < n_vectors; ++j) {
    const std::vector<float> xj(x.begin() + j * row_elems, x.begin() + (j + 1) * row_elems);
    const Bytes xq = quantize(scalar(), dot, xj);
    const std::vector<float> xd = dequantize(scalar(), dot, xq, row_elems);
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* w = rows.data() + static_cast<size_t>(r) * view.row_stride;
      const float want = k[type].vec_dot(row_elems, w, xq.data());
      k[type].dequantize(w, row.data(), row_elems);
      const double scale = abs_dot(row, xd);
      ASSERT_NEAR(y[static_cast<size_t>(j * n_rows + r)], want, 1e-5 * scale + 1e-30)
          << type_name(type) << " row " << r << " vector " << j;
    }
  }
}

// Every table the CPU runs that has an int8 GEMM (AVX2; AVX-512 with VNNI).
inline std::vector<Variant> gemm_q8_variants() {
  std::vector<Variant> out;
  for (const Variant& v : simd_variants()) {
    if (v.table->gemm_q8 != nullptr) out.push_back(v);
  }
  return out;
}

// matmat on a batch through each table's int8 GEMM must give the same bits:
// every kernel sums the same exact integers per sub-block and scales them
// with the same float operations per row (gemm_q8.h).
inline void expect_gemm_tables_agree(TensorType type, const Bytes& rows, int64_t n_rows, int64_t row_elems) {
  const std::vector<Variant> tables = gemm_q8_variants();
  if (tables.size() < 2) return;
  const int64_t n_vectors = 13;
  const std::vector<float> x = gaussian(n_vectors * row_elems, 78, 2.0f);
  const MatrixView view{rows.data(), type, n_rows, row_elems, bytes_for(type, static_cast<uint64_t>(row_elems))};
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<std::vector<float>> y;
  for (const Variant& v : tables) {
    ASSERT_NE((*v.table)[type].pack_q8, nullptr) << v.name << " " << type_name(type);
    y.emplace_back(static_cast<size_t>(n_vectors * n_rows));
    matmat(view, x.data(), n_vectors, y.back().data(), pool, scratch, *v.table);
  }
  for (size_t t = 1; t < tables.size(); ++t) {
    for (size_t i = 0; i < y[0].size(); ++i) {
      ASSERT_EQ(std::memcmp(&y[0][i], &y[t][i], sizeof(float)), 0)
          << type_name(type) << " element " << i << ": " << tables[0].name << " " << y[0][i] << ", " << tables[t].name
          << " " << y[t][i];
    }
  }
}

}  // namespace sieve::tensor::testing
