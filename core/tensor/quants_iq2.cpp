// Scalar reference kernels for the 2-bit grid types IQ2_XXS, IQ2_XS and IQ2_S
// (layouts in blocks_iq2.h): dequantize, and the dot product with a Q8_K
// activation. SIMD overrides live in x86/iq2_*.cpp and are tested against
// these. There is no quantizer: producing these types well needs an
// importance matrix, so Sieve reads them but does not write them.
//
// The dot sums exact integer products per super-block, each 16-value
// sub-block's times its odd factor 2 ls + 1, and scales once by d * dx / 8,
// the order the reference engine uses, so results agree with it.

#include <cstring>

#include "tensor/blocks_iq2.h"
#include "tensor/blocks_k.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"

namespace sieve::tensor {
namespace {

// The eight signed values of group g: ±grid magnitudes.
template <class Block>
void group_values(const Block& b, int g, int8_t out[8]) {
  const uint64_t grid = iq2_grid(b, g);
  const uint8_t signs = iq2_signs(b, g);
  for (int j = 0; j < 8; ++j) {
    const auto m = static_cast<int8_t>(grid >> (8 * j));
    out[j] = (signs >> j) & 1 ? static_cast<int8_t>(-m) : m;
  }
}

template <class Block>
void dequantize_iq2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const Block*>(src);
  int8_t q[8];
  for (int64_t i = 0; i < n / kIq2BlockElems; ++i) {
    const float d = fp16_to_fp32(blocks[i].d);
    for (int g = 0; g < kIq2Groups; ++g, dst += 8) {
      // As the reference computes it: d * (ls + 1/2) / 4, then times the value.
      const float db = d * (0.5f + static_cast<float>(iq2_scale(blocks[i], g / 2))) * 0.25f;
      group_values(blocks[i], g, q);
      for (int j = 0; j < 8; ++j) dst[j] = db * static_cast<float>(q[j]);
    }
  }
}

template <class Block>
float dot_iq2(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  int8_t q[8];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq2BlockElems; ++i) {
    const int8_t* xq = xb[i].qs;
    int32_t total = 0;  // |total| <= 256 * 43 * 127 * 31 < 2^26
    for (int t = 0; t < kIq2BlockElems / 16; ++t) {
      int32_t sub = 0;
      for (int g = 2 * t; g < 2 * t + 2; ++g, xq += 8) {
        group_values(wb[i], g, q);
        for (int j = 0; j < 8; ++j) sub += q[j] * xq[j];
      }
      total += (2 * iq2_scale(wb[i], t) + 1) * sub;
    }
    sum += fp16_to_fp32(wb[i].d) * xb[i].d * static_cast<float>(total);
  }
  return 0.125f * sum;
}

}  // namespace

namespace detail {
void register_iq2_scalar(KernelTable& table) {
  using T = TensorType;
  table[T::IQ2_XXS] = {dequantize_iq2<BlockIQ2XXS>, nullptr, dot_iq2<BlockIQ2XXS>, T::Q8_K};
  table[T::IQ2_XS] = {dequantize_iq2<BlockIQ2XS>, nullptr, dot_iq2<BlockIQ2XS>, T::Q8_K};
  table[T::IQ2_S] = {dequantize_iq2<BlockIQ2S>, nullptr, dot_iq2<BlockIQ2S>, T::Q8_K};
}
}  // namespace detail

}  // namespace sieve::tensor
