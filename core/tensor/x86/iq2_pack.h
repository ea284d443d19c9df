#pragma once
// One IQ2 block widened for the int8 prefill GEMM (gemm_q8.h): its 256
// values, in order, as unsigned bytes u = value + 128 (value = ±grid, |value|
// <= 43), and its sub-block scales d * (ls + 1/2) / 4 at scale[j * stride]
// (8 of them for IQ2_XXS, one per 32 values; 16 for IQ2_XS and IQ2_S, one per
// 16). Defined in iq2_avx512.cpp (AVX-512 F/BW); gemm_q8_avx512.cpp packs with
// them, registered only on CPUs that run it.

#include <cstddef>
#include <cstdint>

#include "tensor/blocks_iq2.h"

namespace sieve::tensor::detail {

void unpack_iq2_xxs_q8(const BlockIQ2XXS& b, uint8_t* u, float* scale, size_t stride);
void unpack_iq2_xs_q8(const BlockIQ2XS& b, uint8_t* u, float* scale, size_t stride);
void unpack_iq2_s_q8(const BlockIQ2S& b, uint8_t* u, float* scale, size_t stride);

}  // namespace sieve::tensor::detail
