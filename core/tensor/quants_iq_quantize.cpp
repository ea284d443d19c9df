// Scalar quantizers for IQ4_NL, IQ4_XS and MXFP4 (layouts in blocks_iq.h).
//
// IQ4_NL / IQ4_XS: for each 32 values, a best-scale search. Each candidate
// scale maps the value of largest magnitude near one end of the codebook;
// every value takes its nearest level, and the candidate's optimal scale for
// those levels (least squares, weights x^2 so large values count most, as the
// reference engine does without an importance matrix) is kept if it explains
// the block best. IQ4_XS then quantizes its eight sub-block scales to 6 bits
// against one fp16 factor and re-picks each value's level for the scale that
// is actually stored.
//
// MXFP4: the shared exponent is a power of two; of the two exponents around
// "largest value at the top level 6", the one with the smaller squared error wins.
//
// Non-finite input gives defined, finite output (scales saturate at the
// largest fp16), never undefined behaviour: no float is cast to an integer
// without being clamped first.

#include <cmath>
#include <cstring>

#include "tensor/blocks_iq.h"
#include "tensor/fp16.h"
#include "tensor/quants_iq_internal.h"

namespace sieve::tensor::iquant {
namespace {

constexpr int kBlock = kIqBlockElems;
constexpr int kSubBlocks = kIq4xsBlockElems / kIqBlockElems;
constexpr float kMaxFp16 = 65504.0f;
constexpr float kZeroBelow = 1e-30f;  // a block this small is stored as zeros
constexpr int kScaleTries = 7;        // candidates on each side of the plain max scale
constexpr uint8_t kIq4ZeroPair = 0x88;  // index 8 (level 1) twice: zero whenever d is zero

uint16_t saturating_fp16(float v) {
  const float clamped = v > kMaxFp16 ? kMaxFp16 : (v < -kMaxFp16 ? -kMaxFp16 : v);
  return fp32_to_fp16(clamped);
}

// Index of the IQ4 level nearest to v (levels ascending); NaN gives 15.
int nearest_iq4(float v) {
  if (v <= kIq4nlValues[0]) return 0;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (v < kIq4nlValues[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return v - kIq4nlValues[lo] < kIq4nlValues[hi] - v ? lo : hi;
}

// The least-squares scale of 32 values for the IQ4 codebook (0 for a block
// of zeros); its sign follows the value of largest magnitude. The search
// runs on the values divided by that magnitude, so squares cannot overflow.
float best_iq4_scale(const float* x) {
  float amax = 0.0f, extreme = 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    const float a = std::fabs(x[j]);
    if (a > amax) {
      amax = a;
      extreme = x[j];
    }
  }
  if (!(amax >= kZeroBelow)) return 0.0f;
  if (!std::isfinite(amax)) return extreme / kIq4nlValues[0];  // saturates when stored
  float y[kBlock];
  for (int j = 0; j < kBlock; ++j) y[j] = x[j] / amax;
  const float sign = extreme < 0.0f ? -1.0f : 1.0f;
  float best_d = sign / kIq4nlValues[0];
  float best_fit = -1.0f;  // sumqy^2 / sumq2 of best_d's levels: larger is better
  for (int t = -kScaleTries; t <= kScaleTries; ++t) {
    const float id = (static_cast<float>(t) + kIq4nlValues[0]) * sign;
    float sumqy = 0.0f, sumq2 = 0.0f;
    for (int j = 0; j < kBlock; ++j) {
      const float q = kIq4nlValues[nearest_iq4(y[j] * id)];
      const float w = y[j] * y[j];
      sumqy += w * q * y[j];
      sumq2 += w * q * q;
    }
    if (sumq2 > 0.0f && sumqy * sumqy > best_fit * sumq2) {
      best_d = sumqy / sumq2;
      best_fit = sumqy * sumqy / sumq2;
    }
  }
  return best_d * amax;
}

// Indices of 32 values for the stored scale d (all level 1 when d is zero).
void pick_iq4_levels(const float* x, float d, uint8_t* qs) {
  if (d == 0.0f) {
    std::memset(qs, kIq4ZeroPair, kBlock / 2);
    return;
  }
  for (int j = 0; j < kBlock / 2; ++j) {
    const int lo = nearest_iq4(x[j] / d), hi = nearest_iq4(x[j + kBlock / 2] / d);
    qs[j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// Round to nearest after clamping to [lo, hi]; NaN gives lo.
int round_clamped(float v, int lo, int hi) {
  if (!(v > static_cast<float>(lo))) return lo;
  if (v > static_cast<float>(hi)) return hi;
  return static_cast<int>(std::nearbyint(v));
}

// ---- MXFP4 ---------------------------------------------------------------------

// Code of the E2M1 level nearest to v (in doubled units): magnitude among
// 0 1 2 3 4 6 8 12, sign in bit 3.
int nearest_mxfp4(float v) {
  const float a = std::fabs(v);
  constexpr float kMidpoints[7] = {0.5f, 1.5f, 2.5f, 3.5f, 5.0f, 7.0f, 10.0f};
  int code = 0;
  while (code < 7 && !(a < kMidpoints[code])) ++code;  // NaN ends at the top level
  return code == 0 ? 0 : (code | (v < 0.0f ? 8 : 0));
}

float mxfp4_error(const float* x, uint8_t e) {
  const float d = e8m0_half_to_float(e);
  float err = 0.0f;
  for (int j = 0; j < kBlock; ++j) {
    const float diff = x[j] - d * kMxfp4Values[nearest_mxfp4(x[j] / d)];
    err += diff * diff;
  }
  return err;
}

// The largest exponent whose top level (6 * 2^(e - 127)) is a finite float.
constexpr int kMaxExponent = 252;

// The smallest exponent whose top level reaches amax (kMaxExponent at most:
// larger values clip to the top level instead of decoding as infinity).
int covering_exponent(float amax) {
  int e = round_clamped(std::ceil(std::log2(amax / 12.0f)) + 128.0f, 0, kMaxExponent);
  while (e < kMaxExponent && 12.0f * e8m0_half_to_float(static_cast<uint8_t>(e)) < amax) ++e;
  while (e > 0 && 12.0f * e8m0_half_to_float(static_cast<uint8_t>(e - 1)) >= amax) --e;
  return e;
}

void quantize_mxfp4_block(const float* x, BlockMXFP4& out) {
  float amax = 0.0f;
  for (int j = 0; j < kBlock; ++j) amax = std::fabs(x[j]) > amax ? std::fabs(x[j]) : amax;
  std::memset(&out, 0, sizeof(out));
  if (!(amax > 0.0f)) return;
  const int covering = covering_exponent(amax);
  // One step finer clips the largest value to the top level but resolves the rest twice as well.
  out.e = static_cast<uint8_t>(covering);
  if (covering > 0 && mxfp4_error(x, static_cast<uint8_t>(covering - 1)) < mxfp4_error(x, out.e)) --out.e;
  const float d = e8m0_half_to_float(out.e);
  for (int j = 0; j < kBlock / 2; ++j) {
    out.qs[j] = static_cast<uint8_t>(nearest_mxfp4(x[j] / d) | (nearest_mxfp4(x[j + kBlock / 2] / d) << 4));
  }
}

}  // namespace

void quantize_iq4_nl(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockIQ4NL*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    b[i].d = saturating_fp16(best_iq4_scale(src));
    pick_iq4_levels(src, fp16_to_fp32(b[i].d), b[i].qs);
  }
}

void quantize_iq4_xs(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockIQ4XS*>(dst);
  for (int64_t i = 0; i < n / kIq4xsBlockElems; ++i, src += kIq4xsBlockElems) {
    float scales[kSubBlocks];
    float max_scale = 0.0f;
    for (int s = 0; s < kSubBlocks; ++s) {
      scales[s] = best_iq4_scale(src + kBlock * s);
      if (std::fabs(scales[s]) > std::fabs(max_scale)) max_scale = scales[s];
    }
    // The largest sub-block scale becomes -32 steps of d (the longer end of 6 bits).
    BlockIQ4XS& out = b[i];
    std::memset(&out, 0, sizeof(out));
    out.d = saturating_fp16(max_scale / -32.0f);
    const float d = fp16_to_fp32(out.d);
    for (int s = 0; s < kSubBlocks; ++s) {
      const int l = d == 0.0f ? 0 : round_clamped(scales[s] / d, -32, 31);
      const int ls = l + 32;
      out.scales_l[s / 2] |= static_cast<uint8_t>((ls & 0xf) << (4 * (s % 2)));
      out.scales_h |= static_cast<uint16_t>((ls >> 4) << (2 * s));
      pick_iq4_levels(src + kBlock * s, d * static_cast<float>(l), out.qs + 16 * s);
    }
  }
}

void quantize_mxfp4(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockMXFP4*>(dst);
  for (int64_t i = 0; i < n / kBlock; ++i) quantize_mxfp4_block(src + kBlock * i, b[i]);
}

}  // namespace sieve::tensor::iquant
