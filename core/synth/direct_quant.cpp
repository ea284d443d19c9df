#include "synth/direct_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "util/error.h"

namespace sieve::synth {
namespace {

using tensor::TensorType;

constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;

// Mixed 64-bit words of one row, in order.
class BitStream {
 public:
  explicit BitStream(uint64_t key) : key_(key) {}
  uint64_t next() { return mix64(key_ + (++counter_) * kGamma); }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

// Code distributions (sums of uniforms: bell-shaped, symmetric about the
// value that dequantizes to zero) and their variances.
// Q4_K: a + b + c with a, b in 0..7 and c in 0..1: 0..15 about 7.5; 7 bits.
constexpr double kQ4KCodeVar = 2 * (64.0 - 1) / 12 + 0.25;
// Q4_K sub-block scale (= its min): 40 + 0..15.
constexpr int kQ4KScaleBase = 40;
constexpr double kQ4KScaleSq = 47.5 * 47.5 + (256.0 - 1) / 12;
// Q6_K: 2 + four 0..15: 2..62 about 32; 16 bits.
constexpr double kQ6KCodeVar = 4 * (256.0 - 1) / 12;
// Q6_K sub-block scale: 64 + 0..63.
constexpr int kQ6KScaleBase = 64;
constexpr double kQ6KScaleSq = 95.5 * 95.5 + (4096.0 - 1) / 12;
// Q5_0: 1 + two 0..15: 1..31 about 16; 8 bits.
constexpr double kQ5_0CodeVar = 2 * (256.0 - 1) / 12;
// Q8_0: four 0..63 minus 126: -126..126; 24 bits.
constexpr double kQ8_0CodeVar = 4 * (4096.0 - 1) / 12;
// MXFP4: a sign bit and 4 bits through this table into E2M1 magnitude codes
// 0..7 (values 0, 0.5, 1, 1.5, 2, 3, 4, 6): denser near zero.
constexpr uint8_t kMxfp4Magnitude[16] = {0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7};

double mxfp4_code_mean_square() {
  double sum = 0;
  for (uint8_t m : kMxfp4Magnitude) sum += tensor::kMxfp4Values[m] * tensor::kMxfp4Values[m];
  return sum / 16;
}

uint16_t fp16_factor(double value) { return tensor::fp32_to_fp16(static_cast<float>(value)); }

void fill_q4_k(BitStream& bits, uint16_t d, uint16_t dmin, tensor::BlockQ4K& b) {
  b.d = d;
  b.dmin = dmin;
  // Scale and min equal per sub-block: d * sc * q - (7.5 d) * sc = d * sc * (q - 7.5).
  uint64_t r = bits.next();
  uint8_t sc[8];
  for (int g = 0; g < 8; ++g) sc[g] = static_cast<uint8_t>(kQ4KScaleBase + ((r >> (4 * g)) & 15));
  for (int g = 0; g < 4; ++g) {
    b.scales[g] = static_cast<uint8_t>(sc[g] | ((sc[g + 4] >> 4) << 6));
    b.scales[g + 4] = b.scales[g];
    b.scales[g + 8] = static_cast<uint8_t>((sc[g + 4] & 15) | ((sc[g + 4] & 15) << 4));
  }
  // 256 codes of 7 bits, 9 per word; two codes per byte.
  int left = 0;
  auto code = [&]() {
    if (left == 0) {
      r = bits.next();
      left = 9;
    }
    const auto c = static_cast<uint8_t>(r & 127);
    r >>= 7;
    --left;
    return static_cast<uint8_t>((c & 7) + ((c >> 3) & 7) + (c >> 6));
  };
  for (uint8_t& q : b.qs) {
    const uint8_t lo = code();
    q = static_cast<uint8_t>(lo | (code() << 4));
  }
}

void fill_q6_k(BitStream& bits, uint16_t d, tensor::BlockQ6K& b) {
  b.d = d;
  uint64_t r = bits.next();
  for (int g = 0; g < 8; ++g) b.scales[g] = static_cast<int8_t>(kQ6KScaleBase + ((r >> (6 * g)) & 63));
  r = bits.next();
  for (int g = 0; g < 8; ++g) b.scales[8 + g] = static_cast<int8_t>(kQ6KScaleBase + ((r >> (6 * g)) & 63));
  std::memset(b.ql, 0, sizeof b.ql);
  std::memset(b.qh, 0, sizeof b.qh);
  for (int i = 0; i < tensor::kQK; ++i) {
    if (i % 4 == 0) r = bits.next();
    const uint64_t c = r >> (16 * (i % 4));
    const int q = 2 + static_cast<int>((c & 15) + ((c >> 4) & 15) + ((c >> 8) & 15) + ((c >> 12) & 15));
    // Value i = 128 h + 32 k + l (blocks_k.h).
    const int h = i / 128, k = (i % 128) / 32, l = i % 32;
    b.ql[64 * h + l + 32 * (k & 1)] |= static_cast<uint8_t>((q & 15) << (4 * (k >> 1)));
    b.qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * k));
  }
}

void fill_q5_0(BitStream& bits, uint16_t d, tensor::BlockQ5_0& b) {
  b.d = d;
  uint8_t q[32];
  for (int i = 0; i < 32; i += 8) {
    const uint64_t r = bits.next();
    for (int j = 0; j < 8; ++j) {
      const uint64_t c = r >> (8 * j);
      q[i + j] = static_cast<uint8_t>(1 + (c & 15) + ((c >> 4) & 15));
    }
  }
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
    qh |= static_cast<uint32_t>(q[j] >> 4) << j;
    qh |= static_cast<uint32_t>(q[j + 16] >> 4) << (j + 16);
  }
  std::memcpy(b.qh, &qh, sizeof qh);
}

void fill_q8_0(BitStream& bits, uint16_t d, tensor::BlockQ8_0& b) {
  b.d = d;
  for (int i = 0; i < 32; i += 2) {
    const uint64_t r = bits.next();
    for (int j = 0; j < 2; ++j) {
      const uint64_t c = r >> (24 * j);
      const int q = static_cast<int>((c & 63) + ((c >> 6) & 63) + ((c >> 12) & 63) + ((c >> 18) & 63)) - 126;
      b.qs[i + j] = static_cast<int8_t>(q);
    }
  }
}

void fill_mxfp4(BitStream& bits, uint8_t exponent, uint32_t upper_threshold, tensor::BlockMXFP4& b) {
  uint64_t r = bits.next();
  b.e = static_cast<uint8_t>(exponent + ((r & 0xffff) < upper_threshold ? 1 : 0));
  r >>= 16;
  int left = 8;  // 48 bits left: 8 codes of 5 bits (40 bits), then a fresh word
  for (uint8_t& q : b.qs) {
    uint8_t pair[2];
    for (uint8_t& code : pair) {
      if (left == 0) {
        r = bits.next();
        left = 12;
      }
      code = static_cast<uint8_t>(kMxfp4Magnitude[r & 15] | ((r >> 4) & 1) << 3);
      r >>= 5;
      --left;
    }
    q = static_cast<uint8_t>(pair[0] | (pair[1] << 4));
  }
}

template <typename Block, typename Fill>
void fill_blocks(void* dst, int64_t n, int block_elems, Fill fill) {
  auto* blocks = static_cast<Block*>(dst);
  for (int64_t i = 0; i < n / block_elems; ++i) fill(blocks[i]);
}

}  // namespace

bool can_generate_directly(TensorType type) {
  return type == TensorType::Q4_K || type == TensorType::Q6_K || type == TensorType::Q5_0 ||
         type == TensorType::Q8_0 || type == TensorType::MXFP4;
}

DirectRowGenerator::DirectRowGenerator(uint64_t seed, uint64_t tensor_index, WeightDistribution distribution,
                                       TensorType type)
    : tensor_key_(mix64(mix64(seed) ^ (tensor_index * kGamma + 2))), type_(type) {
  const double sd = distribution.stddev;
  switch (type) {
    case TensorType::Q4_K: {
      d_ = fp16_factor(sd / std::sqrt(kQ4KCodeVar * kQ4KScaleSq));
      dmin_ = fp16_factor(7.5 * tensor::fp16_to_fp32(d_));
      break;
    }
    case TensorType::Q6_K: d_ = fp16_factor(sd / std::sqrt(kQ6KCodeVar * kQ6KScaleSq)); break;
    case TensorType::Q5_0: d_ = fp16_factor(sd / std::sqrt(kQ5_0CodeVar)); break;
    case TensorType::Q8_0: d_ = fp16_factor(sd / std::sqrt(kQ8_0CodeVar)); break;
    case TensorType::MXFP4: {
      // Scale 2^(e - 128) for e the lower exponent s0 with s0^2 V <= sd^2 < 4 s0^2 V;
      // a fraction p of the blocks take 2 s0 so that (1 - p + 4p) s0^2 V = sd^2.
      const double v = mxfp4_code_mean_square();
      const int e = static_cast<int>(std::floor(std::log2(sd / std::sqrt(v)))) + 128;
      if (e < 1 || e > 253) throw Error("a standard deviation MXFP4 cannot scale to");
      exponent_ = static_cast<uint8_t>(e);
      const double s0 = std::ldexp(1.0, e - 128);
      const double p = (sd * sd / (s0 * s0 * v) - 1.0) / 3.0;
      upper_threshold_ = static_cast<uint32_t>(std::lround(std::clamp(p, 0.0, 1.0) * 65536.0));
      break;
    }
    default:
      throw Error("no direct generator for tensor type " + std::string(tensor::type_name(type)));
  }
}

void DirectRowGenerator::fill_row(uint64_t row, void* dst, int64_t n) const {
  BitStream bits(mix64(tensor_key_ ^ (row * kGamma)));
  switch (type_) {
    case TensorType::Q4_K:
      fill_blocks<tensor::BlockQ4K>(dst, n, tensor::kQK, [&](auto& b) { fill_q4_k(bits, d_, dmin_, b); });
      return;
    case TensorType::Q6_K:
      fill_blocks<tensor::BlockQ6K>(dst, n, tensor::kQK, [&](auto& b) { fill_q6_k(bits, d_, b); });
      return;
    case TensorType::Q5_0:
      fill_blocks<tensor::BlockQ5_0>(dst, n, 32, [&](auto& b) { fill_q5_0(bits, d_, b); });
      return;
    case TensorType::Q8_0:
      fill_blocks<tensor::BlockQ8_0>(dst, n, 32, [&](auto& b) { fill_q8_0(bits, d_, b); });
      return;
    case TensorType::MXFP4:
      fill_blocks<tensor::BlockMXFP4>(dst, n, 32, [&](auto& b) { fill_mxfp4(bits, exponent_, upper_threshold_, b); });
      return;
    default:
      return;
  }
}

}  // namespace sieve::synth
