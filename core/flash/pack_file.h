#pragma once
// Opens and validates a Sieve pack (pack_format.h) without touching its
// tensor data: the GGUF structure, the pack version, the per-layer types and
// bundle geometry against the model's hyper-parameters, and the checksum
// table. Data checksums are checked where the data is read: the resident
// section when it is loaded, bundles by verify() (`sieve pack --verify`)
// and by the streaming engine's spot checks.
//
// Optional predictor tensors and sieve.pred.* metadata (pack_format.h) are
// validated too when present: every layer must have them, with shapes that
// fit the model.
//
// Every problem is a sieve::Error naming the file, e.g.
//   "m.sieve: tensor 'blk.2.ffn_bundles' has dims [12288, 5632], expected
//    [12352, 5632] for this model's layer 2 (is the pack from another model?)."

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/neuron_units.h"
#include "flash/pack_format.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"

namespace sieve::flash {

class PackFile {
 public:
  // Whether an opened GGUF file is a Sieve pack (has sieve.pack.version).
  static bool is_pack(const gguf::GgufFile& file);

  static PackFile open(const std::filesystem::path& path);
  // Validates an already opened file, which must outlive the pack.
  static PackFile over(const gguf::GgufFile& file);

  const gguf::GgufFile& gguf() const { return *file_; }
  const model::HyperParams& hparams() const { return hp_; }
  const std::string& where() const { return where_; }
  int64_t n_layers() const { return hp_.n_layers; }

  const BundleLayout& layout(int64_t layer) const { return layouts_[static_cast<size_t>(layer)]; }
  const gguf::TensorInfo& bundles(int64_t layer) const { return *bundle_tensors_[static_cast<size_t>(layer)]; }
  uint64_t bundles_file_offset(int64_t layer) const { return file_->tensor_file_offset(bundles(layer)); }
  // Per-neuron units (neuron_units.h): every layer has them, or none does.
  bool has_neuron_units() const { return !unit_tensors_.empty(); }
  const NeuronUnitLayout& neuron_unit_layout(int64_t layer) const { return unit_layouts_[static_cast<size_t>(layer)]; }
  const gguf::TensorInfo& neuron_units(int64_t layer) const { return *unit_tensors_[static_cast<size_t>(layer)]; }
  uint64_t neuron_units_file_offset(int64_t layer) const { return file_->tensor_file_offset(neuron_units(layer)); }
  // Every tensor but the bundles, the units and the predictor tensors: embeddings,
  // attention, norms, output head.
  const std::vector<const gguf::TensorInfo*>& resident_tensors() const { return resident_; }

  // Predictor tensors (blk.L.ffn_pred_a/b, blk.L.fc1/fc2.weight), validated.
  const std::vector<const gguf::TensorInfo*>& predictor_tensors() const { return predictor_; }
  // The tensor, or null when the pack has none of that role.
  const gguf::TensorInfo* predictor_tensor(int64_t layer, PredictorRole role) const;
  // Low-rank predictors (sieve.pred.ranks / thresholds and the A, B tensors).
  bool has_lowrank_predictors() const { return !pred_ranks_.empty(); }
  const std::vector<int64_t>& predictor_ranks() const { return pred_ranks_; }
  const std::vector<float>& predictor_thresholds() const { return pred_thresholds_; }
  // sieve.pred.margins, or zeros when absent.
  const std::vector<float>& predictor_margins() const { return pred_margins_; }
  // "svd", "trained" (sieve.pred.kind), or "" when absent.
  const std::string& predictor_kind() const { return pred_kind_; }
  // PowerInfer's fc1 / fc2 tensors for every layer.
  bool has_powerinfer_predictors() const { return has_powerinfer_; }
  // sieve.pred.gate_quantiles: n_layers x 101 values, or empty.
  const std::vector<float>& gate_quantiles() const { return gate_quantiles_; }
  // sieve.pred.hot: n_layers x n_ff activation frequencies, or empty.
  const std::vector<float>& neuron_frequencies() const { return hot_; }
  // sieve.pred.gate_sparsity: the fraction of neurons the gate predictor
  // skips by default, chosen by `sieve calibrate --fidelity`; 0 when absent.
  double calibrated_gate_sparsity() const { return gate_sparsity_; }
  uint64_t resident_tensor_bytes() const;

  // The checksum recorded for a tensor of this file.
  uint64_t expected_checksum(const gguf::TensorInfo& tensor) const;
  // Hashes `bytes` and throws sieve::Error naming the tensor on a mismatch.
  void check(const gguf::TensorInfo& tensor, std::span<const std::byte> bytes) const;
  // Throws the mismatch error for a checksum computed elsewhere.
  void check_digest(const gguf::TensorInfo& tensor, uint64_t digest) const {
    if (digest != expected_checksum(tensor)) fail_checksum(tensor, digest);
  }

  // Reads every tensor with direct I/O and checks its checksum; throws on
  // the first mismatch. progress(done, total) after each chunk.
  void verify(const std::function<void(uint64_t done, uint64_t total)>& progress = {}) const;

 private:
  PackFile(std::unique_ptr<gguf::GgufFile> owned, const gguf::GgufFile& file);
  void validate();
  void validate_layer(int64_t layer, const std::vector<int64_t>& types);
  void validate_neuron_units();
  void validate_predictors();
  void validate_lowrank();
  void validate_powerinfer();
  void validate_calibration();
  void validate_fidelity_keys();
  void require_predictor_shape(int64_t layer, PredictorRole role, uint64_t rows_elems, uint64_t n_rows) const;
  [[noreturn]] void fail_checksum(const gguf::TensorInfo& tensor, uint64_t got) const;

  std::unique_ptr<gguf::GgufFile> owned_;  // null when the caller owns the file
  const gguf::GgufFile* file_;
  std::string where_;
  model::HyperParams hp_;
  std::vector<BundleLayout> layouts_;
  std::vector<const gguf::TensorInfo*> bundle_tensors_;
  std::vector<NeuronUnitLayout> unit_layouts_;
  std::vector<const gguf::TensorInfo*> unit_tensors_;
  std::vector<const gguf::TensorInfo*> resident_;
  std::vector<const gguf::TensorInfo*> predictor_;
  std::vector<int64_t> pred_ranks_;
  std::vector<float> pred_thresholds_;
  std::vector<float> pred_margins_;
  std::string pred_kind_;
  bool has_powerinfer_ = false;
  std::vector<float> gate_quantiles_;
  std::vector<float> hot_;
  double gate_sparsity_ = 0;
  std::vector<uint64_t> checksums_;  // per tensor, in tensor-table order
};

}  // namespace sieve::flash
