// Our own float -> K-quant quantizers. They write the standard layouts (see
// blocks_k.h) but need not match the reference engine bit for bit.
//
// Per super-block of 256 values:
//  1. every group (16 or 32 values) gets the scale (and min) that minimises its
//     squared error, found by trying a few step sizes around range/levels and
//     refitting scale and min by least squares on the resulting quants;
//  2. the group scales are quantized to small integer codes against one fp16
//     factor per super-block (d, and dmin for the mins);
//  3. each group tries its neighbouring codes too (the rounding of step 2 may
//     not be the best choice once the quants are redone) and keeps the codes
//     with the least error, then its values are quantized with them.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/fp16.h"
#include "tensor/quants_k_internal.h"

namespace sieve::tensor::kquant {
namespace {

constexpr float kFp16Max = 65504.f;

// fp16 factor for `value`, clamped so huge inputs saturate instead of
// becoming infinity. Returns the stored bits; `rounded` gets the value back.
uint16_t to_fp16_factor(float value, float& rounded) {
  const uint16_t h = fp32_to_fp16(std::clamp(value, -kFp16Max, kFp16Max));
  rounded = fp16_to_fp32(h);
  return h;
}

// ---- groups with a min: x ~= scale * q - min, q in [0, qmax], min >= 0 ----

struct AffineFit {
  float scale = 0.f;
  float min = 0.f;
};

// Squared error of the group when its values are quantized with (scale, min).
float affine_error(const float* x, int n, int qmax, float scale, float min) {
  float err = 0.f;
  const float inv = scale > 0.f ? 1.f / scale : 0.f;
  for (int i = 0; i < n; ++i) {
    const int q = clamp_int(nearest_int((x[i] + min) * inv), 0, qmax);
    const float diff = scale * static_cast<float>(q) - min - x[i];
    err += diff * diff;
  }
  return err;
}

AffineFit fit_affine(const float* x, int n, int qmax) {
  float lo = x[0], hi = x[0], sum_x = 0.f, sum_x2 = 0.f;
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    sum_x += x[i];
    sum_x2 += x[i] * x[i];
  }
  lo = std::min(lo, 0.f);  // the offset is -min with min >= 0
  if (!(hi > lo)) return {0.f, -lo};  // all values equal and <= 0: the min alone is exact

  const float range = hi - lo;
  AffineFit best{range / static_cast<float>(qmax), -lo};
  float best_err = affine_error(x, n, qmax, best.scale, best.min);
  for (int step = 0; step <= 10; ++step) {
    const float iscale = (static_cast<float>(qmax) - 1.f + 0.2f * static_cast<float>(step)) / range;
    float sum_q = 0.f, sum_q2 = 0.f, sum_qx = 0.f;
    for (int i = 0; i < n; ++i) {
      const float q = static_cast<float>(clamp_int(nearest_int((x[i] - lo) * iscale), 0, qmax));
      sum_q += q;
      sum_q2 += q * q;
      sum_qx += q * x[i];
    }
    // Least squares for x ~= a*q + b, with b <= 0.
    const float det = static_cast<float>(n) * sum_q2 - sum_q * sum_q;
    if (!(det > 0.f)) continue;
    float a = (static_cast<float>(n) * sum_qx - sum_q * sum_x) / det;
    float b = (sum_q2 * sum_x - sum_q * sum_qx) / det;
    if (b > 0.f) {
      b = 0.f;
      a = sum_qx / sum_q2;
    }
    if (!(a > 0.f)) continue;
    // Error with these quants (requantizing with a, b can only lower it).
    const float err = a * a * sum_q2 + 2.f * a * b * sum_q + static_cast<float>(n) * b * b -
                      2.f * a * sum_qx - 2.f * b * sum_x + sum_x2;
    if (err < best_err) {
      best_err = err;
      best = {a, -b};
    }
  }
  return best;
}

// One super-block of a type with mins, before bit packing.
template <int kGroup>
struct AffineBlock {
  static constexpr int kGroups = kQK / kGroup;
  uint16_t d = 0, dmin = 0;
  uint8_t scale_code[kGroups] = {};
  uint8_t min_code[kGroups] = {};
  uint8_t q[kQK] = {};
};

// Picks the codes for one group near the rounded ones, then quantizes it.
void encode_affine_group(const float* x, int n, int qmax, int code_max, float d, float dmin,
                         const AffineFit& fit, uint8_t& scale_code, uint8_t& min_code, uint8_t* q) {
  const int sc0 = d > 0.f ? clamp_int(nearest_int(fit.scale / d), 0, code_max) : 0;
  const int mc0 = dmin > 0.f ? clamp_int(nearest_int(fit.min / dmin), 0, code_max) : 0;
  int best_sc = sc0, best_mc = mc0;
  float best_err = INFINITY;
  for (int sc = std::max(sc0 - 1, 0); sc <= std::min(sc0 + 1, code_max); ++sc) {
    for (int mc = std::max(mc0 - 1, 0); mc <= std::min(mc0 + 1, code_max); ++mc) {
      const float err = affine_error(x, n, qmax, d * static_cast<float>(sc), dmin * static_cast<float>(mc));
      if (err < best_err) {
        best_err = err;
        best_sc = sc;
        best_mc = mc;
      }
    }
  }
  scale_code = static_cast<uint8_t>(best_sc);
  min_code = static_cast<uint8_t>(best_mc);
  const float scale = d * static_cast<float>(best_sc), min = dmin * static_cast<float>(best_mc);
  const float inv = scale > 0.f ? 1.f / scale : 0.f;
  for (int i = 0; i < n; ++i) q[i] = static_cast<uint8_t>(clamp_int(nearest_int((x[i] + min) * inv), 0, qmax));
}

template <int kGroup>
AffineBlock<kGroup> quantize_affine(const float* x, int qmax, int code_max) {
  AffineBlock<kGroup> out;
  AffineFit fits[AffineBlock<kGroup>::kGroups];
  float max_scale = 0.f, max_min = 0.f;
  for (int g = 0; g < AffineBlock<kGroup>::kGroups; ++g) {
    fits[g] = fit_affine(x + kGroup * g, kGroup, qmax);
    max_scale = std::max(max_scale, fits[g].scale);
    max_min = std::max(max_min, fits[g].min);
  }
  float d = 0.f, dmin = 0.f;
  out.d = to_fp16_factor(max_scale / static_cast<float>(code_max), d);
  out.dmin = to_fp16_factor(max_min / static_cast<float>(code_max), dmin);
  for (int g = 0; g < AffineBlock<kGroup>::kGroups; ++g) {
    encode_affine_group(x + kGroup * g, kGroup, qmax, code_max, d, dmin, fits[g], out.scale_code[g],
                        out.min_code[g], out.q + kGroup * g);
  }
  return out;
}

// ---- symmetric groups: x ~= scale * q, q in [qmin, qmax] ----

float symmetric_error(const float* x, int n, int qmin, int qmax, float scale) {
  float err = 0.f;
  const float inv = scale != 0.f ? 1.f / scale : 0.f;
  for (int i = 0; i < n; ++i) {
    const int q = clamp_int(nearest_int(x[i] * inv), qmin, qmax);
    const float diff = scale * static_cast<float>(q) - x[i];
    err += diff * diff;
  }
  return err;
}

// The best scale maps the largest-magnitude value near one end of the range;
// try both ends (the ranges are asymmetric, e.g. -4..3) and refit each.
float fit_symmetric(const float* x, int n, int qmin, int qmax) {
  float peak = 0.f, sum_x2 = 0.f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(peak)) peak = x[i];
    sum_x2 += x[i] * x[i];
  }
  if (peak == 0.f) return 0.f;
  float best_scale = peak / static_cast<float>(qmin);
  float best_err = symmetric_error(x, n, qmin, qmax, best_scale);
  for (const int end : {qmin, qmax}) {
    for (int step = -2; step <= 5; ++step) {
      const float target = static_cast<float>(end) + (end < 0 ? -0.2f : 0.2f) * static_cast<float>(step);
      const float iscale = target / peak;
      float sum_q2 = 0.f, sum_qx = 0.f;
      for (int i = 0; i < n; ++i) {
        const float q = static_cast<float>(clamp_int(nearest_int(x[i] * iscale), qmin, qmax));
        sum_q2 += q * q;
        sum_qx += q * x[i];
      }
      if (!(sum_q2 > 0.f)) continue;
      const float err = sum_x2 - sum_qx * sum_qx / sum_q2;  // at the least-squares scale
      if (err < best_err) {
        best_err = err;
        best_scale = sum_qx / sum_q2;
      }
    }
  }
  return best_scale;
}

// One super-block of a symmetric type (16-value groups), before bit packing.
struct SymmetricBlock {
  uint16_t d = 0;
  int code[kQK / 16] = {};
  int8_t q[kQK] = {};
};

SymmetricBlock quantize_symmetric(const float* x, int qmin, int qmax, int code_min, int code_max) {
  SymmetricBlock out;
  float scales[kQK / 16];
  float peak = 0.f;  // the group scale of largest magnitude, with its sign
  for (int g = 0; g < kQK / 16; ++g) {
    scales[g] = fit_symmetric(x + 16 * g, 16, qmin, qmax);
    if (std::fabs(scales[g]) > std::fabs(peak)) peak = scales[g];
  }
  float d = 0.f;
  if (peak != 0.f) out.d = to_fp16_factor(peak / static_cast<float>(code_min), d);  // peak gets the roomier end
  for (int g = 0; g < kQK / 16; ++g) {
    const float* xg = x + 16 * g;
    const int code0 = d != 0.f ? clamp_int(nearest_int(scales[g] / d), code_min, code_max) : 0;
    int best_code = code0;
    float best_err = INFINITY;
    for (int code = std::max(code0 - 1, code_min); code <= std::min(code0 + 1, code_max); ++code) {
      const float err = symmetric_error(xg, 16, qmin, qmax, d * static_cast<float>(code));
      if (err < best_err) {
        best_err = err;
        best_code = code;
      }
    }
    out.code[g] = best_code;
    const float scale = d * static_cast<float>(best_code);
    const float inv = scale != 0.f ? 1.f / scale : 0.f;
    for (int i = 0; i < 16; ++i) {
      out.q[16 * g + i] = static_cast<int8_t>(clamp_int(nearest_int(xg[i] * inv), qmin, qmax));
    }
  }
  return out;
}

// ---- bit packing, one function per layout (see blocks_k.h) ----

void pack_k4_scales(const uint8_t scale_code[8], const uint8_t min_code[8], uint8_t out[kKScaleBytes]) {
  for (int g = 0; g < 4; ++g) {
    out[g] = static_cast<uint8_t>(scale_code[g] | ((scale_code[g + 4] >> 4) << 6));
    out[g + 4] = static_cast<uint8_t>(min_code[g] | ((min_code[g + 4] >> 4) << 6));
    out[g + 8] = static_cast<uint8_t>((scale_code[g + 4] & 0xF) | ((min_code[g + 4] & 0xF) << 4));
  }
}

// Two-bit fields of 128 values per 32 bytes: value 32k + l in bits 2k of byte l.
void pack_2bit(const uint8_t* q, uint8_t* out) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* v = q + 128 * h + l;
      out[32 * h + l] = static_cast<uint8_t>(v[0] | (v[32] << 2) | (v[64] << 4) | (v[96] << 6));
    }
}

void write_q2_k(const float* x, BlockQ2K& b) {
  const auto a = quantize_affine<16>(x, 3, 15);
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<uint8_t>(a.scale_code[g] | (a.min_code[g] << 4));
  pack_2bit(a.q, b.qs);
  b.d = a.d;
  b.dmin = a.dmin;
}

void write_q3_k(const float* x, BlockQ3K& b) {
  const auto s = quantize_symmetric(x, -4, 3, -32, 31);
  uint8_t biased[kQK];
  std::memset(b.hmask, 0, sizeof(b.hmask));
  for (int v = 0; v < kQK; ++v) {
    const int u = s.q[v] + 4;  // 0..7
    biased[v] = static_cast<uint8_t>(u & 3);
    b.hmask[v % 32] = static_cast<uint8_t>(b.hmask[v % 32] | ((u >> 2) << (v / 32)));
  }
  pack_2bit(biased, b.qs);
  std::memset(b.scales, 0, sizeof(b.scales));
  for (int g = 0; g < 16; ++g) {
    const int u = s.code[g] + 32;  // 0..63
    b.scales[g % 8] = static_cast<uint8_t>(b.scales[g % 8] | ((u & 0xF) << (g < 8 ? 0 : 4)));
    b.scales[8 + g % 4] = static_cast<uint8_t>(b.scales[8 + g % 4] | ((u >> 4) << (2 * (g / 4))));
  }
  b.d = s.d;
}

void write_q4_k(const float* x, BlockQ4K& b) {
  const auto a = quantize_affine<32>(x, 15, 63);
  pack_k4_scales(a.scale_code, a.min_code, b.scales);
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) {
      b.qs[32 * j + l] = static_cast<uint8_t>(a.q[64 * j + l] | (a.q[64 * j + 32 + l] << 4));
    }
  b.d = a.d;
  b.dmin = a.dmin;
}

void write_q5_k(const float* x, BlockQ5K& b) {
  const auto a = quantize_affine<32>(x, 31, 63);
  pack_k4_scales(a.scale_code, a.min_code, b.scales);
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) {
      const uint8_t lo = a.q[64 * j + l], hi = a.q[64 * j + 32 + l];
      b.qs[32 * j + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
      b.qh[l] = static_cast<uint8_t>(b.qh[l] | ((lo >> 4) << (2 * j)) | ((hi >> 4) << (2 * j + 1)));
    }
  b.d = a.d;
  b.dmin = a.dmin;
}

void write_q6_k(const float* x, BlockQ6K& b) {
  const auto s = quantize_symmetric(x, -32, 31, -128, 127);
  std::memset(b.ql, 0, sizeof(b.ql));
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int u = s.q[128 * h + 32 * k + l] + 32;  // 0..63
        uint8_t& low = b.ql[64 * h + 32 * (k & 1) + l];
        low = static_cast<uint8_t>(low | ((u & 0xF) << (4 * (k >> 1))));
        b.qh[32 * h + l] = static_cast<uint8_t>(b.qh[32 * h + l] | ((u >> 4) << (2 * k)));
      }
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(s.code[g]);
  b.d = s.d;
}

template <typename Block, void (*kWrite)(const float*, Block&)>
void quantize_row(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<Block*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) kWrite(src + i * kQK, blocks[i]);
}

}  // namespace

void quantize_q2_k(const float* src, void* dst, int64_t n) { quantize_row<BlockQ2K, write_q2_k>(src, dst, n); }
void quantize_q3_k(const float* src, void* dst, int64_t n) { quantize_row<BlockQ3K, write_q3_k>(src, dst, n); }
void quantize_q4_k(const float* src, void* dst, int64_t n) { quantize_row<BlockQ4K, write_q4_k>(src, dst, n); }
void quantize_q5_k(const float* src, void* dst, int64_t n) { quantize_row<BlockQ5K, write_q5_k>(src, dst, n); }
void quantize_q6_k(const float* src, void* dst, int64_t n) { quantize_row<BlockQ6K, write_q6_k>(src, dst, n); }

}  // namespace sieve::tensor::kquant
