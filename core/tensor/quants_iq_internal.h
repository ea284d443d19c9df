#pragma once
// Private to the scalar codebook-type files (quants_iq.cpp, quants_iq_quantize.cpp).

#include <cstdint>

namespace sieve::tensor::iquant {

// float -> weight type, one row of n values (n a multiple of the block size).
void quantize_iq4_nl(const float* src, void* dst, int64_t n);
void quantize_iq4_xs(const float* src, void* dst, int64_t n);
void quantize_mxfp4(const float* src, void* dst, int64_t n);

}  // namespace sieve::tensor::iquant
