#pragma once
// The gate-resident predictor (predictor.h): each layer's gate matrix kept in
// DRAM and computed for every token; neuron i is active when
// |act(gate_i)| > the layer's threshold (act = the model's FFN activation,
// model::gate_activation, so ReLU, FatReLU and shifted ReLU all work).
//
//   exact copy   the gate rows in their own type, read out of the bundles:
//                the gate values equal dense mode's bit for bit and are
//                offered through exact_gate(). Threshold 0 on a ReLU-family
//                model is the oracle: exactly the non-zero neurons.
//   small copy   the rows converted to a smaller type (Q8_0, Q4_0) with our
//                quantizers. The computed gate g' differs from the real g by
//                an error whose size is estimated per neuron as
//                  sigma_i = sqrt(|dw_i|^2 + (|w_i| / 147)^2) * |x| / sqrt(dim)
//                (dw_i the row's quantization error; the second term the
//                activation's own Q8_0 rounding); a neuron is active when
//                |act| could pass the threshold anywhere within
//                g' +- kMarginSigmas * sigma_i (a safety margin: near-threshold
//                neurons are loaded rather than missed).
//
// Thresholds: target sparsity 0 -> 0; otherwise the layer's calibrated
// quantile of |act(gate)| at 100 * target_sparsity (sieve.pred.gate_quantiles,
// linear interpolation).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "model/hparams.h"
#include "sparse/predictor.h"
#include "sparse/sparse_options.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::flash {
class PackFile;
class IoEngine;
}  // namespace sieve::flash

namespace sieve::sparse {

inline constexpr float kMarginSigmas = 4.0f;

class GatePredictor final : public Predictor {
 public:
  struct Layer {
    tensor::TensorType type = tensor::TensorType::F32;  // of the copy
    flash::AlignedBuffer rows;      // n_ff rows of `type`
    std::vector<float> row_error;   // per neuron sigma_i / |x| (empty for the exact copy)
    float threshold = 0;
  };

  // exact: every layer holds the gate rows in their own type.
  GatePredictor(const model::HyperParams& hp, bool exact, std::vector<Layer> layers, ThreadPool& pool,
                float margin_sigmas = kMarginSigmas);

  // Reads every layer's gate rows out of its bundles with direct I/O
  // (checking the layer's checksum) and keeps them in the copy type.
  static std::unique_ptr<GatePredictor> load(const flash::PackFile& pack, const model::HyperParams& hp,
                                             const SparseOptions& options, ThreadPool& pool, flash::IoEngine& io,
                                             float margin_sigmas = kMarginSigmas);

  void predict(int layer, const float* x, std::vector<int32_t>& active) override;
  bool splits_rows() const override { return true; }
  void predict_rows(int layer, const float* x, int64_t begin, int64_t end, std::vector<int32_t>& active) override;
  std::span<const float> exact_gate(int layer) const override;
  uint64_t resident_bytes() const override;
  PredictorKind kind() const override { return PredictorKind::gate; }
  std::string describe() const override;

  // The copy's type: options.gate_copy, or the gate's own type.
  static tensor::TensorType copy_type(const flash::PackFile& pack, int64_t layer, const SparseOptions& options);
  // The DRAM one layer takes (rows, plus the margins of a small copy).
  static uint64_t layer_bytes(const model::HyperParams& hp, tensor::TensorType gate_type, tensor::TensorType copy);
  static uint64_t scratch_bytes(const model::HyperParams& hp);
  // The threshold for a target sparsity (throws when uncalibrated).
  static float threshold_for(const flash::PackFile& pack, int64_t layer, double target_sparsity);
  // The fraction to skip: options.target_sparsity when given, else the one
  // `sieve calibrate --fidelity` stored in the pack, else 0.
  static double sparsity(const flash::PackFile& pack, const SparseOptions& options);

 private:
  model::HyperParams hp_;
  bool exact_;
  std::vector<Layer> layers_;
  float margin_sigmas_;
  ThreadPool& pool_;
  std::vector<float> gate_, low_, high_;
  int last_layer_ = -1;
  float margin_scale_ = 0;  // of the current layer and token: margin_sigmas * |x|
  tensor::MatmulScratch scratch_;
};

}  // namespace sieve::sparse
