#include "model/activation_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tensor/ops.h"
#include "util/error.h"

namespace sieve::model {

const char* site_name(ActivationSite site) {
  switch (site) {
    case ActivationSite::AttentionInput: return "attn_in";
    case ActivationSite::FfnInput: return "ffn_in";
    case ActivationSite::FfnGate: return "ffn_gate";
  }
  return "?";
}

// The gate factors of tensor::silu_mul, gelu_mul, relu_mul, fatrelu_mul and
// shifted_relu_mul, without the multiplication.
void gate_activation(const HyperParams& hp, const float* gate, float* out, int64_t n) {
  switch (hp.ffn_activation) {
    case FfnActivation::Silu:
      for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i]));
      return;
    case FfnActivation::Gelu:
      for (int64_t i = 0; i < n; ++i) out[i] = tensor::gelu_half(gate[i]);
      return;
    case FfnActivation::Relu:
      for (int64_t i = 0; i < n; ++i) out[i] = gate[i] > 0.0f ? gate[i] : 0.0f;
      return;
    case FfnActivation::FatRelu:
      for (int64_t i = 0; i < n; ++i) out[i] = gate[i] > hp.ffn_relu_threshold ? gate[i] : 0.0f;
      return;
    case FfnActivation::ShiftedRelu:
      for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i] - hp.ffn_relu_shift;
        out[i] = g > 0.0f ? g : 0.0f;
      }
      return;
    case FfnActivation::SwigluOai:  // the gate factor alone: the up term adds its own + 1
      for (int64_t i = 0; i < n; ++i) {
        const float g = std::min(gate[i], 7.0f);
        out[i] = g / (1.0f + std::exp(-1.702f * g));
      }
      return;
  }
}

void ZeroCounter::observe(ActivationSite site, int layer, const float* values, int64_t n_tokens, int64_t width) {
  if (layer < 0) return;
  if (static_cast<size_t>(layer) >= counts_.size()) counts_.resize(static_cast<size_t>(layer) + 1);
  const int64_t n = n_tokens * width;
  uint64_t zeros = 0;
  for (int64_t i = 0; i < n; ++i) zeros += values[i] == 0.0f ? 1 : 0;
  Count& c = counts_[static_cast<size_t>(layer)][static_cast<size_t>(site)];
  c.zeros += zeros;
  c.total += static_cast<uint64_t>(n);
}

const ZeroCounter::Count& ZeroCounter::count(ActivationSite site, int layer) const {
  if (layer < 0 || layer >= layers()) throw Error("activation statistics: no layer " + std::to_string(layer) + ".");
  return counts_[static_cast<size_t>(layer)][static_cast<size_t>(site)];
}

ZeroCounter::Count ZeroCounter::total(ActivationSite site) const {
  Count sum;
  for (const auto& layer : counts_) {
    sum.zeros += layer[static_cast<size_t>(site)].zeros;
    sum.total += layer[static_cast<size_t>(site)].total;
  }
  return sum;
}

std::string ZeroCounter::report() const {
  constexpr ActivationSite kSites[] = {ActivationSite::AttentionInput, ActivationSite::FfnInput,
                                       ActivationSite::FfnGate};
  std::string out = "exactly-zero activations (fraction of values)\nlayer";
  char cell[64];
  for (ActivationSite s : kSites) {
    std::snprintf(cell, sizeof cell, "  %10s", site_name(s));
    out += cell;
  }
  out += "\n";
  const auto row = [&](const std::string& label, auto&& count_of) {
    std::snprintf(cell, sizeof cell, "%-5s", label.c_str());
    out += cell;
    for (ActivationSite s : kSites) {
      std::snprintf(cell, sizeof cell, "  %10.4f", count_of(s).fraction());
      out += cell;
    }
    out += "\n";
  };
  for (int l = 0; l < layers(); ++l) row(std::to_string(l), [&](ActivationSite s) { return count(s, l); });
  row("all", [&](ActivationSite s) { return total(s); });
  return out;
}

}  // namespace sieve::model
