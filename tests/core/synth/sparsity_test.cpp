// The ReLU threshold derived for a target sparsity zeroes about that fraction
// of gate activations for random unit-RMS inputs, measured on written files.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/synth/synth_test_util.h"
#include "gguf/gguf_file.h"

namespace sieve::synth {
namespace {

using testing::ScratchDir;
using testing::small_spec;

// Fraction of gate pre-activations g = W_gate (gamma * x) below `threshold`,
// over every gate row of every layer and `n_inputs` random x of unit RMS.
double measured_zero_fraction(const gguf::GgufFile& f, double threshold, int n_inputs) {
  const int64_t dim = *f.get_int("llama.embedding_length");
  const int64_t n_layers = *f.get_int("llama.block_count");
  std::mt19937_64 rng(1234);
  std::normal_distribution<double> normal;
  uint64_t below = 0, total = 0;
  std::vector<double> x(static_cast<size_t>(dim));
  for (int64_t layer = 0; layer < n_layers; ++layer) {
    const std::string prefix = "blk." + std::to_string(layer) + ".";
    const gguf::TensorInfo* norm = f.find_tensor(prefix + "ffn_norm.weight");
    const gguf::TensorInfo* gate = f.find_tensor(prefix + "ffn_gate.weight");
    EXPECT_TRUE(norm && gate);
    if (!norm || !gate) return -1;
    const std::vector<float> gamma = testing::dequantize_row(f, *norm, 0);
    std::vector<std::vector<float>> rows;
    for (uint64_t r = 0; r < gate->n_rows(); ++r) rows.push_back(testing::dequantize_row(f, *gate, r));
    for (int input = 0; input < n_inputs; ++input) {
      double sum_sq = 0;
      for (double& v : x) {
        v = normal(rng);
        sum_sq += v * v;
      }
      const double scale = std::sqrt(static_cast<double>(dim) / sum_sq);  // unit RMS
      for (size_t i = 0; i < x.size(); ++i) x[i] *= scale * gamma[i];
      for (const std::vector<float>& w : rows) {
        double g = 0;
        for (size_t i = 0; i < x.size(); ++i) g += w[i] * x[i];
        below += g < threshold ? 1 : 0;
        ++total;
      }
    }
  }
  return static_cast<double>(below) / static_cast<double>(total);
}

struct SparsityCase {
  const char* type;
  double sparsity;
};

class SynthSparsity : public ::testing::TestWithParam<SparsityCase> {};

TEST_P(SynthSparsity, DerivedThresholdZeroesTheTargetFraction) {
  ScratchDir dir;
  SynthSpec spec = small_spec(GetParam().type);
  spec.activation = Activation::ReluThreshold;
  spec.target_sparsity = GetParam().sparsity;
  const SynthSummary summary = write_synthetic_model(spec, dir.file("relu.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("relu.gguf"));
  EXPECT_EQ(f.get_string("sieve.ffn.activation"), "fatrelu");
  const auto threshold = f.get_float("sieve.ffn.relu_threshold");
  ASSERT_TRUE(threshold);
  EXPECT_NEAR(*threshold, threshold_for_sparsity(GetParam().sparsity, spec.shape), 1e-6);
  EXPECT_NEAR(*threshold, *summary.relu_threshold, 1e-6);
  EXPECT_NEAR(*f.get_float("sieve.synth.target_sparsity"), GetParam().sparsity, 1e-6);
  const double measured = measured_zero_fraction(f, *threshold, 24);
  EXPECT_NEAR(measured, GetParam().sparsity, 0.02) << "threshold " << *threshold;
}

INSTANTIATE_TEST_SUITE_P(Targets, SynthSparsity,
                         ::testing::Values(SparsityCase{"f16", 0.9}, SparsityCase{"f32", 0.7},
                                           SparsityCase{"q8_0", 0.95}, SparsityCase{"q4_k_m", 0.8},
                                           SparsityCase{"bf16", 0.5}));

TEST(SynthSparsity, ShiftedReluUsesTheSameCutOffAsItsShift) {
  ScratchDir dir;
  SynthSpec spec = small_spec("f16");
  spec.activation = Activation::ShiftedRelu;
  spec.target_sparsity = 0.9;
  write_synthetic_model(spec, dir.file("shifted.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("shifted.gguf"));
  EXPECT_EQ(f.get_string("sieve.ffn.activation"), "shifted_relu");
  EXPECT_EQ(f.find("sieve.ffn.relu_threshold"), nullptr);
  const auto shift = f.get_float("sieve.ffn.relu_shift");
  ASSERT_TRUE(shift);
  EXPECT_NEAR(*shift, threshold_for_sparsity(0.9, spec.shape), 1e-6);
  // max(g - shift, 0) is zero exactly when g <= shift.
  EXPECT_NEAR(measured_zero_fraction(f, *shift, 24), 0.9, 0.02);
}

TEST(SynthSparsity, PlainReluZeroesAboutHalf) {
  ScratchDir dir;
  SynthSpec spec = small_spec("f16");
  spec.activation = Activation::Relu;
  write_synthetic_model(spec, dir.file("relu.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("relu.gguf"));
  EXPECT_EQ(f.get_string("sieve.ffn.activation"), "relu");
  EXPECT_EQ(f.find("sieve.ffn.relu_threshold"), nullptr);
  EXPECT_NEAR(*f.get_float("sieve.synth.target_sparsity"), 0.5, 1e-6);
  EXPECT_NEAR(measured_zero_fraction(f, 0.0, 24), 0.5, 0.03);
}

TEST(SynthSparsity, AnExplicitThresholdRecordsItsSparsity) {
  ScratchDir dir;
  SynthSpec spec = small_spec("f16");
  spec.activation = Activation::ReluThreshold;
  spec.relu_threshold = 1.0;
  write_synthetic_model(spec, dir.file("t.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("t.gguf"));
  EXPECT_NEAR(*f.get_float("sieve.ffn.relu_threshold"), 1.0, 1e-7);
  // Pre-activations are N(0, ~1): P(g < 1) = 0.8413.
  const double target = *f.get_float("sieve.synth.target_sparsity");
  EXPECT_NEAR(target, 0.8413, 0.002);
  EXPECT_NEAR(measured_zero_fraction(f, 1.0, 24), target, 0.03);
}

TEST(SynthSparsity, ThresholdAndSparsityAreInverses) {
  const ModelShape shape;
  EXPECT_NEAR(gate_preactivation_stddev(shape), 1.0, 0.001);
  EXPECT_NEAR(threshold_for_sparsity(0.5, shape), 0.0, 1e-9);
  EXPECT_NEAR(threshold_for_sparsity(0.9, shape), 1.28155 * gate_preactivation_stddev(shape), 1e-4);
  for (double s : {0.01, 0.3, 0.5, 0.77, 0.99, 0.999}) {
    EXPECT_NEAR(sparsity_for_threshold(threshold_for_sparsity(s, shape), shape), s, 1e-9);
  }
}

}  // namespace
}  // namespace sieve::synth
