#pragma once
// Registration of the float GEMM tile kernels (KernelTable::gemm_f32) that
// matmat uses for batches: gemm_scalar.cpp, x86/gemm_avx2.cpp,
// x86/gemm_avx512.cpp. Private to core/tensor; kernels.cpp calls these after
// the per-type hooks.

#include "tensor/kernels.h"

namespace sieve::tensor::detail {
void register_gemm_scalar(KernelTable& table);
void register_gemm_avx2(KernelTable& table);
void register_gemm_avx512(KernelTable& table);
}  // namespace sieve::tensor::detail
