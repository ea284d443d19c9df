#include "sparse/gate_predictor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "flash/checksum.h"
#include "flash/pack_file.h"
#include "flash/sequential_reader.h"
#include "model/activation_stats.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

constexpr size_t kReadChunkBytes = size_t{8} << 20;
// The smooth gates dip below zero: silu(g) = g * sigmoid(g) has its minimum,
// -0.2785, at g = -1.2785, and gelu its minimum, -0.1700, at g = -0.7525.
// |act| is not monotone there, so an interval of g containing the dip
// reaches its depth.
struct Dip {
  float at = 0.0f;
  float depth = 0.0f;  // 0: the activation has no dip
};

Dip activation_dip(model::FfnActivation activation) {
  switch (activation) {
    case model::FfnActivation::Silu: return {-1.2785f, 0.2785f};
    case model::FfnActivation::Gelu: return {-0.7525f, 0.1700f};
    // SwigluOai: only experts use it, and MoE models are not packed: no dip needed yet.
    default: return {};
  }
}

size_t row_bytes(tensor::TensorType type, int64_t dim) {
  return static_cast<size_t>(tensor::bytes_for(type, static_cast<uint64_t>(dim)));
}

// Copies the gate rows of every bundle of `layer` into `out` (n_ff rows in
// the gate's own type), reading the layer once and checking its checksum.
void read_gate_rows(const flash::PackFile& pack, int64_t layer, flash::SequentialReader& reader, std::byte* out) {
  const flash::BundleLayout& layout = pack.layout(layer);
  const uint64_t bundle = layout.bundle_bytes;
  const uint64_t gate_bytes = static_cast<uint64_t>(layout.cluster) * layout.gate_row_bytes;
  flash::Hasher64 hasher;
  reader.read(pack.bundles_file_offset(layer), layout.layer_bytes(), [&](std::span<const std::byte> bytes, uint64_t pos) {
    hasher.update(bytes);
    const uint64_t end = pos + bytes.size();
    for (uint64_t c = pos / bundle; c < static_cast<uint64_t>(layout.n_clusters) && c * bundle < end; ++c) {
      const uint64_t begin = std::max(pos, c * bundle), stop = std::min(end, c * bundle + gate_bytes);
      if (begin >= stop) continue;
      std::memcpy(out + c * gate_bytes + (begin - c * bundle), bytes.data() + (begin - pos), stop - begin);
    }
  });
  pack.check_digest(pack.bundles(layer), hasher.digest());
}

// Converts the rows to `copy` and records each row's estimated error scale.
void make_small_copy(const model::HyperParams& hp, tensor::TensorType from, const std::byte* rows,
                     GatePredictor::Layer& layer) {
  const tensor::TypeKernels& src = tensor::kernels()[from];
  const tensor::TypeKernels& dst = tensor::kernels()[layer.type];
  const size_t from_bytes = row_bytes(from, hp.dim), to_bytes = row_bytes(layer.type, hp.dim);
  std::vector<float> w(static_cast<size_t>(hp.dim)), back(static_cast<size_t>(hp.dim));
  layer.row_error.resize(static_cast<size_t>(hp.n_ff));
  const double per_value = 1.0 / std::sqrt(static_cast<double>(hp.dim));
  for (int64_t i = 0; i < hp.n_ff; ++i) {
    src.dequantize(rows + static_cast<size_t>(i) * from_bytes, w.data(), hp.dim);
    std::byte* q = layer.rows.data() + static_cast<size_t>(i) * to_bytes;
    dst.quantize(w.data(), q, hp.dim);
    dst.dequantize(q, back.data(), hp.dim);
    double err = 0, norm = 0;
    for (int64_t j = 0; j < hp.dim; ++j) {
      const double d = static_cast<double>(back[static_cast<size_t>(j)]) - w[static_cast<size_t>(j)];
      err += d * d;
      norm += static_cast<double>(w[static_cast<size_t>(j)]) * w[static_cast<size_t>(j)];
    }
    layer.row_error[static_cast<size_t>(i)] = static_cast<float>(std::sqrt(err + norm / (147.0 * 147.0)) * per_value);
  }
}

std::string format_sigmas(float s) {
  char text[16];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(s));
  return text;
}

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

GatePredictor::GatePredictor(const model::HyperParams& hp, bool exact, std::vector<Layer> layers, ThreadPool& pool,
                             float margin_sigmas)
    : hp_(hp), exact_(exact), layers_(std::move(layers)), margin_sigmas_(margin_sigmas), pool_(pool) {
  const auto n = static_cast<size_t>(hp.n_ff);
  gate_.resize(n);
  low_.resize(n);
  high_.resize(n);
  if (!layers_.empty()) {  // sizes the matmul scratch now, so predict() never allocates
    std::vector<float> zeros(static_cast<size_t>(hp.dim), 0.0f);
    std::vector<int32_t> active;
    active.reserve(n);
    predict(0, zeros.data(), active);
    last_layer_ = -1;
  }
}

float GatePredictor::threshold_for(const flash::PackFile& pack, int64_t layer, double target_sparsity) {
  if (target_sparsity <= 0) return 0.0f;
  if (target_sparsity >= 1) throw Error("--sparsity must be below 1 (the fraction of neurons to skip).");
  const std::vector<float>& q = pack.gate_quantiles();
  if (q.empty()) {
    throw Error(pack.where() + ": a target sparsity needs the calibrated gate quantiles, which this pack lacks; run "
                "`sieve calibrate " + pack.gguf().path().filename().string() + " --text FILE` first.");
  }
  const double p = target_sparsity * 100.0;
  const auto i0 = static_cast<size_t>(std::floor(p));
  const size_t i1 = std::min<size_t>(i0 + 1, 100);
  const float* row = q.data() + static_cast<size_t>(layer) * flash::pred_keys::kQuantileCount;
  const double frac = p - static_cast<double>(i0);
  return static_cast<float>(row[i0] + frac * (row[i1] - row[i0]));
}

double GatePredictor::sparsity(const flash::PackFile& pack, const SparseOptions& options) {
  return options.target_sparsity.value_or(pack.calibrated_gate_sparsity());
}

tensor::TensorType GatePredictor::copy_type(const flash::PackFile& pack, int64_t layer, const SparseOptions& options) {
  return options.gate_copy.value_or(pack.layout(layer).gate_type);
}

uint64_t GatePredictor::layer_bytes(const model::HyperParams& hp, tensor::TensorType gate_type, tensor::TensorType copy) {
  const uint64_t rows = flash::align_up(static_cast<uint64_t>(hp.n_ff) * row_bytes(copy, hp.dim), flash::kDefaultIoAlignment);
  return rows + (copy == gate_type ? 0 : static_cast<uint64_t>(hp.n_ff) * sizeof(float));
}

uint64_t GatePredictor::scratch_bytes(const model::HyperParams& hp) {
  return 3 * static_cast<uint64_t>(hp.n_ff) * sizeof(float) + static_cast<uint64_t>(hp.dim) * 4 + 256;
}

std::unique_ptr<GatePredictor> GatePredictor::load(const flash::PackFile& pack, const model::HyperParams& hp,
                                                   const SparseOptions& options, ThreadPool& pool, flash::IoEngine& io,
                                                   float margin_sigmas) {
  std::vector<Layer> layers;
  bool exact = true;
  // One reader and one buffer for the original rows serve every layer: a
  // fresh pair per layer left freed holes the allocator kept, and peak
  // memory rose well above the plan.
  flash::SequentialReader reader(io, kReadChunkBytes);
  flash::AlignedBuffer original;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const tensor::TensorType from = pack.layout(l).gate_type;
    Layer layer;
    layer.type = copy_type(pack, l, options);
    layer.threshold = threshold_for(pack, l, sparsity(pack, options));
    const uint64_t exact_bytes = static_cast<uint64_t>(hp.n_ff) * row_bytes(from, hp.dim);
    if (layer.type == from) {
      layer.rows = flash::AlignedBuffer(exact_bytes);
      read_gate_rows(pack, l, reader, layer.rows.data());
    } else {
      const tensor::TypeKernels& k = tensor::kernels()[layer.type];
      if (k.quantize == nullptr || k.vec_dot == nullptr || !tensor::is_whole_blocks(layer.type, static_cast<uint64_t>(hp.dim))) {
        throw Error(pack.where() + ": cannot keep the gate as " + std::string(tensor::type_name(layer.type)) +
                    " (rows of " + std::to_string(hp.dim) + " values); use --gate-copy q8_0, q4_0 or none.");
      }
      exact = false;
      if (original.size() < exact_bytes) original = flash::AlignedBuffer(exact_bytes);
      read_gate_rows(pack, l, reader, original.data());
      layer.rows = flash::AlignedBuffer(static_cast<size_t>(hp.n_ff) * row_bytes(layer.type, hp.dim));
      make_small_copy(hp, from, original.data(), layer);
    }
    layers.push_back(std::move(layer));
  }
  return std::make_unique<GatePredictor>(hp, exact, std::move(layers), pool, margin_sigmas);
}

void GatePredictor::predict(int layer, const float* x, std::vector<int32_t>& active) {
  active.clear();
  predict_rows(layer, x, 0, hp_.n_ff, active);
}

void GatePredictor::predict_rows(int layer, const float* x, int64_t begin, int64_t end, std::vector<int32_t>& active) {
  const Layer& l = layers_.at(static_cast<size_t>(layer));
  const size_t stride = row_bytes(l.type, hp_.dim);
  const tensor::MatrixView view{l.rows.data() + static_cast<size_t>(begin) * stride, l.type, end - begin, hp_.dim, stride};
  tensor::matvec(view, x, gate_.data() + begin, pool_, scratch_);
  last_layer_ = layer;
  const auto first = static_cast<size_t>(begin), last = static_cast<size_t>(end);
  const int64_t n = end - begin;
  const float t = l.threshold;
  if (l.row_error.empty()) {
    model::gate_activation(hp_, gate_.data() + begin, low_.data() + begin, n);
    for (size_t i = first; i < last; ++i) {
      if (std::abs(low_[i]) > t) active.push_back(static_cast<int32_t>(i));
    }
    return;
  }
  if (begin == 0) {  // once per layer and token
    double norm = 0;
    for (int64_t j = 0; j < hp_.dim; ++j) norm += static_cast<double>(x[j]) * x[j];
    margin_scale_ = static_cast<float>(margin_sigmas_ * std::sqrt(norm));
  }
  for (size_t i = first; i < last; ++i) {
    const float m = margin_scale_ * l.row_error[i];
    low_[i] = gate_[i] - m;
    high_[i] = gate_[i] + m;
  }
  const Dip dip = activation_dip(hp_.ffn_activation);
  for (size_t i = first; i < last; ++i) {  // the dip, before low_ is overwritten
    if (dip.depth > t && low_[i] < dip.at && high_[i] > dip.at) low_[i] = dip.at;
  }
  model::gate_activation(hp_, low_.data() + begin, low_.data() + begin, n);
  model::gate_activation(hp_, high_.data() + begin, high_.data() + begin, n);
  for (size_t i = first; i < last; ++i) {
    if (std::max(std::abs(low_[i]), std::abs(high_[i])) > t) active.push_back(static_cast<int32_t>(i));
  }
}

std::span<const float> GatePredictor::exact_gate(int layer) const {
  if (!exact_ || layer != last_layer_) return {};
  return gate_;
}

uint64_t GatePredictor::resident_bytes() const {
  uint64_t total = scratch_bytes(hp_);
  for (const Layer& l : layers_) total += l.rows.size() + l.row_error.size() * sizeof(float);
  return total;
}

std::string GatePredictor::describe() const {
  const tensor::TensorType type = layers_.empty() ? tensor::TensorType::F32 : layers_.front().type;
  const std::string what = exact_ ? "exact " + std::string(tensor::type_name(type)) + " gate"
                                  : std::string(tensor::type_name(type)) + " copy of the gate, margin " +
                                        format_sigmas(margin_sigmas_) + " sigma";
  float lo = 1e30f, hi = -1e30f;
  for (const Layer& l : layers_) {
    lo = std::min(lo, l.threshold);
    hi = std::max(hi, l.threshold);
  }
  char thresholds[64];
  if (lo == hi) {
    std::snprintf(thresholds, sizeof thresholds, "threshold %.4g", static_cast<double>(lo));
  } else {
    std::snprintf(thresholds, sizeof thresholds, "thresholds %.4g-%.4g", static_cast<double>(lo), static_cast<double>(hi));
  }
  return "gate (" + what + "), " + thresholds + ", " + mib(resident_bytes());
}

}  // namespace sieve::sparse
