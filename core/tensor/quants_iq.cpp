// Scalar reference kernels for the 4-bit codebook types IQ4_NL, IQ4_XS and
// MXFP4 (layouts in blocks_iq.h): dequantize, and the dot product with the
// activation quantized the way the reference engine does it (Q8_0 for the
// 32-value types, Q8_K for IQ4_XS). SIMD overrides live in x86/iquant_*.cpp
// and are tested against these; the quantizers in quants_iq_quantize.cpp.
//
// Each dot product sums exact integer products per block (per super-block for
// IQ4_XS, whose 6-bit sub-block scales are integers too) and scales once.

#include <cstring>

#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/quants_iq_internal.h"

namespace sieve::tensor {
namespace {

constexpr int kBlock = kIqBlockElems;

// The 32 table values of one block's indices, in value order.
void decode_indices(const uint8_t* qs, const int8_t table[16], int8_t out[kBlock]) {
  for (int j = 0; j < kBlock / 2; ++j) {
    out[j] = table[qs[j] & 0x0f];
    out[j + kBlock / 2] = table[qs[j] >> 4];
  }
}

int32_t dot_i8(const int8_t* a, const int8_t* b) {
  int32_t sum = 0;
  for (int j = 0; j < kBlock; ++j) sum += a[j] * b[j];
  return sum;
}

void scale_into(const int8_t* q, float d, float* dst) {
  for (int j = 0; j < kBlock; ++j) dst[j] = d * static_cast<float>(q[j]);
}

// ---- IQ4_NL and MXFP4: 32 values, one scale, dot with Q8_0 -------------------

float iq4_nl_scale(const BlockIQ4NL& b) { return fp16_to_fp32(b.d); }
float mxfp4_scale(const BlockMXFP4& b) { return e8m0_half_to_float(b.e); }

template <class Block, const int8_t* kTable, float (*kScale)(const Block&)>
void dequantize_blocks(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const Block*>(src);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    decode_indices(b[i].qs, kTable, q);
    scale_into(q, kScale(b[i]), dst);
  }
}

template <class Block, const int8_t* kTable, float (*kScale)(const Block&)>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  int8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    decode_indices(wb[i].qs, kTable, q);
    const float d = kScale(wb[i]) * fp16_to_fp32(xb[i].d);
    sum += d * static_cast<float>(dot_i8(q, xb[i].qs));
  }
  return sum;
}

// ---- IQ4_XS: 256 values, eight scaled sub-blocks, dot with Q8_K ---------------

void dequantize_iq4_xs(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ4XS*>(src);
  int8_t q[kBlock];
  for (int64_t i = 0; i < n / kIq4xsBlockElems; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int s = 0; s < kIq4xsBlockElems / kBlock; ++s, dst += kBlock) {
      decode_indices(b[i].qs + 16 * s, kIq4nlValues, q);
      scale_into(q, d * static_cast<float>(iq4xs_scale(b[i], s) - 32), dst);
    }
  }
}

float dot_iq4_xs(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ4XS*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  int8_t q[kBlock];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq4xsBlockElems; ++i) {
    int32_t total = 0;  // |total| <= 8 sub-blocks * 32 * 32 * 127 * 127 < 2^28
    for (int s = 0; s < kIq4xsBlockElems / kBlock; ++s) {
      decode_indices(wb[i].qs + 16 * s, kIq4nlValues, q);
      total += (iq4xs_scale(wb[i], s) - 32) * dot_i8(q, xb[i].qs + kBlock * s);
    }
    sum += fp16_to_fp32(wb[i].d) * xb[i].d * static_cast<float>(total);
  }
  return sum;
}

}  // namespace

namespace detail {
void register_iquant_scalar(KernelTable& table) {
  using T = TensorType;
  table[T::IQ4_NL] = {dequantize_blocks<BlockIQ4NL, kIq4nlValues, iq4_nl_scale>, iquant::quantize_iq4_nl,
                      dot_blocks<BlockIQ4NL, kIq4nlValues, iq4_nl_scale>, T::Q8_0};
  table[T::IQ4_XS] = {dequantize_iq4_xs, iquant::quantize_iq4_xs, dot_iq4_xs, T::Q8_K};
  table[T::MXFP4] = {dequantize_blocks<BlockMXFP4, kMxfp4Values, mxfp4_scale>, iquant::quantize_mxfp4,
                     dot_blocks<BlockMXFP4, kMxfp4Values, mxfp4_scale>, T::Q8_0};
}
}  // namespace detail

}  // namespace sieve::tensor
