#pragma once
// Widening of IQ3_XXS / IQ3_S blocks for the int8 prefill GEMM (gemm_q8.h),
// defined in iq3_avx512.cpp (AVX-512 F/BW): call only where kernels.cpp has
// registered the AVX-512 table (gemm_q8_avx512.cpp, on VNNI CPUs).
//
// Each writes the block's 256 values as unsigned bytes u = 128 + value (value
// order, |value| <= 62) and the float scale of sub-block s to scale[s * stride].

#include <cstddef>
#include <cstdint>

#include "tensor/blocks_iq3.h"

namespace sieve::tensor::detail {

void unpack_iq3_xxs_u8(const BlockIQ3XXS& b, uint8_t* u, float* scale, size_t stride);
void unpack_iq3_s_u8(const BlockIQ3S& b, uint8_t* u, float* scale, size_t stride);

}  // namespace sieve::tensor::detail
