// Scalar reference kernels for the K-quants: dequantize and dot product with
// Q8_K activations for Q2_K..Q6_K, and Q8_K itself. The weight quantizers
// live in quants_k_quantize.cpp; SIMD overrides in x86/ and arm/.
//
// Each weight type is first unpacked into its plain integer quants in value
// order (the layout knowledge, see blocks_k.h); dequantize and dot then share
// one generic formula per family:
//   with mins (Q2_K Q4_K Q5_K):  w = d*scale[g]*q - dmin*min[g],  q >= 0
//   symmetric (Q3_K Q6_K):       w = d*scale[g]*q,                q signed
// The dot product is exact integer arithmetic per block; the mins use the
// activation's per-16 sums (bsums) instead of touching every value twice.

#include <cmath>
#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/quants_k_internal.h"

namespace sieve::tensor {
namespace {

// One weight block unpacked: quants in value order, per-group scale and min.
template <int kGroup>
struct Unpacked {
  static constexpr int kGroups = kQK / kGroup;
  int8_t q[kQK];
  int scale[kGroups];
  int min[kGroups];  // zero for the symmetric types
  float d;
  float dmin;
};

Unpacked<16> unpack(const BlockQ2K& b) {
  Unpacked<16> u{};
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) u.q[128 * h + 32 * k + l] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * k)) & 3);
  for (int g = 0; g < 16; ++g) {
    u.scale[g] = b.scales[g] & 0xF;
    u.min[g] = b.scales[g] >> 4;
  }
  u.d = fp16_to_fp32(b.d);
  u.dmin = fp16_to_fp32(b.dmin);
  return u;
}

Unpacked<16> unpack(const BlockQ3K& b) {
  Unpacked<16> u{};
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k) {
      const int group32 = 4 * h + k;
      for (int l = 0; l < 32; ++l) {
        const int low = (b.qs[32 * h + l] >> (2 * k)) & 3;
        const int high = (b.hmask[l] >> group32) & 1;
        u.q[32 * group32 + l] = static_cast<int8_t>((low | (high << 2)) - 4);
      }
    }
  int8_t scales[16];
  unpack_q3k_scales(b.scales, scales);
  for (int g = 0; g < 16; ++g) u.scale[g] = scales[g];
  u.d = fp16_to_fp32(b.d);
  u.dmin = 0.f;
  return u;
}

template <typename Block>
void unpack_k4_scales_into(const Block& b, Unpacked<32>& u) {
  const K4Scales s = unpack_k4_scales(b.scales);
  for (int g = 0; g < 8; ++g) {
    u.scale[g] = static_cast<int>((s.scales >> (8 * g)) & 0xff);
    u.min[g] = static_cast<int>((s.mins >> (8 * g)) & 0xff);
  }
  u.d = fp16_to_fp32(b.d);
  u.dmin = fp16_to_fp32(b.dmin);
}

Unpacked<32> unpack(const BlockQ4K& b) {
  Unpacked<32> u{};
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) {
      u.q[64 * j + l] = static_cast<int8_t>(b.qs[32 * j + l] & 0xF);
      u.q[64 * j + 32 + l] = static_cast<int8_t>(b.qs[32 * j + l] >> 4);
    }
  unpack_k4_scales_into(b, u);
  return u;
}

Unpacked<32> unpack(const BlockQ5K& b) {
  Unpacked<32> u{};
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) {
      const int high_lo = (b.qh[l] >> (2 * j)) & 1, high_hi = (b.qh[l] >> (2 * j + 1)) & 1;
      u.q[64 * j + l] = static_cast<int8_t>((b.qs[32 * j + l] & 0xF) | (high_lo << 4));
      u.q[64 * j + 32 + l] = static_cast<int8_t>((b.qs[32 * j + l] >> 4) | (high_hi << 4));
    }
  unpack_k4_scales_into(b, u);
  return u;
}

Unpacked<16> unpack(const BlockQ6K& b) {
  Unpacked<16> u{};
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int low = (b.ql[64 * h + 32 * (k & 1) + l] >> (4 * (k >> 1))) & 0xF;
        const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
        u.q[128 * h + 32 * k + l] = static_cast<int8_t>((low | (high << 4)) - 32);
      }
  for (int g = 0; g < 16; ++g) u.scale[g] = b.scales[g];
  u.d = fp16_to_fp32(b.d);
  u.dmin = 0.f;
  return u;
}

template <typename Block>
void dequantize_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto u = unpack(blocks[i]);
    constexpr int kGroup = kQK / decltype(u)::kGroups;
    float* y = dst + i * kQK;
    for (int g = 0; g < decltype(u)::kGroups; ++g) {
      const float scale = u.d * static_cast<float>(u.scale[g]);
      const float min = u.dmin * static_cast<float>(u.min[g]);
      for (int l = 0; l < kGroup; ++l) y[kGroup * g + l] = scale * u.q[kGroup * g + l] - min;
    }
  }
}

template <typename Block>
float vec_dot_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  float sum = 0.f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto u = unpack(w[i]);
    constexpr int kGroup = kQK / decltype(u)::kGroups;
    int32_t sum_scaled = 0;  // sum over groups of scale * (q . y)
    int32_t sum_mins = 0;    // sum over groups of min * (sum of y)
    for (int g = 0; g < decltype(u)::kGroups; ++g) {
      int32_t qy = 0;
      for (int l = 0; l < kGroup; ++l) qy += u.q[kGroup * g + l] * x[i].qs[kGroup * g + l];
      sum_scaled += u.scale[g] * qy;
      int32_t y_sum = 0;
      for (int s = 0; s < kGroup / 16; ++s) y_sum += x[i].bsums[(kGroup / 16) * g + s];
      sum_mins += u.min[g] * y_sum;
    }
    sum += x[i].d * (u.d * static_cast<float>(sum_scaled) - u.dmin * static_cast<float>(sum_mins));
  }
  return sum;
}

// Q8_K: one scale per block mapping the largest magnitude to 127 (the
// reference engine maps it to -127 with a negative scale: same values).
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    BlockQ8K& out = blocks[i];
    float amax = 0.f;
    for (int v = 0; v < kQK; ++v) amax = std::fmax(amax, std::fabs(x[v]));
    if (!(amax >= kQ8KZeroBelow)) {
      std::memset(&out, 0, sizeof(out));
      continue;
    }
    const float iscale = 127.f / amax;
    for (int v = 0; v < kQK; ++v) {
      out.qs[v] = static_cast<int8_t>(kquant::clamp_int(kquant::nearest_int(iscale * x[v]), -127, 127));
    }
    for (int g = 0; g < kQK / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += out.qs[16 * g + l];
      out.bsums[g] = static_cast<int16_t>(sum);
    }
    out.d = 1.f / iscale;
  }
}

void dequantize_q8_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8K*>(src);
  for (int64_t i = 0; i < n / kQK; ++i) {
    for (int v = 0; v < kQK; ++v) dst[i * kQK + v] = blocks[i].d * blocks[i].qs[v];
  }
}

// Q8_K is an activation format, but a file could hold it as weights too.
float vec_dot_q8_k(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ8K*>(vw);
  const auto* x = static_cast<const BlockQ8K*>(vx);
  float sum = 0.f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t qq = 0;
    for (int v = 0; v < kQK; ++v) qq += w[i].qs[v] * x[i].qs[v];
    sum += w[i].d * x[i].d * static_cast<float>(qq);
  }
  return sum;
}

template <typename Block>
TypeKernels weight_kernels(QuantizeRowFn quantize) {
  return {&dequantize_k<Block>, quantize, &vec_dot_k<Block>, TensorType::Q8_K};
}

}  // namespace

namespace detail {
void register_kquant_scalar(KernelTable& table) {
  table[TensorType::Q2_K] = weight_kernels<BlockQ2K>(&kquant::quantize_q2_k);
  table[TensorType::Q3_K] = weight_kernels<BlockQ3K>(&kquant::quantize_q3_k);
  table[TensorType::Q4_K] = weight_kernels<BlockQ4K>(&kquant::quantize_q4_k);
  table[TensorType::Q5_K] = weight_kernels<BlockQ5K>(&kquant::quantize_q5_k);
  table[TensorType::Q6_K] = weight_kernels<BlockQ6K>(&kquant::quantize_q6_k);
  table[TensorType::Q8_K] = {&dequantize_q8_k, &quantize_q8_k, &vec_dot_q8_k, TensorType::Q8_K};
}
}  // namespace detail

}  // namespace sieve::tensor
