#include "sparse/sparse_setup.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "flash/io/aligned_buffer.h"
#include "flash/io/disk_profile.h"
#include "sparse/gate_predictor.h"
#include "sparse/predictor_factory.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

constexpr double kDefaultReluActive = 0.25;
constexpr double kHotFrequency = 0.4;  // as SparseFeedForward pins

bool relu_family(const model::HyperParams& hp) { return model::exact_zeros(hp.ffn_activation); }

struct ActiveEstimate {
  std::vector<double> per_layer;
  std::string source;
};

ActiveEstimate active_fraction(const flash::PackFile& pack, const SparseOptions& options) {
  const model::HyperParams& hp = pack.hparams();
  const auto n = static_cast<size_t>(pack.n_layers());
  if (const double skip = GatePredictor::sparsity(pack, options); options.predictor == PredictorKind::gate && skip > 0) {
    return {std::vector<double>(n, 1.0 - skip), options.target_sparsity ? "the target sparsity" : "the calibrated sparsity"};
  }
  if (!pack.neuron_frequencies().empty()) {
    ActiveEstimate e{{}, "calibration"};
    for (size_t l = 0; l < n; ++l) {
      const std::vector<float> f = neuron_frequencies(pack, static_cast<int>(l));
      e.per_layer.push_back(std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(std::max<size_t>(1, f.size())));
    }
    return e;
  }
  if (const auto target = pack.gguf().get_float("sieve.synth.target_sparsity"); target && relu_family(hp)) {
    return {std::vector<double>(n, std::clamp(1.0 - *target, 0.0, 1.0)), "the synthetic model's target sparsity"};
  }
  if (relu_family(hp)) return {std::vector<double>(n, kDefaultReluActive), "default for ReLU-family models"};
  if (options.predictor == PredictorKind::gate) {
    return {std::vector<double>(n, 1.0), "SwiGLU without a target sparsity: every neuron"};
  }
  return {std::vector<double>(n, 0.5), "default"};
}

int64_t calibrated_hot_units(const flash::PackFile& pack, int64_t layer, const UnitGeometry& l) {
  const std::vector<float> f = neuron_frequencies(pack, static_cast<int>(layer));
  if (f.empty()) return -1;
  int64_t hot = 0;
  for (int64_t u = 0; u < l.n_units; ++u) {
    float most = 0;
    for (int64_t j = 0; j < l.cluster; ++j) most = std::max(most, f[static_cast<size_t>(u * l.cluster + j)]);
    if (most >= kHotFrequency) ++hot;
  }
  return hot;
}

std::string predictor_text(const flash::PackFile& pack, const SparseOptions& options) {
  std::string text = to_string(options.predictor);
  if (options.predictor == PredictorKind::gate) {
    const tensor::TensorType copy = GatePredictor::copy_type(pack, 0, options);
    text += copy == pack.layout(0).gate_type ? ", exact " : ", ";
    text += std::string(tensor::type_name(copy)) + " copy of the gate";
    const double skip = GatePredictor::sparsity(pack, options);
    if (skip > 0) {
      text += ", skipping " + std::to_string(static_cast<int>(skip * 100 + 0.5)) + "%";
      if (!options.target_sparsity) text += " (calibrated)";
    }
  }
  return text;
}

std::vector<flash::BundleLayout> all_layouts(const flash::PackFile& pack) {
  std::vector<flash::BundleLayout> layouts;
  for (int64_t l = 0; l < pack.n_layers(); ++l) layouts.push_back(pack.layout(l));
  return layouts;
}

// Where each layer's units are (stores not sized yet).
std::vector<SparseLayer> sparse_layers(const flash::PackFile& pack, const SparsePackRequest& r) {
  const SparseOptions& options = r.options;
  std::vector<SparseLayer> layers;
  const bool units = options.neuron_units && pack.has_neuron_units();
  // Sector reads need an alignment below a page; buffered files (1) and
  // page-aligned ones read whole units.
  const bool sectors = options.sector_unit_reads && r.io_alignment >= 512 && r.io_alignment < flash::kDefaultIoAlignment;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    SparseLayer layer;
    layer.layout = pack.layout(l);
    layer.file_offset = pack.bundles_file_offset(l);
    if (units) {
      layer.neuron_units = pack.neuron_unit_layout(l);
      layer.units_file_offset = pack.neuron_units_file_offset(l);
      if (sectors) layer.unit_read_alignment = r.io_alignment;
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace

bool units_carry_gate_rows(const flash::PackFile& pack, const SparseOptions& options) {
  if (options.predictor != PredictorKind::gate) return true;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    if (GatePredictor::copy_type(pack, l, options) != pack.layout(l).gate_type) return true;
  }
  return false;
}

SparsePlan plan_sparse_pack(const flash::PackFile& pack, const SparsePackRequest& r) {
  const model::HyperParams& hp = pack.hparams();
  const std::vector<flash::BundleLayout> layouts = all_layouts(pack);
  const std::vector<SparseLayer> layers = sparse_layers(pack, r);
  const bool gate_rows = units_carry_gate_rows(pack, r.options);
  SparsePlanInputs in;
  in.budget = r.budget;
  in.window = r.options.window;
  in.pin_hot = r.options.pin_hot;
  in.gate_rows = gate_rows;
  std::unique_ptr<flash::DiskProfile> profile;
  if (!r.disk_profile.empty()) profile = std::make_unique<flash::DiskProfile>(flash::DiskProfile::load(r.disk_profile));
  if (r.options.merge_gap) {
    in.merge_gap = *r.options.merge_gap;
    in.merge_source = "--merge-gap";
  } else {
    in.merge_gap = choose_merge_gap(profile.get(), r.queue_depth);
    in.merge_source = profile ? "by the probe-disk profile " + r.disk_profile : "default; --disk-profile tunes it";
  }

  in.fixed = r.fixed;
  for (flash::MemoryItem& item : in.fixed) {
    if (item.what == "activations and scratch") item.bytes += SparseFeedForward::scratch_bytes(hp, r.threads, r.max_batch, layouts);
  }
  in.fixed.push_back({"I/O staging", SparseFeedForward::staging_bytes(layers, gate_rows, in.merge_gap)});

  const std::vector<uint64_t> predictor = predictor_layer_bytes(pack, hp, r.options);
  in.predictor_bytes = std::accumulate(predictor.begin(), predictor.end(), uint64_t{0});
  in.predictor_text = predictor_text(pack, r.options);

  const ActiveEstimate active = active_fraction(pack, r.options);
  in.active_source = active.source;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const UnitGeometry units = SparseFeedForward::decode_units(layers[static_cast<size_t>(l)], gate_rows);
    SparseLayerNeeds needs;
    needs.n_units = units.n_units;
    needs.cluster = units.cluster;
    needs.unit_bytes = units.bytes;
    needs.per_neuron_units = units.per_neuron_units;
    needs.active_fraction = active.per_layer[static_cast<size_t>(l)];
    needs.hot_units = r.options.pin_hot ? calibrated_hot_units(pack, l, units) : 0;
    in.layers.push_back(needs);
  }
  return plan_sparse_memory(in, pack.where());
}

namespace {

// Neurons the plan's stores hold, over every layer.
int64_t stored_neurons(const SparsePlan& plan) {
  int64_t neurons = 0;
  for (size_t l = 0; l < plan.layers.size(); ++l) neurons += plan.layers[l].capacity * plan.inputs.layers[l].cluster;
  return neurons;
}

std::optional<SparsePlan> feasible_plan(const flash::PackFile& pack, const SparsePackRequest& request) {
  try {
    return plan_sparse_pack(pack, request);
  } catch (const Error&) {  // below this plan's minimum
    return std::nullopt;
  }
}

}  // namespace

SparseOptions choose_gate_copy(const flash::PackFile& pack, const SparsePackRequest& r) {
  SparseOptions exact = r.options;
  if (exact.predictor != PredictorKind::gate || exact.gate_copy || exact.exact_gate) return exact;
  exact.exact_gate = true;
  constexpr tensor::TensorType kCopy = tensor::TensorType::Q8_0;
  const model::HyperParams& hp = pack.hparams();
  bool narrower = true;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const auto dim = static_cast<uint64_t>(hp.dim);
    narrower = narrower && tensor::bytes_for(kCopy, dim) < tensor::bytes_for(pack.layout(l).gate_type, dim);
  }
  if (r.budget == UINT64_MAX || !narrower) return exact;
  SparsePackRequest with_exact = r;
  with_exact.options = exact;
  const std::optional<SparsePlan> exact_plan = feasible_plan(pack, with_exact);
  if (exact_plan && !exact_plan->shrunk) return exact;  // the window fits beside the exact gate
  SparseOptions copy = r.options;
  copy.gate_copy = kCopy;
  SparsePackRequest with_copy = r;
  with_copy.options = copy;
  const std::optional<SparsePlan> copy_plan = feasible_plan(pack, with_copy);
  if (copy_plan && (!exact_plan || stored_neurons(*copy_plan) > stored_neurons(*exact_plan))) return copy;
  // Neither fits: the copy's plan, whose refusal names the smaller minimum.
  return exact_plan ? exact : copy;
}

std::unique_ptr<SparseFeedForward> build_sparse_ffn(const flash::PackFile& pack, const SparsePlan& plan,
                                                    const SparsePackRequest& r, ThreadPool& pool, flash::IoEngine& io,
                                                    Predictor& predictor, uint32_t max_read) {
  std::vector<SparseLayer> layers = sparse_layers(pack, r);
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    SparseLayer& layer = layers[static_cast<size_t>(l)];
    layer.capacity = plan.layers[static_cast<size_t>(l)].capacity;
    layer.hot_capacity = plan.layers[static_cast<size_t>(l)].hot_capacity;
    if (r.options.pin_hot) layer.frequency = neuron_frequencies(pack, static_cast<int>(l));
  }
  SparseFfnOptions o;
  o.pin_hot = r.options.pin_hot;
  o.gate_rows = plan.inputs.gate_rows;
  o.merge_gap = plan.inputs.merge_gap;
  o.max_read = max_read;
  o.max_batch = r.max_batch;
  return std::make_unique<SparseFeedForward>(pack.hparams(), pool, io, predictor, std::move(layers), o);
}

}  // namespace sieve::sparse
