// The synthA files in ../shared hold one random F32 model written in several
// types by the reference quantizer. Dequantizing each tensor with our kernels
// and comparing it with the F16 file's copy checks our block layouts against
// files we did not write.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "tensor/kernels.h"
#include "tensor/tensor_type.h"

namespace sieve::tensor {
namespace {

const std::filesystem::path kModels = std::filesystem::path(SIEVE_SHARED_DIR) / "models";

// Relative RMS error bound per type: RMS(ours - f16) / RMS(f16) over a tensor.
// Each is about twice the error the type's bit width allows on Gaussian
// weights (measured values are printed by the test).
double bound_for(TensorType type) {
  switch (type) {
    case TensorType::F32: return 1e-3;   // F16 reference itself rounds to 11 bits
    case TensorType::F16: return 0.0;    // identical bits expected
    case TensorType::BF16: return 6e-3;  // 8-bit mantissa: 2^-9 relative, RMS ~ 0.0023
    case TensorType::Q8_0: return 1.5e-2;
    case TensorType::Q6_K: return 3e-2;
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q5_K: return 6e-2;
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q4_K: return 0.14;
    case TensorType::Q3_K: return 0.25;
    case TensorType::Q2_K: return 0.45;
    default: return 0.0;
  }
}

std::vector<float> dequantize(const gguf::GgufFile& file, const gguf::TensorInfo& t) {
  const auto& k = kernels_for(Isa::Scalar)[t.type];
  EXPECT_NE(k.dequantize, nullptr) << "no dequantize kernel for " << type_name(t.type);
  std::vector<float> out(t.n_elements);
  if (k.dequantize != nullptr) k.dequantize(file.tensor_data(t).data(), out.data(), static_cast<int64_t>(t.n_elements));
  return out;
}

double relative_rms(const std::vector<float>& ours, const std::vector<float>& ref) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(ours[i]) - ref[i];
    err += d * d;
    norm += static_cast<double>(ref[i]) * ref[i];
  }
  return norm == 0 ? std::sqrt(err) : std::sqrt(err / norm);
}

class SynthACrossType : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthACrossType, EveryTensorMatchesF16WithinTypeBound) {
  const auto other_path = kModels / (std::string("synthA-") + GetParam() + ".gguf");
  const auto f16_path = kModels / "synthA-f16.gguf";
  if (!std::filesystem::exists(other_path) || !std::filesystem::exists(f16_path)) {
    GTEST_SKIP() << "shared models not found at " << kModels;
  }
  const auto f16 = gguf::GgufFile::open(f16_path);
  const auto other = gguf::GgufFile::open(other_path);
  ASSERT_EQ(other.tensors().size(), f16.tensors().size());

  std::map<TensorType, double> worst;
  for (const gguf::TensorInfo& t : other.tensors()) {
    const gguf::TensorInfo* ref = f16.find_tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    ASSERT_EQ(ref->dims, t.dims) << t.name;
    const double err = relative_rms(dequantize(other, t), dequantize(f16, *ref));
    EXPECT_LE(err, bound_for(t.type)) << t.name << " (" << type_name(t.type) << ")";
    worst[t.type] = std::max(worst[t.type], err);
  }
  for (const auto& [type, err] : worst) {
    std::printf("  synthA-%s: %-5s worst relative RMS vs F16 = %.5f (bound %.4f)\n", GetParam(),
                std::string(type_name(type)).c_str(), err, bound_for(type));
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, SynthACrossType,
                         ::testing::Values("bf16", "q8_0", "q6_k", "q4_k_m", "q4_0"),
                         [](const auto& info) { return std::string(info.param); });

// The shared gpt-oss files hold one random model twice: all F32, and with the
// experts in MXFP4 written by the reference quantizer. Our MXFP4 decoding of
// those experts must land near the F32 values (a wrong nibble order, table or
// exponent bias would be off by 100% or more).
TEST(GptOssMxfp4, ExpertsMatchTheF32CopyWithinTheTypeBound) {
  const auto mxfp4_path = kModels / "arch" / "gpt-oss-mxfp4.gguf";
  const auto f32_path = kModels / "arch" / "gpt-oss.gguf";
  if (!std::filesystem::exists(mxfp4_path) || !std::filesystem::exists(f32_path)) {
    GTEST_SKIP() << "shared gpt-oss models not found under " << kModels;
  }
  const auto f32 = gguf::GgufFile::open(f32_path);
  const auto mxfp4 = gguf::GgufFile::open(mxfp4_path);
  int compared = 0;
  for (const gguf::TensorInfo& t : mxfp4.tensors()) {
    if (t.type != TensorType::MXFP4) continue;
    const gguf::TensorInfo* ref = f32.find_tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    ASSERT_EQ(ref->dims, t.dims) << t.name;
    const double err = relative_rms(dequantize(mxfp4, t), dequantize(f32, *ref));
    // E2M1 with power-of-two scales: ~11% on Gaussian data (iquant_test.cpp).
    EXPECT_LE(err, 0.2) << t.name;
    std::printf("  %s: MXFP4 relative RMS vs F32 = %.5f\n", t.name.c_str(), err);
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace sieve::tensor
