#pragma once
// Small ReLU-sparse models made on the fly (synthetic, and relu260K
// imported from ../shared), packed once per test process, and a test-only
// oracle predictor that computes each layer's gate from the pack's bundles.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "flash/pack_file.h"
#include "flash/pack_writer.h"
#include "import/llama2c.h"
#include "model/activation_stats.h"
#include "sparse/predictor.h"
#include "synth/synth_model.h"
#include "tensor/kernels.h"

namespace sieve::sparse::testing_util {

inline std::filesystem::path temp_folder() {
  const auto folder =
      std::filesystem::path(::testing::TempDir()) / ("sieve_sparse_tests_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  return folder;
}

// Removes the process's folder at exit.
class TempFolderCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(temp_folder(), ignored);
  }
};

struct SynthModel {
  std::string name;
  std::string type = "f32";
  int64_t dim = 128, layers = 2, n_ff = 384;
  double sparsity = 0.8;
  std::optional<tensor::TensorType> neuron_units;  // `sieve pack --neuron-units`
};

// The pack of a synthetic ReLU-threshold model (written on first use).
inline std::filesystem::path synth_pack(const SynthModel& m) {
  static std::map<std::string, std::filesystem::path> done;
  if (auto it = done.find(m.name); it != done.end()) return it->second;
  synth::SynthSpec spec;
  spec.shape.dim = m.dim;
  spec.shape.n_layers = m.layers;
  spec.shape.n_ff = m.n_ff;
  spec.shape.n_heads = 4;
  spec.shape.n_kv_heads = 2;
  spec.shape.context_length = 256;
  spec.type = m.type;
  spec.activation = synth::Activation::ReluThreshold;
  spec.target_sparsity = m.sparsity;
  spec.threads = 2;
  const auto gguf = temp_folder() / (m.name + ".gguf");
  synth::write_synthetic_model(spec, gguf);
  const auto pack = temp_folder() / (m.name + ".sieve");
  flash::PackOptions options;
  options.neuron_units = m.neuron_units;
  flash::pack_model(gguf, pack, options);
  done[m.name] = pack;
  return pack;
}

inline const std::filesystem::path kRelu260K = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "relu260K";

// relu260K as a GGUF and as a pack (imported on first use).
inline std::filesystem::path relu260k(bool pack) {
  static std::filesystem::path gguf_path, pack_path;
  if (gguf_path.empty()) {
    importer::Llama2cImportOptions o;
    o.model_path = kRelu260K / "model_qint80.bin";
    o.tokenizer_path = kRelu260K / "tok1024.bin";
    o.output_path = temp_folder() / "relu260K.gguf";
    o.activation.ffn = "shifted_relu";
    o.activation.ffn_relu_shift = 0.25f;
    o.activation.norm_relu_shift = 1.0f;
    importer::import_llama2c(o);
    gguf_path = o.output_path;
    pack_path = temp_folder() / "relu260K.sieve";
    flash::pack_model(gguf_path, pack_path);
  }
  return pack ? pack_path : gguf_path;
}

// The test oracle: each layer's gate computed from the gate rows of the
// pack's bundles, row by row with the kernel table's vec_dot on x converted
// to the gate's dot type — the values dense mode computes — and the active
// neurons those whose act(gate) is not zero. With `offer_gate` the values are
// offered as exact_gate(). It predicts in row ranges (splits_rows()), and
// `on_rows`, when set, is told of each range before it is predicted.
class OraclePredictor final : public Predictor {
 public:
  OraclePredictor(const flash::PackFile& pack, bool offer_gate)
      : pack_(pack), offer_gate_(offer_gate), gate_(static_cast<size_t>(pack.hparams().n_ff)),
        act_(gate_.size()), converted_(static_cast<size_t>(pack.hparams().dim) * 4 + 64) {}

  void predict(int layer, const float* x, std::vector<int32_t>& active) override {
    active.clear();
    predict_rows(layer, x, 0, pack_.layout(layer).n_ff, active);
  }
  bool splits_rows() const override { return true; }
  void predict_rows(int layer, const float* x, int64_t begin, int64_t end, std::vector<int32_t>& active) override {
    if (on_rows) on_rows(layer, begin);
    const flash::BundleLayout& l = pack_.layout(layer);
    const std::byte* bundles = pack_.gguf().tensor_data(pack_.bundles(layer)).data();
    const tensor::KernelTable& k = tensor::kernels();
    const tensor::TensorType dot = k[l.gate_type].dot_type;
    const void* xq = x;
    if (dot != tensor::TensorType::F32) {
      k[dot].quantize(x, converted_.data(), l.dim);
      xq = converted_.data();
    }
    for (int64_t i = begin; i < end; ++i) {
      const int64_t c = i / l.cluster, j = i % l.cluster;
      const std::byte* row = bundles + static_cast<size_t>(c) * l.bundle_bytes + static_cast<size_t>(j) * l.gate_row_bytes;
      gate_[static_cast<size_t>(i)] = k[l.gate_type].vec_dot(l.dim, row, xq);
    }
    model::gate_activation(pack_.hparams(), gate_.data() + begin, act_.data() + begin, end - begin);
    for (int64_t i = begin; i < end; ++i) {
      if (act_[static_cast<size_t>(i)] != 0.0f) active.push_back(static_cast<int32_t>(i));
    }
    last_layer_ = layer;
  }
  std::span<const float> exact_gate(int layer) const override {
    if (!offer_gate_ || layer != last_layer_) return {};
    return gate_;
  }
  uint64_t resident_bytes() const override { return 0; }
  PredictorKind kind() const override { return PredictorKind::gate; }
  std::string describe() const override { return "test oracle"; }

  std::function<void(int layer, int64_t begin)> on_rows;

 private:
  const flash::PackFile& pack_;
  bool offer_gate_;
  std::vector<float> gate_, act_;
  std::vector<std::byte> converted_;
  int last_layer_ = -1;
};

// A predictor that returns a fixed list of neurons for each call, in order
// (tests of the window); no gate values.
class ScriptedPredictor final : public Predictor {
 public:
  explicit ScriptedPredictor(std::vector<std::vector<int32_t>> script) : script_(std::move(script)) {}
  void predict(int, const float*, std::vector<int32_t>& active) override {
    active = script_.at(next_++ % script_.size());
  }
  uint64_t resident_bytes() const override { return 0; }
  PredictorKind kind() const override { return PredictorKind::lowrank; }
  std::string describe() const override { return "scripted"; }
  void set(std::vector<std::vector<int32_t>> script) {
    script_ = std::move(script);
    next_ = 0;
  }

 private:
  std::vector<std::vector<int32_t>> script_;
  size_t next_ = 0;
};

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = a.size() == b.size() ? 0.0f : INFINITY;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

inline float max_abs(const std::vector<float>& a) {
  float m = 0;
  for (float v : a) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace sieve::sparse::testing_util
