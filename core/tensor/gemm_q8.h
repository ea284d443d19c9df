#pragma once
// Int8 GEMM for prefill with quantized weights (matmat, batches of 8 vectors
// or more). Private to core/tensor.
//
// Each weight value is an unsigned byte u with w = scale * (u - offset) + min
// per sub-block of `sub_block` values (min only for types that have one).
// Activations are quantized once per call the way decode quantizes them (the
// weight type's dot_type, Q8_0 or Q8_K) and laid out as int8 values x plus,
// per sub-block, the float scale dx and the sums the offset and min need. Then
//
//   y = sum over sub-blocks of  (scale * dx) * (sum u*x - offset * sum x) + min * dx * sum x,
//
// where the integer part is exact (VNNI vpdpbusd: unsigned weight bytes times
// signed activation bytes, four per 32-bit lane).
//
// Weights are packed a group of rows at a time, in a layout each table's
// kernel chooses (KernelTable::q8_group_rows, q8_group_bytes). The AVX-512
// one (below, kQ8GroupRows = 16): for each sub-block, the values in steps of
// four — 64 bytes holding four values of each of the 16 rows, so one 32-bit
// lane is one row — then 16 float scales and, if the type has mins, 16 float
// mins. One register of products is then one value step of 16 rows, the
// activation's four bytes are broadcast, and every lane computes only its own
// row: a row's result does not depend on which rows share its group or call.
// The AVX2 layout (x86/gemm_q8_avx2.cpp) is the same idea with 8 rows.

#include <cstddef>
#include <cstdint>

#include "tensor/kernels.h"
#include "tensor/tensor_type.h"

namespace sieve::tensor {

inline constexpr int64_t kQ8GroupRows = 16;     // the AVX-512 layout
inline constexpr int64_t kQ8GroupRowsAvx2 = 8;  // the AVX2 layout (x86/gemm_q8_avx2.cpp)

struct Q8GemmLayout {
  int sub_block = 0;  // values per scale; 0 = the type has no int8 GEMM layout
  int offset = 0;     // subtracted from every unsigned value
  bool has_min = false;
  // Values per super-block when the sub-block scales are small integers times
  // one float per super-block (IQ4_XS: 6-bit scales, one fp16 per 256) and the
  // activation's dx is one per super-block too (Q8_K). The kernels then sum
  // scale * (integer sum) over the super-block in int32 and convert once per
  // super-block instead of once per sub-block. 0: a float scale per sub-block.
  int int_scale_block = 0;
};

constexpr Q8GemmLayout q8_gemm_layout(TensorType type) {
  switch (type) {
    case TensorType::Q4_0: return {32, 8, false};
    case TensorType::Q8_0: return {32, 128, false};  // signed bytes stored as u = q + 128
    case TensorType::Q4_K: return {32, 0, true};
    case TensorType::Q6_K: return {16, 32, false};
    // Codebook levels stored as u = level + 128 (blocks_iq.h); IQ4_XS per 32-value sub-block.
    case TensorType::IQ4_NL:
    case TensorType::MXFP4: return {32, 128, false};
    // |sum over a super-block| <= 256 * 127 * 127 * 32 < 2^31: int32 holds it.
    case TensorType::IQ4_XS: return {32, 128, false, 256};
    // Grid magnitudes times signs as u = value + 128, per 32-value sub-block (blocks_iq3.h).
    case TensorType::IQ3_XXS:
    case TensorType::IQ3_S: return {32, 128, false};
    // Signed grid values stored as u = value + 128 (x86/iq2_pack.h), scale per 32 or 16 values.
    case TensorType::IQ2_XXS: return {32, 128, false};
    case TensorType::IQ2_XS:
    case TensorType::IQ2_S: return {16, 128, false};
    // Integers times a sub-block scale (x86/iq1_ternary_unpack.h): IQ1 values
    // 8 * grid + delta stored as u = v + 9, ternary digits u = q (x = q - 1).
    case TensorType::IQ1_S: return {32, 9, false};
    case TensorType::IQ1_M: return {16, 9, false};
    case TensorType::TQ1_0:
    case TensorType::TQ2_0: return {32, 1, false};
    default: return {};
  }
}

// Bytes of one sub-block of an AVX-512 packed group: values, scales (float,
// or int32 with int_scale_block), mins.
constexpr size_t q8_sub_block_bytes(const Q8GemmLayout& l) {
  return static_cast<size_t>(l.sub_block) * kQ8GroupRows + 64 * (l.has_min ? 2 : 1);
}

// Bytes of one AVX-512 packed group of 16 rows of k values. With
// int_scale_block, each super-block's sub-blocks are followed by the 16 rows'
// float super-block scales.
constexpr size_t q8_group_bytes(const Q8GemmLayout& l, int64_t k) {
  const size_t super_scales = l.int_scale_block != 0 ? static_cast<size_t>(k / l.int_scale_block) * 64 : 0;
  return static_cast<size_t>(k / l.sub_block) * q8_sub_block_bytes(l) + super_scales;
}

// Per activation sub-block: its scale, -offset * sum(x) and dx * sum(x).
struct Q8Meta {
  float dx = 0;
  int32_t offset_term = 0;
  float scaled_sum = 0;
  float unused = 0;
};

// One call of the GEMM kernel: n_rows rows packed in consecutive groups
// (the last one may be partial) times n_vectors prepared activations;
// y[v * ldy + r] = the product of row r and vector v.
struct Q8GemmTask {
  TensorType type = TensorType::F32;  // the weights' type (a kernel may pick its inner loop by it)
  const std::byte* groups = nullptr;
  size_t group_bytes = 0;
  int64_t n_rows = 0;
  int64_t k = 0;
  Q8GemmLayout layout;
  const int8_t* x = nullptr;  // vector v's values start at x + v * x_stride
  size_t x_stride = 0;
  const Q8Meta* meta = nullptr;  // vector v's sub-blocks start at meta + v * meta_stride
  size_t meta_stride = 0;
  int64_t n_vectors = 0;
  float* y = nullptr;
  int64_t ldy = 0;
};

// Turns one activation vector of k values, already quantized to `dot_type`
// (Q8_0 or Q8_K) at `blocks`, into the kernel's layout. The layout's
// sub-blocks must divide the dot type's blocks.
void prepare_q8_activation(TensorType dot_type, const void* blocks, int64_t k, const Q8GemmLayout& layout, int8_t* x,
                           Q8Meta* meta);

namespace detail {
// Registered by kernels.cpp on AVX-512 CPUs that have VNNI.
void register_gemm_q8_avx512(KernelTable& table);
// Registered by kernels.cpp in the AVX2 table (and under the AVX-512 one,
// which replaces it where the CPU has VNNI).
void register_gemm_q8_avx2(KernelTable& table);
// Clears a table's int8 GEMM and every packer, so a registration never mixes
// another layout's packers with its kernel.
void clear_gemm_q8(KernelTable& table);
}  // namespace detail

}  // namespace sieve::tensor
