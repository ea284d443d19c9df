#pragma once
// An optional look at the activations the forward pass computes, for
// measuring activation sparsity (`sieve run --stats`) or recording which
// feed-forward neurons fire.
//
// The transformer and the feed-forward block call the observer, when one is
// set, with the vectors of every token they run; with none set they only test
// a null pointer. Observers are called on the thread that runs the forward
// pass, never from worker threads.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/hparams.h"

namespace sieve::model {

enum class ActivationSite : uint8_t {
  AttentionInput,  // the normalised input of attention (after the norm ReLU, if any): dim values
  FfnInput,        // the normalised input of the feed-forward block: dim values
  FfnGate,         // act(gate projection), before multiplying by the up projection: n_ff values
};
inline constexpr size_t kActivationSites = 3;
const char* site_name(ActivationSite site);

class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  // `values` holds n_tokens vectors of `width` floats, one after another, seen
  // at `site` of `layer`. Valid only during the call.
  virtual void observe(ActivationSite site, int layer, const float* values, int64_t n_tokens, int64_t width) = 0;
};

// out[i] = act(gate[i]) for the model's feed-forward activation: the values
// apply_gated_activation multiplies by the up projection (same formulas, so a
// value is zero here exactly when that product's gate factor is).
void gate_activation(const HyperParams& hp, const float* gate, float* out, int64_t n);

// Counts exactly-zero values per layer and site.
class ZeroCounter final : public ActivationObserver {
 public:
  struct Count {
    uint64_t zeros = 0;
    uint64_t total = 0;
    double fraction() const { return total > 0 ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0; }
  };

  void observe(ActivationSite site, int layer, const float* values, int64_t n_tokens, int64_t width) override;

  int layers() const { return static_cast<int>(counts_.size()); }
  const Count& count(ActivationSite site, int layer) const;
  Count total(ActivationSite site) const;  // over all layers
  void clear() { counts_.clear(); }

  // A table for people: one line per layer with the zero fraction at each
  // site, then the totals over all layers.
  std::string report() const;

 private:
  std::vector<std::array<Count, kActivationSites>> counts_;  // [layer][site], grown on first sight of a layer
};

}  // namespace sieve::model
