// Scalar reference kernels for the 3-bit grid types IQ3_XXS and IQ3_S
// (layouts in blocks_iq3.h): dequantize, and the dot product with the
// activation quantized to Q8_K as the reference engine does it. SIMD
// overrides live in x86/iq3_avx2.cpp and x86/iq3_avx512.cpp and are tested
// against these. There is no quantizer: these types are read, not produced.
//
// A sub-block's values are signed grid magnitudes (|v| <= 62) times an integer
// scale 2 ls + 1, so a super-block's dot is one exact int32 sum
// (|sum| <= 256 * 62 * 127 * 31 < 2^26), scaled once by d * dx (and 1/4 for
// IQ3_XXS, whose factor is (2 ls + 1) / 4).

#include "tensor/blocks_iq3.h"
#include "tensor/blocks_k.h"
#include "tensor/fp16.h"
#include "tensor/iq3_grids.h"
#include "tensor/kernels.h"

namespace sieve::tensor {
namespace {

constexpr int kSub = kIq3SubBlockElems;
constexpr int kSubBlocks = kIq3BlockElems / kIq3SubBlockElems;

// The 32 signed values of 8 grid entries with one sign bit per value.
void signed_levels(const uint32_t grid[8], uint32_t signs, int8_t out[kSub]) {
  for (int j = 0; j < 8; ++j) {
    for (int i = 0; i < 4; ++i) {
      const int v = 4 * j + i;
      const auto magnitude = static_cast<int8_t>((grid[j] >> (8 * i)) & 0xff);
      out[v] = ((signs >> v) & 1) != 0 ? static_cast<int8_t>(-magnitude) : magnitude;
    }
  }
}

void iq3xxs_levels(const BlockIQ3XXS& b, int s, int8_t out[kSub]) {
  uint32_t grid[8];
  for (int j = 0; j < 8; ++j) grid[j] = kIq3xxsGrid[b.qs[8 * s + j]];
  signed_levels(grid, iq3xxs_sign_bits(iq3xxs_aux(b, s)), out);
}

void iq3s_levels(const BlockIQ3S& b, int s, int8_t out[kSub]) {
  uint32_t grid[8];
  for (int j = 0; j < 8; ++j) grid[j] = kIq3sGrid[iq3s_index(b, s, j)];
  const uint32_t signs = static_cast<uint32_t>(b.signs[4 * s]) | static_cast<uint32_t>(b.signs[4 * s + 1]) << 8 |
                         static_cast<uint32_t>(b.signs[4 * s + 2]) << 16 |
                         static_cast<uint32_t>(b.signs[4 * s + 3]) << 24;
  signed_levels(grid, signs, out);
}

int32_t dot_i8(const int8_t* a, const int8_t* b) {
  int32_t sum = 0;
  for (int j = 0; j < kSub; ++j) sum += a[j] * b[j];
  return sum;
}

// Per-type pieces for the shared loops below: the block, its levels, its
// integer sub-block scale and the float factor every scale shares.
struct Iq3xxs {
  using Block = BlockIQ3XXS;
  static void levels(const Block& b, int s, int8_t* out) { iq3xxs_levels(b, s, out); }
  static int scale(const Block& b, int s) { return iq3xxs_scale(iq3xxs_aux(b, s)); }
  static float factor(const Block& b) { return 0.25f * fp16_to_fp32(b.d); }
};

struct Iq3s {
  using Block = BlockIQ3S;
  static void levels(const Block& b, int s, int8_t* out) { iq3s_levels(b, s, out); }
  static int scale(const Block& b, int s) { return iq3s_scale(b, s); }
  static float factor(const Block& b) { return fp16_to_fp32(b.d); }
};

template <class T>
void dequantize_blocks(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const typename T::Block*>(src);
  int8_t q[kSub];
  for (int64_t i = 0; i < n / kIq3BlockElems; ++i) {
    const float d = T::factor(b[i]);
    for (int s = 0; s < kSubBlocks; ++s, dst += kSub) {
      T::levels(b[i], s, q);
      const float scale = d * static_cast<float>(T::scale(b[i], s));  // exact: 11 x 5 bits
      for (int j = 0; j < kSub; ++j) dst[j] = scale * static_cast<float>(q[j]);
    }
  }
}

template <class T>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const typename T::Block*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  int8_t q[kSub];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kIq3BlockElems; ++i) {
    int32_t total = 0;
    for (int s = 0; s < kSubBlocks; ++s) {
      T::levels(wb[i], s, q);
      total += T::scale(wb[i], s) * dot_i8(q, xb[i].qs + kSub * s);
    }
    sum += T::factor(wb[i]) * xb[i].d * static_cast<float>(total);
  }
  return sum;
}

}  // namespace

namespace detail {
void register_iq3_scalar(KernelTable& table) {
  using T = TensorType;
  table[T::IQ3_XXS] = {dequantize_blocks<Iq3xxs>, nullptr, dot_blocks<Iq3xxs>, T::Q8_K};
  table[T::IQ3_S] = {dequantize_blocks<Iq3s>, nullptr, dot_blocks<Iq3s>, T::Q8_K};
}
}  // namespace detail

}  // namespace sieve::tensor
