// Fuzz target: quantized blocks as a GGUF file delivers them, for the block
// decoders whose layout has fields that select (table indices, sub-block
// scales, exponents, grid indices, base-3 digits): IQ4_NL, IQ4_XS, MXFP4,
// IQ1_S, IQ1_M, TQ1_0, TQ2_0. The first byte picks the type
// and the row count, the rest are the blocks. Every table the CPU runs
// dequantizes them, takes decode's dot product, and prefill's batched
// product (the int8 GEMM packing where the table has it). The rows are
// copied into a buffer of exactly their size, so a decoder reading past its
// blocks is a sanitizer finding; any value, even infinite, is acceptable.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "fuzz/scratch_file.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/tensor_type.h"
#include "util/thread_pool.h"

namespace sieve::fuzz {
namespace {

using tensor::TensorType;

constexpr TensorType kTypes[] = {TensorType::IQ4_NL, TensorType::IQ4_XS, TensorType::MXFP4, TensorType::IQ1_S,
                                 TensorType::IQ1_M,  TensorType::TQ1_0,  TensorType::TQ2_0};
constexpr int64_t kVectors = 8;  // enough for matmat's batched path

std::vector<float> activations(int64_t n, uint8_t seed) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i + seed));
  return x;
}

void run_table(const tensor::KernelTable& k, TensorType type, const std::vector<uint8_t>& rows, int64_t n_rows,
               int64_t row_elems, ThreadPool& pool) {
  const tensor::TypeKernels& kt = k[type];
  std::vector<float> values(static_cast<size_t>(row_elems));
  const size_t row_bytes = tensor::bytes_for(type, static_cast<uint64_t>(row_elems));
  for (int64_t r = 0; r < n_rows; ++r) kt.dequantize(rows.data() + static_cast<size_t>(r) * row_bytes, values.data(), row_elems);

  const std::vector<float> x = activations(row_elems * kVectors, rows.empty() ? 0 : rows[0]);
  std::vector<uint8_t> converted(tensor::bytes_for(kt.dot_type, static_cast<uint64_t>(row_elems)));
  k[kt.dot_type].quantize(x.data(), converted.data(), row_elems);
  for (int64_t r = 0; r < n_rows; ++r) (void)kt.vec_dot(row_elems, rows.data() + static_cast<size_t>(r) * row_bytes, converted.data());

  const tensor::MatrixView view{rows.data(), type, n_rows, row_elems, row_bytes};
  tensor::MatmulScratch scratch;
  std::vector<float> y(static_cast<size_t>(n_rows * kVectors));
  tensor::matvec(view, x.data(), y.data(), pool, scratch, k);
  tensor::matmat(view, x.data(), kVectors, y.data(), pool, scratch, k);
}

}  // namespace

void blocks_body(std::span<const uint8_t> input) {
  if (input.empty()) return;
  const TensorType type = kTypes[input[0] % std::size(kTypes)];
  const int64_t n_rows = 1 + (input[0] / std::size(kTypes)) % 4;
  const tensor::TypeInfo& info = tensor::type_info(type);
  const size_t blocks = (input.size() - 1) / info.block_bytes;
  const int64_t blocks_per_row = static_cast<int64_t>(blocks) / n_rows;
  if (blocks_per_row == 0) return;
  const int64_t row_elems = blocks_per_row * info.block_elems;
  std::vector<uint8_t> rows(static_cast<size_t>(n_rows * blocks_per_row) * info.block_bytes);
  std::memcpy(rows.data(), input.data() + 1, rows.size());
  ThreadPool pool(2);
  for (tensor::Isa isa : {tensor::Isa::Scalar, tensor::Isa::Avx2, tensor::Isa::Avx512, tensor::Isa::Neon}) {
    if (tensor::isa_available(isa)) run_table(tensor::kernels_for(isa), type, rows, n_rows, row_elems, pool);
  }
}

}  // namespace sieve::fuzz
