#pragma once
// The FeedForward of flash mode: each layer's FFN comes from one of
//   dense     pinned in DRAM in its original layout (matvec, as dense mode)
//   bundles   bundles already in memory (the pack's mapping, in mmap mode)
//   streamed  bundles read from the SSD for every token by a LayerStreamer
// and the result is bit-identical to DenseFeedForward whichever it is.

#include <cstdint>
#include <vector>

#include "flash/bundle_ffn.h"
#include "flash/bundle_layout.h"
#include "flash/layer_streamer.h"
#include "model/feed_forward.h"

namespace sieve::flash {

struct FfnLayerSource {
  enum class Kind { dense, bundles, streamed };
  Kind kind = Kind::dense;
  DenseFfnViews dense;               // Kind::dense
  const std::byte* bundles = nullptr;  // Kind::bundles
  BundleLayout layout;               // Kind::bundles and Kind::streamed
};

class FlashFeedForward final : public model::FeedForward {
 public:
  // `streamer` (may be null when no layer streams), hp and pool must outlive this.
  FlashFeedForward(const model::HyperParams& hp, ThreadPool& pool, int max_batch, std::vector<FfnLayerSource> layers,
                   const std::vector<BundleLayout>& all_layouts, LayerStreamer* streamer);

  void forward(int layer, int64_t pos, const float* x, float* y) override;
  void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) override;
  void set_observer(model::ActivationObserver* observer) { kernel_.set_observer(observer); }

 private:
  std::vector<FfnLayerSource> layers_;
  LayerStreamer* streamer_;
  BundleFfn kernel_;
};

}  // namespace sieve::flash
