#include "tensor/ops.h"

#include <algorithm>
#include <cmath>

#include "tensor/fp16.h"
#include "tensor/kernels.h"

namespace sieve::tensor {

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  // Accumulate in double: with dims in the thousands the float sum loses the
  // last digits the reference keeps.
  double sum_squares = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_squares += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_squares / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void softmax(float* x, int64_t n) {
  const float max_value = *std::max_element(x, x + n);
  double sum = 0.0;
  if (const ExpShiftedFn exp_shifted = kernels().exp_shifted) {
    sum = exp_shifted(x, n, max_value);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      x[i] = std::exp(x[i] - max_value);
      sum += x[i];
    }
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv_sum;
}

void round_to_half(float* x, int64_t n) {
  const KernelTable& k = kernels();
  const QuantizeRowFn to_half = k[TensorType::F16].quantize;
  const DequantizeRowFn from_half = k[TensorType::F16].dequantize;
  constexpr int64_t kChunk = 256;
  uint16_t halves[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    to_half(x + i, halves, m);
    from_half(halves, x + i, m);
  }
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void mul(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= x[i];
}

void axpy(float* y, float a, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float dot(const float* x, const float* y, int64_t n) {
  // Four partial sums let the compiler vectorise without -ffast-math.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; ++i) s0 += x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void swiglu_oai_mul(float* gate, const float* up, int64_t n) {
  constexpr float kAlpha = 1.702f, kLimit = 7.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], kLimit);
    const float u = std::clamp(up[i], -kLimit, kLimit);
    gate[i] = g / (1.0f + std::exp(-kAlpha * g)) * (u + 1.0f);
  }
}

float gelu_half(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCubic = 0.044715f;
  const float h = fp16_to_fp32(fp32_to_fp16(x));
  const float g = 0.5f * h * (1.0f + std::tanh(kSqrt2OverPi * h * (1.0f + kCubic * h * h)));
  return fp16_to_fp32(fp32_to_fp16(g));
}

void gelu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gelu_half(gate[i]) * up[i];
}

void relu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] > 0.0f ? gate[i] * up[i] : 0.0f;
}

void fatrelu_mul(float* gate, const float* up, int64_t n, float t) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] > t ? gate[i] * up[i] : 0.0f;
}

void shifted_relu_mul(float* gate, const float* up, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i] - shift;
    gate[i] = g > 0.0f ? g * up[i] : 0.0f;
  }
}

void shifted_relu(float* x, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] - shift;
    x[i] = v > 0.0f ? v : 0.0f;
  }
}

void rope_angles(int64_t pos, const double* inv_freq, int64_t n_pairs, float* cos_out, float* sin_out) {
  for (int64_t i = 0; i < n_pairs; ++i) {
    const double angle = static_cast<double>(pos) * inv_freq[i];
    cos_out[i] = static_cast<float>(std::cos(angle));
    sin_out[i] = static_cast<float>(std::sin(angle));
  }
}

void rope(float* head, int64_t n_rot, const float* cos, const float* sin, RopeStyle style) {
  const int64_t n_pairs = n_rot / 2;
  // The two values of pair i sit `stride` apart, starting at `first(i)`.
  const bool neox = style == RopeStyle::Neox;
  const int64_t stride = neox ? n_pairs : 1;
  for (int64_t i = 0; i < n_pairs; ++i) {
    float* a = head + (neox ? i : 2 * i);
    float* b = a + stride;
    const float x0 = *a, x1 = *b;
    *a = x0 * cos[i] - x1 * sin[i];
    *b = x0 * sin[i] + x1 * cos[i];
  }
}

}  // namespace sieve::tensor
