#include "sparse/predictor_set.h"

#include <algorithm>
#include <cstring>

#include "flash/pack_format.h"
#include "tensor/fp16.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

std::vector<std::byte> encode(const std::vector<float>& values, tensor::TensorType type) {
  std::vector<std::byte> out;
  if (type == tensor::TensorType::F32) {
    out.resize(values.size() * sizeof(float));
    std::memcpy(out.data(), values.data(), out.size());
    return out;
  }
  out.resize(values.size() * sizeof(uint16_t));
  for (size_t i = 0; i < values.size(); ++i) {
    const uint16_t h = tensor::fp32_to_fp16(values[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

gguf::Value f32_array(const std::vector<float>& values) {
  return gguf::Value::f32_array(std::vector<double>(values.begin(), values.end()));
}

}  // namespace

tensor::TensorType predictor_storage_type(const model::HyperParams& hp) {
  return hp.dim < 256 ? tensor::TensorType::F32 : tensor::TensorType::F16;
}

void round_to_storage(LowRankLayer& layer, tensor::TensorType type) {
  if (type != tensor::TensorType::F16) return;
  for (auto* v : {&layer.a, &layer.b}) {
    for (float& x : *v) x = tensor::fp16_to_fp32(tensor::fp32_to_fp16(x));
  }
}

uint64_t lowrank_layer_bytes(const model::HyperParams& hp, int64_t rank) {
  const uint64_t bytes = predictor_storage_type(hp) == tensor::TensorType::F32 ? 4 : 2;
  return static_cast<uint64_t>(rank) * static_cast<uint64_t>(hp.dim + hp.n_ff) * bytes;
}

flash::PackExtras to_pack_extras(const PredictorSet& set, const model::HyperParams& hp) {
  namespace keys = flash::pred_keys;
  flash::PackExtras extras;
  const auto n_layers = static_cast<size_t>(hp.n_layers);
  if (!set.layers.empty()) {
    if (set.layers.size() != n_layers) throw Error("predictors: expected one low-rank predictor per layer.");
    const tensor::TensorType type = predictor_storage_type(hp);
    std::vector<int64_t> ranks;
    std::vector<float> thresholds, margins;
    for (size_t l = 0; l < n_layers; ++l) {
      const LowRankLayer& layer = set.layers[l];
      const auto rank = static_cast<uint64_t>(layer.rank);
      if (layer.rank < 1 || layer.a.size() != rank * static_cast<uint64_t>(hp.dim) ||
          layer.b.size() != rank * static_cast<uint64_t>(hp.n_ff)) {
        throw Error("predictors: layer " + std::to_string(l) + " has factors that do not fit the model.");
      }
      const auto L = static_cast<int64_t>(l);
      extras.tensors.push_back({flash::predictor_tensor_name(L, flash::PredictorRole::a), type,
                                {static_cast<uint64_t>(hp.dim), rank}, encode(layer.a, type)});
      extras.tensors.push_back({flash::predictor_tensor_name(L, flash::PredictorRole::b), type,
                                {rank, static_cast<uint64_t>(hp.n_ff)}, encode(layer.b, type)});
      ranks.push_back(layer.rank);
      thresholds.push_back(layer.threshold);
      margins.push_back(layer.margin);
    }
    extras.metadata.push_back({keys::kKind, gguf::Value::string(set.kind)});
    extras.metadata.push_back({keys::kRanks, gguf::Value::i32_array(ranks)});
    extras.metadata.push_back({keys::kThresholds, f32_array(thresholds)});
    if (std::any_of(margins.begin(), margins.end(), [](float m) { return m != 0; })) {
      extras.metadata.push_back({keys::kMargins, f32_array(margins)});
    }
  }
  if (!set.gate_quantiles.empty()) {
    if (set.gate_quantiles.size() != n_layers * keys::kQuantileCount) throw Error("predictors: bad quantile table.");
    extras.metadata.push_back({keys::kGateQuantiles, f32_array(set.gate_quantiles)});
  }
  if (!set.hot.empty()) {
    if (set.hot.size() != n_layers * static_cast<size_t>(hp.n_ff)) throw Error("predictors: bad frequency table.");
    extras.metadata.push_back({keys::kHot, f32_array(set.hot)});
  }
  if (set.tokens > 0) {
    extras.metadata.push_back({keys::kTokens, gguf::Value::u32(static_cast<uint32_t>(set.tokens))});
    // Placeholders for the fidelity `sieve calibrate` measures on the written
    // pack (calibrated_fidelity.h); they also clear a figure of older predictors.
    extras.metadata.push_back({keys::kFidelityTokens, gguf::Value::u32(0)});
    extras.metadata.push_back({keys::kFidelityTop1, gguf::Value::f32(0)});
    extras.metadata.push_back({keys::kFidelityKl, gguf::Value::f32(0)});
    extras.metadata.push_back({keys::kFidelityTarget, gguf::Value::f32(0)});
    // The gate predictor's sparsity `sieve calibrate --fidelity` chooses: 0
    // (skip nothing) until a search stores its choice, so a sparsity chosen
    // with older quantiles never outlives them.
    extras.metadata.push_back({keys::kGateSparsity, gguf::Value::f32(0)});
    extras.metadata.push_back({keys::kGateFidelityTokens, gguf::Value::u32(0)});
    extras.metadata.push_back({keys::kGateFidelityTop1, gguf::Value::f32(0)});
    extras.metadata.push_back({keys::kGateFidelityKl, gguf::Value::f32(0)});
  }
  if (set.recall > 0) extras.metadata.push_back({keys::kRecall, gguf::Value::f32(static_cast<float>(set.recall))});
  return extras;
}

}  // namespace sieve::sparse
