#include "synth/weight_gen.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::synth {
namespace {

constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;  // splitmix64's counter step
// The sum of four uniforms on [0, 65535] has mean 4 * 32767.5 and variance
// 4 * (65536^2 - 1) / 12.
constexpr int64_t kRawMean = 131070;
const double kRawStddev = std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0);

}  // namespace

RowGenerator::RowGenerator(uint64_t seed, uint64_t tensor_index, WeightDistribution distribution)
    : tensor_key_(mix64(mix64(seed) ^ (tensor_index * kGamma + 1))),
      mean_(distribution.mean),
      scale_(static_cast<float>(distribution.stddev / kRawStddev)) {}

void RowGenerator::fill_row(uint64_t row, std::span<float> out) const {
  const uint64_t row_key = mix64(tensor_key_ ^ (row * kGamma));
  const size_t n = out.size();
  for (size_t j = 0; j < n; ++j) {
    const uint64_t r = mix64(row_key + (j + 1) * kGamma);
    const int64_t sum = static_cast<int64_t>((r & 0xffff) + ((r >> 16) & 0xffff) +
                                             ((r >> 32) & 0xffff) + (r >> 48));
    out[j] = mean_ + scale_ * static_cast<float>(sum - kRawMean);
  }
}

namespace {

// F16 conversion in two passes: a branch-free pass the compiler vectorises for
// values in the normal half range, then the exact scalar routine for the rare
// rest (subnormal results, overflow, NaN). Rounding to nearest even is done
// by adding 0xfff plus the lowest kept bit before dropping 13 mantissa bits;
// results are bit-identical to tensor::fp32_to_fp16.
void floats_to_f16(const float* src, uint16_t* dst, int64_t n) {
  constexpr uint32_t kSmallestNormal = 0x38800000u;  // 2^-14
  constexpr uint32_t kFirstOverflow = 0x477ff000u;   // rounds to infinity
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t x = std::bit_cast<uint32_t>(src[i]);
    const uint32_t abs = x & 0x7fffffffu;
    const uint32_t rounded = (abs + 0xfffu + ((abs >> 13) & 1u)) >> 13;
    dst[i] = static_cast<uint16_t>(((x >> 16) & 0x8000u) | ((rounded - (112u << 10)) & 0x7fffu));
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t abs = std::bit_cast<uint32_t>(src[i]) & 0x7fffffffu;
    if (abs < kSmallestNormal || abs >= kFirstOverflow) dst[i] = tensor::fp32_to_fp16(src[i]);
  }
}

}  // namespace

bool can_encode(tensor::TensorType type) {
  using tensor::TensorType;
  if (type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16) return true;
  return tensor::kernels()[type].quantize != nullptr;
}

void encode_row(tensor::TensorType type, const float* src, void* dst, int64_t n) {
  using tensor::TensorType;
  // Plain float types are exact conversions: done here, independent of the kernel table.
  switch (type) {
    case TensorType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case TensorType::F16:
      floats_to_f16(src, static_cast<uint16_t*>(dst), n);
      return;
    case TensorType::BF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = tensor::fp32_to_bf16(src[i]);
      return;
    default:
      break;
  }
  const tensor::QuantizeRowFn quantize = tensor::kernels()[type].quantize;
  if (quantize == nullptr) {
    throw Error("this build has no quantizer for tensor type " + std::string(tensor::type_name(type)));
  }
  quantize(src, dst, n);
}

}  // namespace sieve::synth
