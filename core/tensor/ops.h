#pragma once
// Element-wise and small vector operations of the forward pass, on float
// buffers the caller owns. None of them allocates; all are plain loops the
// compiler vectorises (the heavy lifting is in matmul.h).

#include <cstdint>

namespace sieve::tensor {

// out = x / sqrt(mean(x^2) + eps) * weight, n values. out may alias x.
void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps);

// In place: x = exp(x - max) / sum, n values (n >= 1).
void softmax(float* x, int64_t n);

// In place: each value rounded to half precision (round to nearest even) and
// back to float, with the best table's F16 kernels.
void round_to_half(float* x, int64_t n);

// y += x, n values.
void add(float* y, const float* x, int64_t n);
// y *= x, n values.
void mul(float* y, const float* x, int64_t n);
// y += a * x, n values.
void axpy(float* y, float a, const float* x, int64_t n);
// Sum of x[i] * y[i] in float, n values.
float dot(const float* x, const float* y, int64_t n);

// The gate activations of a gated feed-forward block, applied as
// gate[i] = act(gate[i]) * up[i].
void silu_mul(float* gate, const float* up, int64_t n);               // SwiGLU
void gelu_mul(float* gate, const float* up, int64_t n);               // GeGLU (gelu_half below)
void swiglu_oai_mul(float* gate, const float* up, int64_t n);         // gpt-oss (model/arch_recipe.h)
void relu_mul(float* gate, const float* up, int64_t n);               // max(g, 0)
void fatrelu_mul(float* gate, const float* up, int64_t n, float t);   // g > t ? g : 0
void shifted_relu_mul(float* gate, const float* up, int64_t n, float shift);  // max(g - shift, 0)
// GELU with the tanh approximation, as the reference computes it: the input
// rounded to half precision, the result rounded to half precision (it looks
// both up in a table of every half value); 0 below -10, x above 10.
float gelu_half(float x);
// In place: x = max(x - shift, 0).
void shifted_relu(float* x, int64_t n, float shift);

// Rotary position embedding. A head's first `n_rot` values form n_rot / 2
// pairs; pair i is rotated by the angle pos * inv_freq[i] (inv_freq already
// divided by any linear scaling). rope_angles computes the cos / sin of every
// pair once per position so all heads of a token share them.
// Normal (GPT-J / llama) style pairs adjacent values (2i, 2i+1);
// NeoX style (qwen2) pairs value i with value i + n_rot / 2.
enum class RopeStyle { Normal, Neox };
void rope_angles(int64_t pos, const double* inv_freq, int64_t n_pairs, float* cos_out, float* sin_out);
void rope(float* head, int64_t n_rot, const float* cos, const float* sin, RopeStyle style);

}  // namespace sieve::tensor
