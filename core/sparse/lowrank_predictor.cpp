#include "sparse/lowrank_predictor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "flash/tensor_buffer.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

tensor::MatrixView view_of(const gguf::TensorInfo& t, const std::byte* data) {
  const auto row_elems = static_cast<int64_t>(t.dims[0]);
  return {data, t.type, static_cast<int64_t>(t.dims[1]), row_elems,
          static_cast<size_t>(tensor::bytes_for(t.type, static_cast<uint64_t>(row_elems)))};
}

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

void require_predictor_tensors(const flash::PackFile& pack, PredictorKind kind) {
  const bool powerinfer = kind == PredictorKind::powerinfer;
  if (powerinfer ? pack.has_powerinfer_predictors() : pack.has_lowrank_predictors()) return;
  const std::string name = pack.gguf().path().filename().string();
  throw Error(pack.where() + (powerinfer ? ": the powerinfer predictor needs PowerInfer predictor tensors "
                                           "(blk.N.fc1.weight, blk.N.fc2.weight), which this pack lacks; use "
                                           "--predictor lowrank or gate."
                                         : ": the lowrank predictor needs predictor tensors, which this pack lacks; "
                                           "run `sieve calibrate " + name + " --text FILE` or re-pack a ReLU-family "
                                           "model."));
}

LowRankPredictor::LowRankPredictor(PredictorKind kind, std::string label, std::vector<Layer> layers,
                                   std::shared_ptr<const void> storage, uint64_t storage_bytes, bool relu_between,
                                   ThreadPool& pool)
    : kind_(kind),
      label_(std::move(label)),
      layers_(std::move(layers)),
      storage_(std::move(storage)),
      storage_bytes_(storage_bytes),
      relu_between_(relu_between),
      pool_(pool) {
  int64_t max_rank = 0, n_ff = 0, dim = 0;
  for (const Layer& l : layers_) {
    max_rank = std::max(max_rank, l.a.n_rows);
    n_ff = std::max(n_ff, l.b.n_rows);
    dim = std::max(dim, l.a.row_elems);
  }
  hidden_.resize(static_cast<size_t>(max_rank));
  scores_.resize(static_cast<size_t>(n_ff));
  // One warm-up product sizes the matmul scratch, so predict() never allocates.
  if (!layers_.empty()) {
    std::vector<float> zeros(static_cast<size_t>(dim), 0.0f);
    std::vector<int32_t> active;
    active.reserve(static_cast<size_t>(n_ff));
    for (int l = 0; l < static_cast<int>(layers_.size()); ++l) predict(l, zeros.data(), active);
  }
}

void LowRankPredictor::predict(int layer, const float* x, std::vector<int32_t>& active) {
  active.clear();
  predict_rows(layer, x, 0, layers_.at(static_cast<size_t>(layer)).b.n_rows, active);
}

void LowRankPredictor::predict_rows(int layer, const float* x, int64_t begin, int64_t end,
                                    std::vector<int32_t>& active) {
  const Layer& l = layers_.at(static_cast<size_t>(layer));
  if (begin == 0) {  // A x and the threshold, once per layer and token
    tensor::matvec(l.a, x, hidden_.data(), pool_, scratch_);
    if (relu_between_) {
      for (int64_t i = 0; i < l.a.n_rows; ++i) hidden_[static_cast<size_t>(i)] = std::max(hidden_[static_cast<size_t>(i)], 0.0f);
    }
    threshold_ = l.threshold;
    if (l.margin > 0) {
      double norm = 0;
      for (int64_t j = 0; j < l.a.row_elems; ++j) norm += static_cast<double>(x[j]) * x[j];
      threshold_ -= l.margin * static_cast<float>(std::sqrt(norm));
    }
  }
  const tensor::MatrixView rows{static_cast<const std::byte*>(l.b.data) + static_cast<size_t>(begin) * l.b.row_stride,
                                l.b.type, end - begin, l.b.row_elems, l.b.row_stride};
  tensor::matvec(rows, hidden_.data(), scores_.data() + begin, pool_, scratch_);
  const float t = threshold_;
  for (int64_t i = begin; i < end; ++i) {
    const float score = scores_[static_cast<size_t>(i)];
    if (relu_between_ ? score >= t : score > t) active.push_back(static_cast<int32_t>(i));
  }
}

uint64_t LowRankPredictor::scratch_bytes(int64_t max_rank, int64_t n_ff, int64_t dim) {
  // hidden + scores + the activations converted for the kernels (at most 4 bytes a value).
  return static_cast<uint64_t>(max_rank + n_ff) * sizeof(float) + static_cast<uint64_t>(std::max(dim, max_rank)) * 4 + 256;
}

uint64_t LowRankPredictor::scratch_bytes() const {
  int64_t dim = 0;
  for (const Layer& l : layers_) dim = std::max(dim, l.a.row_elems);
  return scratch_bytes(static_cast<int64_t>(hidden_.size()), static_cast<int64_t>(scores_.size()), dim);
}

std::string LowRankPredictor::describe() const {
  int64_t lo = INT64_MAX, hi = 0;
  for (const Layer& l : layers_) {
    lo = std::min(lo, l.a.n_rows);
    hi = std::max(hi, l.a.n_rows);
  }
  const std::string ranks = lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
  return std::string(to_string(kind_)) + " (" + label_ + "), rank " + ranks + ", " + mib(resident_bytes());
}

std::unique_ptr<LowRankPredictor> LowRankPredictor::load(const flash::PackFile& pack, PredictorKind kind,
                                                         ThreadPool& pool, flash::IoEngine& io) {
  require_predictor_tensors(pack, kind);
  const bool powerinfer = kind == PredictorKind::powerinfer;
  const auto role_a = powerinfer ? flash::PredictorRole::fc1 : flash::PredictorRole::a;
  const auto role_b = powerinfer ? flash::PredictorRole::fc2 : flash::PredictorRole::b;
  std::vector<const gguf::TensorInfo*> tensors;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    tensors.push_back(pack.predictor_tensor(l, role_a));
    tensors.push_back(pack.predictor_tensor(l, role_b));
  }
  auto buffer = std::make_shared<flash::TensorBuffer>(flash::TensorBuffer::read(
      pack.gguf(), io, tensors, 1u << 20, [&](const gguf::TensorInfo& t) { return pack.expected_checksum(t); }));
  const float pi_threshold =
      static_cast<float>(pack.gguf().get_float(flash::pred_keys::kPowerInferThreshold).value_or(0.0));
  std::vector<Layer> layers;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const gguf::TensorInfo& a = *tensors[static_cast<size_t>(2 * l)];
    const gguf::TensorInfo& b = *tensors[static_cast<size_t>(2 * l + 1)];
    const float threshold = powerinfer ? pi_threshold : pack.predictor_thresholds()[static_cast<size_t>(l)];
    const float margin = powerinfer ? 0.0f : pack.predictor_margins()[static_cast<size_t>(l)];
    layers.push_back({view_of(a, buffer->bytes(a).data()), view_of(b, buffer->bytes(b).data()), threshold, margin});
  }
  const uint64_t bytes = buffer->allocated_bytes();
  const std::string label = powerinfer ? "PowerInfer tensors" : pack.predictor_kind().empty() ? "pack" : pack.predictor_kind();
  return std::make_unique<LowRankPredictor>(kind, label, std::move(layers), std::move(buffer), bytes, powerinfer, pool);
}

std::unique_ptr<LowRankPredictor> LowRankPredictor::from_set(const PredictorSet& set, const model::HyperParams& hp,
                                                             ThreadPool& pool) {
  auto storage = std::make_shared<std::vector<LowRankLayer>>(set.layers);
  std::vector<Layer> layers;
  uint64_t bytes = 0;
  for (const LowRankLayer& l : *storage) {
    const size_t f = sizeof(float);
    layers.push_back({{l.a.data(), tensor::TensorType::F32, l.rank, hp.dim, static_cast<size_t>(hp.dim) * f},
                      {l.b.data(), tensor::TensorType::F32, hp.n_ff, l.rank, static_cast<size_t>(l.rank) * f},
                      l.threshold, l.margin});
    bytes += (l.a.size() + l.b.size()) * f;
  }
  return std::make_unique<LowRankPredictor>(PredictorKind::lowrank, set.kind, std::move(layers), std::move(storage), bytes,
                                            false, pool);
}

}  // namespace sieve::sparse
