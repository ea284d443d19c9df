#pragma once
// Test-only dequantizers for the K-quant layouts, written independently of the
// engine's kernels: they walk each block the way the GGUF reference engine
// describes its layout (pointers advancing through the block, bit masks
// shifting), so a layout mistake shared by our quantizer and dequantizer
// cannot hide behind a round trip.

#include <cstdint>
#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/fp16.h"

namespace sieve::tensor::testref {

inline void q4k_scale_min(int j, const uint8_t* s, int& scale, int& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

inline void dequantize_q2_k(const BlockQ2K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  const uint8_t* q = b.qs;
  int is = 0;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const uint8_t sc = b.scales[is++];
        for (int l = 0; l < 16; ++l) {
          *y++ = d * (sc & 0xF) * ((q[l + 16 * half] >> shift) & 3) - dmin * (sc >> 4);
        }
      }
    }
    q += 32;
  }
}

inline void dequantize_q3_k(const BlockQ3K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  int scales[16];
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (b.scales[j] & 0xF) : (b.scales[j - 8] >> 4);
    const int high = (b.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = (low | (high << 4)) - 32;
  }
  const uint8_t* q = b.qs;
  uint8_t mask = 1;
  int is = 0;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d * scales[is++];
        for (int l = 16 * half; l < 16 * half + 16; ++l) {
          const int value = ((q[l] >> shift) & 3) - ((b.hmask[l] & mask) ? 0 : 4);
          *y++ = dl * value;
        }
      }
      mask <<= 1;
    }
    q += 32;
  }
}

inline void dequantize_q4_k(const BlockQ4K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  const uint8_t* q = b.qs;
  for (int j = 0; j < 8; j += 2) {
    int s1, m1, s2, m2;
    q4k_scale_min(j, b.scales, s1, m1);
    q4k_scale_min(j + 1, b.scales, s2, m2);
    for (int l = 0; l < 32; ++l) *y++ = d * s1 * (q[l] & 0xF) - dmin * m1;
    for (int l = 0; l < 32; ++l) *y++ = d * s2 * (q[l] >> 4) - dmin * m2;
    q += 32;
  }
}

inline void dequantize_q5_k(const BlockQ5K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 8; j += 2) {
    int s1, m1, s2, m2;
    q4k_scale_min(j, b.scales, s1, m1);
    q4k_scale_min(j + 1, b.scales, s2, m2);
    for (int l = 0; l < 32; ++l) *y++ = d * s1 * ((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - dmin * m1;
    for (int l = 0; l < 32; ++l) *y++ = d * s2 * ((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - dmin * m2;
    ql += 32;
    u1 <<= 2;
    u2 <<= 2;
  }
}

inline void dequantize_q6_k(const BlockQ6K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace sieve::tensor::testref
