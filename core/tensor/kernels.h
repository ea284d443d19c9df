#pragma once
// Per-type kernels, chosen once per process for the CPU it runs on.
//
// A weight row of type T is multiplied with an activation vector that has
// first been converted to T's `dot_type` (F32 for float weights, Q8_0 / Q8_1 /
// Q8_K for quantized weights — the same scheme as the reference engine, so
// results agree with it). Each family of kernels lives in its own files:
//   quants_legacy.cpp  F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 (scalar)
//   quants_k.cpp       Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K          (scalar)
//   quants_iq.cpp      IQ4_NL IQ4_XS MXFP4                     (scalar)
//   quants_iq3.cpp     IQ3_XXS IQ3_S                           (scalar)
//   quants_iq2.cpp     IQ2_XXS IQ2_XS IQ2_S                    (scalar)
//   quants_iq1.cpp     IQ1_S IQ1_M                             (scalar)
//   quants_ternary.cpp TQ1_0 TQ2_0                             (scalar)
//   x86/*_avx2.cpp, x86/*_avx512.cpp, arm/*_neon.cpp          (SIMD overrides)
// A SIMD family overrides only the entries it implements; the rest stay scalar.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tensor/tensor_type.h"

namespace sieve::tensor {

enum class Isa { Scalar, Avx2, Avx512, Neon };
std::string_view isa_name(Isa isa);

// Converts n values (n a multiple of the block size) between float and `type`.
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of n values: `w` is a row of the weight type, `x` the activation
// already in the weight type's dot_type.
using VecDotFn = float (*)(int64_t n, const void* w, const void* x);
// vec_dot of n_rows rows `row_stride` bytes apart with one activation:
// y[r] must be bit-identical to vec_dot(n, w + r * row_stride, x) (a kernel
// that shares the activation's work between rows). matvec does not prefetch
// for these kernels: they prefetch their own rows.
using VecDotRowsFn = void (*)(int64_t n, const void* w, size_t row_stride, int64_t n_rows, const void* x, float* y);
// y[i] += a * value i of the row `src` of the weight type, for n values
// (whole blocks): one weight column added with a scale, as sparse mode adds
// a neuron's down column (sparse/unit_kernel.h), without a float copy.
using AxpyRowFn = void (*)(int64_t n, float a, const void* src, float* y);
// Float GEMM tile for prefill (matmat): for r < n_rows, j < n_vectors,
// y[j * ldy + r] = sum over i < k of w[r * ldw + i] * x[j * ldx + i].
using GemmF32Fn = void (*)(int64_t n_rows, int64_t n_vectors, int64_t k, const float* w, int64_t ldw,
                           const float* x, int64_t ldx, float* y, int64_t ldy);

// Int8 GEMM for prefill with quantized weights (gemm_q8.h): `n_rows` (at most
// the table's q8_group_rows) rows `row_stride` bytes apart, of k values, are
// packed into one row group of interleaved integer values with per-sub-block
// float scales, in the layout of the table's gemm_q8.
using PackRowsQ8Fn = void (*)(const void* rows, size_t row_stride, int64_t n_rows, int64_t k, void* group);
struct Q8GemmTask;
using GemmQ8Fn = void (*)(const Q8GemmTask& task);
// Bytes of one packed group of rows of `type` with k values (the table's layout).
using Q8GroupBytesFn = size_t (*)(TensorType type, int64_t k);

// BF16 GEMM for prefill with BF16 weights (gemm_bf16.h): `n_rows` (<= 16)
// rows of k values are packed into one row group of BF16 pairs, a pair of
// every row per 64 bytes.
using PackRowsBf16Fn = void (*)(const void* rows, size_t row_stride, int64_t n_rows, int64_t k, void* group);
struct Bf16GemmTask;
using GemmBf16Fn = void (*)(const Bf16GemmTask& task);
// Rounds n floats to BF16 (nearest even) and pads them with a zero to an even count.
using RoundBf16Fn = void (*)(const float* src, uint16_t* dst, int64_t n);

// In place x[i] = exp(x[i] - shift) for i < n; returns their sum (a softmax's
// exponentials and normaliser, ops.cpp).
using ExpShiftedFn = float (*)(float* x, int64_t n, float shift);

struct TypeKernels {
  DequantizeRowFn dequantize = nullptr;
  QuantizeRowFn quantize = nullptr;
  VecDotFn vec_dot = nullptr;
  TensorType dot_type = TensorType::F32;
  PackRowsQ8Fn pack_q8 = nullptr;  // set only where the table also has gemm_q8
  VecDotRowsFn vec_dot_rows = nullptr;  // optional; matvec prefers it
  PackRowsBf16Fn pack_bf16 = nullptr;   // set only where the table also has gemm_bf16
  AxpyRowFn axpy = nullptr;             // F32, F16, BF16, Q8_0; callers fall back to dequantize
};

struct KernelTable {
  Isa isa = Isa::Scalar;
  std::array<TypeKernels, kTypeIdLimit> by_type{};
  GemmF32Fn gemm_f32 = nullptr;  // gemm_*.cpp; matmat falls back to vec_dot without it
  // Int8 GEMM over packed rows (x86/gemm_q8_avx512.cpp with VNNI, x86/gemm_q8_avx2.cpp),
  // with its packed layout: rows per group and bytes per group. The three and
  // every pack_q8 of the table are registered together.
  GemmQ8Fn gemm_q8 = nullptr;
  int64_t q8_group_rows = 0;
  Q8GroupBytesFn q8_group_bytes = nullptr;
  // Whether matvec hints each row ~8 KiB ahead into L2 (matmul.cpp). The hint
  // was tuned when it was added (one thread streaming 1 GiB: +5-25%); on the
  // AVX-512 EPYC (Zen 5) measured since, TinyLlama-shape decode of every type
  // with a plain row kernel ran 12-25% faster without it, on 1 and 2
  // threads, so the AVX-512 table turns it off (docs/kernels.md, "Against
  // the reference"); so does the AVX2 table, whose row kernels hint their own
  // rows (F16 / BF16 / F32 decode ~1.5x faster without matvec's hints on top,
  // docs/kernels.md, "AVX2 float kernels"). Kernels with vec_dot_rows
  // prefetch for themselves.
  bool matvec_prefetch = true;
  GemmBf16Fn gemm_bf16 = nullptr;  // BF16 GEMM over packed rows (x86/gemm_bf16_avx512.cpp, AVX512-BF16)
  RoundBf16Fn round_bf16 = nullptr;  // its activations, set with gemm_bf16
  ExpShiftedFn exp_shifted = nullptr;  // x86/exp_avx2.cpp; ops.cpp falls back to std::exp without it

  const TypeKernels& operator[](TensorType t) const { return by_type[static_cast<uint32_t>(t)]; }
  TypeKernels& operator[](TensorType t) { return by_type[static_cast<uint32_t>(t)]; }
};

// Whether this build has kernels for `isa` and the CPU can run them.
bool isa_available(Isa isa);
// The fastest available ISA (overridable with SIEVE_ISA=scalar|avx2|avx512|neon
// for comparisons; an unavailable choice falls back to the best one).
Isa best_isa();
// The kernel table for an available ISA; built once, immutable afterwards.
const KernelTable& kernels_for(Isa isa);
// Shorthand for kernels_for(best_isa()).
const KernelTable& kernels();

// Types `k` computes with but cannot produce (no quantizer: the grid types,
// whose quantization needs an importance matrix), in GGUF id order.
std::vector<TensorType> read_only_types(const KernelTable& k);

// Registration hooks, one per kernel family (see the file list above). Each
// fills or overrides the entries of `table` for the types it implements.
namespace detail {
void register_legacy_scalar(KernelTable& table);
void register_kquant_scalar(KernelTable& table);
void register_iquant_scalar(KernelTable& table);
void register_iq3_scalar(KernelTable& table);
void register_iq3_avx2(KernelTable& table);
void register_iq3_avx512(KernelTable& table);
void register_iquant_avx2(KernelTable& table);
void register_iquant_avx512(KernelTable& table);
// Only where CPUID reports AVX512-VNNI (IQ4_NL and MXFP4 dots).
void register_iquant_avx512_vnni(KernelTable& table);
void register_iq2_scalar(KernelTable& table);
void register_iq2_avx2(KernelTable& table);
void register_iq2_avx512(KernelTable& table);
void register_iq1_scalar(KernelTable& table);
void register_iq1_avx2(KernelTable& table);
void register_iq1_avx512(KernelTable& table);
void register_ternary_scalar(KernelTable& table);
void register_ternary_avx2(KernelTable& table);
void register_ternary_avx512(KernelTable& table);
void register_legacy_avx2(KernelTable& table);
void register_exp_avx2(KernelTable& table);
void register_kquant_avx2(KernelTable& table);
void register_legacy_avx512(KernelTable& table);
// Only where CPUID reports AVX512-VNNI; `gfni`: the CPU also has GFNI (the
// Q4_0 dot then unpacks high nibbles with one instruction instead of two).
void register_legacy_avx512_vnni(KernelTable& table, bool gfni);

// CPU features that choose kernel variants inside a table (tests register
// each variant the CPU can run). All false off x86.
struct CpuExtras {
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool gfni = false;
};
CpuExtras cpu_extras();
void register_kquant_avx512(KernelTable& table);
void register_legacy_neon(KernelTable& table);
void register_kquant_neon(KernelTable& table);
}  // namespace detail

}  // namespace sieve::tensor
