#pragma once
// BF16 GEMM for prefill with BF16 weights (matmat, batches of 8 vectors or
// more) on CPUs with AVX512-BF16. Private to core/tensor.
//
// The activations are rounded to BF16 once per call (round to nearest even,
// as vcvtne2ps2bf16 does) and the products of BF16 pairs are summed in F32
// by vdpbf16ps, which does two multiply-adds per 32-bit lane: twice the work
// of an F32 FMA per instruction. This is the reference engine's arithmetic
// for BF16 weights (its BF16 dot type is BF16).
//
// Weights are packed 16 rows at a time ("group"): for each pair of values
// (2i, 2i + 1), 64 bytes holding that pair of each of the 16 rows, so one
// 32-bit lane is one row. One vdpbf16ps then multiplies a pair of 16 rows with
// the vector's pair (broadcast), and every lane accumulates only its own row:
// a row's result does not depend on which rows share its group or call. The
// values are stored as they are (BF16 in, BF16 packed): packing only moves
// bytes. A row of odd length, and the rows past the last one of a partial
// group, are padded with zeros.

#include <cstddef>
#include <cstdint>

#include "tensor/kernels.h"
#include "tensor/matmul.h"

namespace sieve::tensor {

inline constexpr int64_t kBf16GroupRows = 16;
// Packing moves 8 values (4 pairs) of each row at a time; groups hold whole steps.
inline constexpr int64_t kBf16PackValues = 8;

// Pairs the kernel multiplies for rows of k values (an odd k gets a zero partner).
constexpr int64_t bf16_pairs(int64_t k) { return (k + 1) / 2; }

// Bytes of one packed group of 16 rows of k values.
constexpr size_t bf16_group_bytes(int64_t k) {
  const int64_t values = (k + kBf16PackValues - 1) / kBf16PackValues * kBf16PackValues;
  return static_cast<size_t>(values / 2) * 64;
}

// One call of the GEMM kernel: n_rows rows packed in consecutive groups (the
// last one may be partial) times n_vectors BF16 activations of k values each
// (padded with a zero to an even count); y[v * ldy + r] = row r times vector v.
struct Bf16GemmTask {
  const std::byte* groups = nullptr;
  size_t group_bytes = 0;
  int64_t n_rows = 0;
  int64_t k = 0;
  const uint16_t* x = nullptr;  // vector v's values start at x + v * x_stride (x_stride even)
  size_t x_stride = 0;
  int64_t n_vectors = 0;
  float* y = nullptr;
  int64_t ldy = 0;
};

// Whether matmat takes the BF16 GEMM path for this matrix: the table has the
// kernel and a packer for the weight type (BF16 with AVX512-BF16).
bool bf16_gemm_available(const MatrixView& w, const KernelTable& k);

// The BF16 GEMM path of matmat (matmat_bf16.cpp); the caller has checked the
// shape and bf16_gemm_available.
void matmat_bf16(const MatrixView& w, const float* x, int64_t n_vectors, float* y, ThreadPool& pool,
                 MatmulScratch& scratch, const KernelTable& k);

namespace detail {
// Registered by kernels.cpp on AVX-512 CPUs that have AVX512-BF16.
void register_gemm_bf16_avx512(KernelTable& table);
}  // namespace detail

}  // namespace sieve::tensor
