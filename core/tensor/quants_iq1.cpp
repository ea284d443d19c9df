// Scalar reference kernels for the 1-bit codebook types IQ1_S and IQ1_M
// (layouts in blocks_iq1.h): dequantize, and the dot product with the
// activation quantized to Q8_K as the reference engine does. SIMD overrides
// live in x86/iq1_avx2.cpp and x86/iq1_avx512.cpp and are tested against these.
//
// Every value is (dl / 8) * v with v = 8 * grid + delta an integer in [-9, 9],
// so a super-block's dot product is one exact integer sum
//   total = sum over scale groups of ls * (v . x),   |total| < 2^23,
// scaled once by d * dx / 8. That equals the reference's
// d * dx * (sum ls * (grid . x) + 1/8 * sum ls * delta * sum x) exactly.
// There is no quantizer: producing these types well needs an importance
// matrix, and Sieve only reads them.

#include <cstring>

#include "tensor/blocks_iq1.h"
#include "tensor/blocks_k.h"
#include "tensor/fp16.h"
#include "tensor/iq1_grid.h"
#include "tensor/kernels.h"

namespace sieve::tensor {
namespace {

constexpr int kGroup = kIq1GroupElems;

// The eight integers 8 * grid + delta of one group.
void decode_group(int index, int delta, int8_t out[kGroup]) {
  int8_t grid[kGroup];
  std::memcpy(grid, &kIq1sGrid[index], kGroup);
  for (int j = 0; j < kGroup; ++j) out[j] = static_cast<int8_t>(8 * grid[j] + delta);
}

int32_t dot_group(const int8_t* v, const int8_t* x) {
  int32_t sum = 0;
  for (int j = 0; j < kGroup; ++j) sum += v[j] * x[j];
  return sum;
}

// ---- IQ1_S: scale and delta per 32 values -------------------------------------

void dequantize_iq1_s(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ1S*>(src);
  int8_t v[kGroup];
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int s = 0; s < 8; ++s) {
      const float dl = d * static_cast<float>(iq1s_scale(b[i], s)) * 0.125f;
      for (int l = 0; l < 4; ++l, dst += kGroup) {
        decode_group(iq1s_index(b[i], s, l), iq1s_delta(b[i], s), v);
        for (int j = 0; j < kGroup; ++j) dst[j] = dl * static_cast<float>(v[j]);
      }
    }
  }
}

float dot_iq1_s(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ1S*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  int8_t v[kGroup];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    int32_t total = 0;
    for (int s = 0; s < 8; ++s) {
      int32_t sub = 0;
      for (int l = 0; l < 4; ++l) {
        decode_group(iq1s_index(wb[i], s, l), iq1s_delta(wb[i], s), v);
        sub += dot_group(v, xb[i].qs + 32 * s + kGroup * l);
      }
      total += iq1s_scale(wb[i], s) * sub;
    }
    sum += fp16_to_fp32(wb[i].d) * xb[i].d * 0.125f * static_cast<float>(total);
  }
  return sum;
}

// ---- IQ1_M: scale per 16 values, delta per 8 ----------------------------------

void dequantize_iq1_m(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ1M*>(src);
  int8_t v[kGroup];
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    const float d = fp16_to_fp32(iq1m_d_bits(b[i]));
    for (int g = 0; g < 32; ++g, dst += kGroup) {
      const float dl = d * static_cast<float>(iq1m_scale(b[i], g / 2)) * 0.125f;
      decode_group(iq1m_index(b[i], g), iq1m_delta(b[i], g), v);
      for (int j = 0; j < kGroup; ++j) dst[j] = dl * static_cast<float>(v[j]);
    }
  }
}

float dot_iq1_m(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ1M*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  int8_t v[kGroup];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq1BlockElems; ++i) {
    int32_t total = 0;
    for (int h = 0; h < 16; ++h) {
      int32_t half = 0;
      for (int g = 2 * h; g < 2 * h + 2; ++g) {
        decode_group(iq1m_index(wb[i], g), iq1m_delta(wb[i], g), v);
        half += dot_group(v, xb[i].qs + kGroup * g);
      }
      total += iq1m_scale(wb[i], h) * half;
    }
    sum += fp16_to_fp32(iq1m_d_bits(wb[i])) * xb[i].d * 0.125f * static_cast<float>(total);
  }
  return sum;
}

}  // namespace

namespace detail {
void register_iq1_scalar(KernelTable& table) {
  using T = TensorType;
  table[T::IQ1_S] = {dequantize_iq1_s, nullptr, dot_iq1_s, T::Q8_K};
  table[T::IQ1_M] = {dequantize_iq1_m, nullptr, dot_iq1_m, T::Q8_K};
}
}  // namespace detail

}  // namespace sieve::tensor
