#pragma once
// Private to the scalar K-quant files (quants_k.cpp, quants_k_quantize.cpp).

#include <cstdint>
#include <cstring>

namespace sieve::tensor::kquant {

// float -> weight type, one row of n values (n a multiple of 256).
void quantize_q2_k(const float* src, void* dst, int64_t n);
void quantize_q3_k(const float* src, void* dst, int64_t n);
void quantize_q4_k(const float* src, void* dst, int64_t n);
void quantize_q5_k(const float* src, void* dst, int64_t n);
void quantize_q6_k(const float* src, void* dst, int64_t n);

// Round to nearest, ties to even (as the SIMD conversions do), for |v| below
// 2^22. Larger or non-finite input gives a meaningless but defined result,
// which callers clamp; a plain float->int cast would be undefined behaviour.
static inline int nearest_int(float v) {
  const float shifted = v + 12582912.f;  // 1.5 * 2^23: the integer lands in the mantissa
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

static inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace sieve::tensor::kquant
