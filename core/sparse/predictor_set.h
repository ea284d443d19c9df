#pragma once
// Predictors and calibration figures in memory, as `sieve pack` (SVD) and
// `sieve calibrate` (trained) make them, and their form in a pack
// (pack_format.h: blk.L.ffn_pred_a / _b and the sieve.pred.* keys).

#include <cstdint>
#include <string>
#include <vector>

#include "flash/pack_writer.h"
#include "model/hparams.h"
#include "tensor/tensor_type.h"

namespace sieve::sparse {

// score = B (A x); neuron i active when score_i > threshold - margin * |x|.
struct LowRankLayer {
  int64_t rank = 0;
  std::vector<float> a;  // rank x dim
  std::vector<float> b;  // n_ff x rank
  float threshold = 0;
  float margin = 0;  // SVD predictors: the safety margin per unit of |x|
};

struct PredictorSet {
  std::string kind;                   // "svd" or "trained"; "" = no low-rank predictors
  std::vector<LowRankLayer> layers;   // empty or one per layer
  std::vector<float> gate_quantiles;  // empty or n_layers x 101
  std::vector<float> hot;             // empty or n_layers x n_ff
  uint64_t tokens = 0;                // calibration tokens (0 for SVD)
  double recall = 0;                  // trained: the recall target the thresholds are set for
};

// The type A and B are stored in: F16, or F32 for tiny models (dim < 256),
// whose predictors are a few KiB anyway.
tensor::TensorType predictor_storage_type(const model::HyperParams& hp);
// Rounds A and B to what the storage type keeps (so thresholds set in memory
// hold for the stored predictor).
void round_to_storage(LowRankLayer& layer, tensor::TensorType type);
// Bytes one layer's A and B take in the pack.
uint64_t lowrank_layer_bytes(const model::HyperParams& hp, int64_t rank);

// The tensors and keys that put `set` into a pack (flash::rewrite_pack or
// PackOptions::extras). Throws sieve::Error when a layer's shapes do not fit hp.
flash::PackExtras to_pack_extras(const PredictorSet& set, const model::HyperParams& hp);

}  // namespace sieve::sparse
