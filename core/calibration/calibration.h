#pragma once
// `sieve calibrate`, the measuring half: runs the dense model (a pack in mmap
// mode: output identical to dense) on a text or on tokens it generates itself,
// and records for every layer the FFN inputs (ActivationSite::FfnInput) and
// which neurons fired (ActivationSite::FfnGate != 0), plus the distribution
// of |act(gate)| (quantiles) and each neuron's firing frequency.
//
// "Fired" is act(gate) != 0 for ReLU-family activations. For SiLU, where
// every neuron is non-zero, a neuron counts as fired when |act| exceeds the
// layer's median |act| as first seen (the first batch), so frequencies still
// rank hot neurons.

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "model/activation_stats.h"
#include "model/hparams.h"

namespace sieve::sparse {

// What was recorded for one layer, token-major.
struct LayerRecord {
  std::vector<float> inputs;   // n_tokens x dim
  std::vector<uint8_t> fired;  // n_tokens x n_ff, 0 or 1
  std::vector<float> samples;  // a reservoir of |act(gate)| values, for quantiles
  std::vector<uint64_t> fire_counts;  // per neuron, over every token seen
  uint64_t tokens_seen = 0;    // tokens counted in fire_counts (may exceed the recorded ones)
  uint64_t values_seen = 0;    // gate values offered to the reservoir
  float fire_level = 0;        // |act| above which a neuron counts as fired
};

class ActivationRecorder final : public model::ActivationObserver {
 public:
  // Records at most max_tokens tokens' inputs and firing per layer (later
  // tokens still count towards quantiles and frequencies).
  ActivationRecorder(const model::HyperParams& hp, int64_t max_tokens, uint64_t seed = 7);
  void observe(model::ActivationSite site, int layer, const float* values, int64_t n_tokens, int64_t width) override;

  const model::HyperParams& hparams() const { return hp_; }
  int64_t recorded_tokens(int layer) const;
  int64_t recorded_tokens() const;  // the minimum over the layers
  const LayerRecord& layer(int l) const { return layers_[static_cast<size_t>(l)]; }

  int64_t max_tokens() const { return max_tokens_; }
  // Gate values of tokens from index `token` on (in the order run) stay out
  // of the quantiles: those tokens are held out to measure sparse mode's
  // fidelity (calibrated_fidelity.h), and a sparsity chosen on them must not
  // have had its thresholds computed from them.
  void exclude_from_quantiles(int64_t token) { quantile_end_ = token; }

  // n_layers x 101: percentile p of |act(gate)| (p = 0..100) per layer.
  std::vector<float> gate_quantiles() const;
  // n_layers x n_ff firing frequencies in [0, 1].
  std::vector<float> frequencies() const;

  static constexpr size_t kReservoir = 1 << 17;

 private:
  void record_gate(LayerRecord& r, const float* values, int64_t n_tokens);

  model::HyperParams hp_;
  int64_t max_tokens_;
  std::vector<LayerRecord> layers_;
  std::vector<int64_t> input_tokens_;  // inputs recorded per layer (gates follow them)
  std::mt19937_64 rng_;
  int64_t quantile_end_ = INT64_MAX;
};

struct CalibrationRun {
  std::filesystem::path pack;
  std::filesystem::path text;  // tokens of this text, or ...
  int64_t self_generate = 0;   // ... this many tokens the model samples itself
  int64_t max_tokens = 4096;   // recorded per layer at most
  int64_t context = 256;       // window of the text run at once (the engine is reset between windows)
  int threads = 0;
  uint64_t seed = 7;
};

// Runs the model and feeds the recorder; returns the tokens run, in order
// (the recorder keeps the first max_tokens of them). The tokens
// held_out_range() will hold out stay out of the quantiles. Throws sieve::Error
// naming the file when the pack or text cannot be used.
std::vector<int32_t> record_activations(const CalibrationRun& run, ActivationRecorder& recorder);

}  // namespace sieve::sparse
