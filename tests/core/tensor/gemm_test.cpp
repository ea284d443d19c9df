// The float GEMM tile kernels (KernelTable::gemm_f32) of every available ISA
// against a double-precision reference, on sizes that exercise full register
// blocks, edge blocks in rows and vectors, k tails, and strides wider than k.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tensor/kernels.h"

namespace sieve::tensor {
namespace {

std::vector<Isa> available_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (isa_available(isa)) isas.push_back(isa);
  }
  return isas;
}

struct Shape {
  int64_t n_rows, n_vectors, k, w_pad, x_pad, y_pad;
};

std::string describe(Isa isa, const Shape& s) {
  return std::string(isa_name(isa)) + " rows " + std::to_string(s.n_rows) + " vectors " +
         std::to_string(s.n_vectors) + " k " + std::to_string(s.k) + " pads " + std::to_string(s.w_pad) + "/" +
         std::to_string(s.x_pad) + "/" + std::to_string(s.y_pad);
}

// Runs the kernel on random data and compares every output with a double
// sum, allowing float rounding relative to the sum of |w * x|. Output cells
// outside the n_rows x n_vectors block (the y padding) must stay untouched.
void check_shape(Isa isa, const Shape& s, std::mt19937& gen) {
  const GemmF32Fn gemm = kernels_for(isa).gemm_f32;
  ASSERT_NE(gemm, nullptr) << isa_name(isa);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t ldw = s.k + s.w_pad, ldx = s.k + s.x_pad, ldy = s.n_rows + s.y_pad;
  std::vector<float> w(static_cast<size_t>(s.n_rows * ldw)), x(static_cast<size_t>(s.n_vectors * ldx));
  for (float& f : w) f = dist(gen);
  for (float& f : x) f = dist(gen);
  constexpr float kUntouched = -12345.0f;
  std::vector<float> y(static_cast<size_t>(s.n_vectors * ldy), kUntouched);
  gemm(s.n_rows, s.n_vectors, s.k, w.data(), ldw, x.data(), ldx, y.data(), ldy);
  for (int64_t j = 0; j < s.n_vectors; ++j) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[static_cast<size_t>(j * ldy + r)];
      if (r >= s.n_rows) {
        ASSERT_EQ(got, kUntouched) << describe(isa, s) << ": wrote padding at vector " << j << " row " << r;
        continue;
      }
      double want = 0, magnitude = 0;
      for (int64_t i = 0; i < s.k; ++i) {
        const double p = static_cast<double>(w[static_cast<size_t>(r * ldw + i)]) * x[static_cast<size_t>(j * ldx + i)];
        want += p;
        magnitude += std::fabs(p);
      }
      ASSERT_NEAR(got, want, 1e-5 * magnitude + 1e-30) << describe(isa, s) << ": vector " << j << " row " << r;
    }
  }
}

TEST(GemmF32, EveryTableHasAKernel) {
  for (Isa isa : available_isas()) EXPECT_NE(kernels_for(isa).gemm_f32, nullptr) << isa_name(isa);
}

TEST(GemmF32, FixedEdgeShapesMatchDoubleReference) {
  std::mt19937 gen(1);
  const Shape shapes[] = {
      {1, 1, 1, 0, 0, 0},      {1, 1, 15, 0, 0, 0},    {4, 6, 16, 0, 0, 0},     {3, 4, 8, 0, 0, 0},
      {5, 7, 17, 1, 3, 2},     {12, 12, 64, 0, 0, 0},  {13, 25, 257, 7, 5, 3},  {64, 9, 512, 0, 0, 0},
      {2, 30, 100, 16, 0, 1},  {31, 8, 2048, 0, 32, 0},
  };
  for (Isa isa : available_isas()) {
    for (const Shape& s : shapes) check_shape(isa, s, gen);
  }
}

TEST(GemmF32, RandomShapesMatchDoubleReference) {
  std::mt19937 gen(2);
  std::uniform_int_distribution<int64_t> rows(1, 40), vectors(1, 40), k(1, 600), pad(0, 9);
  for (int trial = 0; trial < 60; ++trial) {
    const Shape s{rows(gen), vectors(gen), k(gen), pad(gen), pad(gen), pad(gen)};
    for (Isa isa : available_isas()) check_shape(isa, s, gen);
  }
}

}  // namespace
}  // namespace sieve::tensor
