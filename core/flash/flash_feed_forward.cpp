#include "flash/flash_feed_forward.h"

#include "util/error.h"

namespace sieve::flash {

FlashFeedForward::FlashFeedForward(const model::HyperParams& hp, ThreadPool& pool, int max_batch,
                                   std::vector<FfnLayerSource> layers, const std::vector<BundleLayout>& all_layouts,
                                   LayerStreamer* streamer)
    : layers_(std::move(layers)), streamer_(streamer), kernel_(hp, pool, max_batch, all_layouts) {
  for (const FfnLayerSource& s : layers_) {
    if (s.kind == FfnLayerSource::Kind::streamed && streamer_ == nullptr) {
      throw Error("flash FFN: a streamed layer needs a streamer.");
    }
  }
}

void FlashFeedForward::forward(int layer, int64_t pos, const float* x, float* y) { forward_batch(layer, pos, x, 1, y); }

void FlashFeedForward::forward_batch(int layer, int64_t, const float* x, int n_tokens, float* y) {
  const FfnLayerSource& s = layers_.at(static_cast<size_t>(layer));
  switch (s.kind) {
    case FfnLayerSource::Kind::dense:
      kernel_.forward_dense(layer, s.dense, x, n_tokens, y);
      return;
    case FfnLayerSource::Kind::bundles:
      kernel_.forward_bundles(layer, s.layout, s.bundles, x, n_tokens, y);
      return;
    case FfnLayerSource::Kind::streamed: {
      const std::byte* bundles = streamer_->acquire(layer);
      kernel_.forward_bundles(layer, s.layout, bundles, x, n_tokens, y);
      streamer_->release(layer);
      return;
    }
  }
}

}  // namespace sieve::flash
