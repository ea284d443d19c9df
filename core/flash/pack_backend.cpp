#include "flash/pack_backend.h"

#include <algorithm>

#include "flash/bundle_ffn.h"
#include "flash/flash_feed_forward.h"
#include "flash/io/direct_file.h"
#include "flash/layer_streamer.h"
#include "flash/pack_file.h"
#include "flash/pinned_ffn.h"
#include "flash/sequential_reader.h"
#include "flash/tensor_buffer.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

// Pinned layers are read through two staging chunks of this size.
constexpr uint64_t kStagingChunkBytes = uint64_t{4} << 20;

std::vector<BundleLayout> all_layouts(const PackFile& pack) {
  std::vector<BundleLayout> layouts;
  for (int64_t l = 0; l < pack.n_layers(); ++l) layouts.push_back(pack.layout(l));
  return layouts;
}

uint64_t staging_chunk(const PackFile& pack) {
  uint64_t largest = 0;
  for (int64_t l = 0; l < pack.n_layers(); ++l) largest = std::max(largest, pack.layout(l).layer_bytes());
  return align_up(std::min(kStagingChunkBytes, largest), kDefaultIoAlignment);
}

// Bytes of the float copies load_weights makes of norms and biases.
uint64_t float_vector_bytes(const model::HyperParams& hp) {
  uint64_t per_layer = 2 * static_cast<uint64_t>(hp.dim);
  if (hp.qkv_bias) per_layer += static_cast<uint64_t>(hp.q_dim() + 2 * hp.kv_dim());
  return (static_cast<uint64_t>(hp.n_layers) * per_layer + static_cast<uint64_t>(hp.dim + hp.n_rot)) * sizeof(float);
}

IoOptions io_options(const FlashTuning& tuning) {
  IoOptions o;
  o.backend = tuning.backend;
  o.queue_depth = tuning.queue_depth;
  o.faults = tuning.faults;
  return o;
}

class PackBackend final : public ModelBackend {
 public:
  PackBackend(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options,
              ThreadPool& pool)
      : pack_(PackFile::over(file)) {
    const std::vector<BundleLayout> layouts = all_layouts(pack_);
    if (options.mode == EngineMode::mmap) {
      weights_ = model::load_weights(file, hp, ffn_excluded({}));
      std::vector<FfnLayerSource> sources;
      for (int64_t l = 0; l < pack_.n_layers(); ++l) {
        FfnLayerSource s;
        s.kind = FfnLayerSource::Kind::bundles;
        s.layout = layouts[static_cast<size_t>(l)];
        s.bundles = file.tensor_data(pack_.bundles(l)).data();
        sources.push_back(s);
      }
      ffn_ = std::make_unique<FlashFeedForward>(hp, pool, static_cast<int>(options.batch), std::move(sources), layouts,
                                                nullptr);
      return;
    }
    const MemoryPlan plan = plan_pack_memory(pack_, options, pool.size());
    memory_plan_ = plan.describe();
    const uint64_t ram = physical_memory_bytes();
    if (ram > 0 && plan.total() > ram) {
      throw Error(pack_.where() + ": keeping everything resident takes " + format_size(plan.total()) +
                  ", more than this machine's " + format_size(ram) + " of RAM; use --mode flash --dram-budget SIZE.");
    }
    direct_ = std::make_unique<DirectFile>(DirectFile::open(file.path().string()));
    io_ = make_io_engine(*direct_, io_options(options.tuning));

    resident_ = TensorBuffer::read(file, *io_, pack_.resident_tensors(), options.tuning.read_bytes,
                                   [this](const gguf::TensorInfo& t) { return pack_.expected_checksum(t); });
    weights_ = model::load_weights(file, hp, ffn_excluded([this](const gguf::TensorInfo& t) { return resident_.bytes(t); }));

    std::vector<FfnLayerSource> sources(static_cast<size_t>(pack_.n_layers()));
    load_pinned(plan, layouts, options, sources);
    if (!plan.streamed.empty()) {
      streamer_ = std::make_unique<LayerStreamer>(pack_, *io_, plan.streamed, options.tuning.read_bytes,
                                                  options.tuning.verify);
      for (int64_t l : plan.streamed) {
        sources[static_cast<size_t>(l)].kind = FfnLayerSource::Kind::streamed;
        sources[static_cast<size_t>(l)].layout = layouts[static_cast<size_t>(l)];
      }
    }
    ffn_ = std::make_unique<FlashFeedForward>(hp, pool, static_cast<int>(options.batch), std::move(sources), layouts,
                                              streamer_.get());
    if (streamer_) streamer_->start();
  }

  ~PackBackend() override {
    streamer_.reset();  // its reads in flight finish before the buffers and the I/O engine go
  }

  const model::ModelWeights& weights() const override { return weights_; }
  model::FeedForward& ffn() override { return *ffn_; }
  void set_observer(model::ActivationObserver* observer) override { ffn_->set_observer(observer); }

  BackendStats stats() const override {
    BackendStats s;
    if (streamer_) {
      s.bytes_read = streamer_->stats().bytes_read;
      s.io_wait_seconds = streamer_->stats().wait_seconds;
    }
    if (io_) s.read_requests = io_->stats().reads_issued;
    return s;
  }

 private:
  static model::WeightSource ffn_excluded(std::function<std::span<const std::byte>(const gguf::TensorInfo&)> bytes) {
    model::WeightSource source;
    source.bytes = std::move(bytes);
    source.ffn = false;
    return source;
  }

  void load_pinned(const MemoryPlan& plan, const std::vector<BundleLayout>& layouts, const BackendOptions& options,
                   std::vector<FfnLayerSource>& sources) {
    if (plan.pinned.empty()) return;
    SequentialReader reader(*io_, static_cast<size_t>(staging_chunk(pack_)), options.tuning.read_bytes);
    for (int64_t l : plan.pinned) {
      pinned_.push_back(load_pinned_layer(pack_, l, reader));
      FfnLayerSource& s = sources[static_cast<size_t>(l)];
      s.kind = FfnLayerSource::Kind::dense;
      s.dense = pinned_.back().views;
      s.layout = layouts[static_cast<size_t>(l)];
    }
  }

  PackFile pack_;
  std::unique_ptr<DirectFile> direct_;
  std::unique_ptr<IoEngine> io_;
  TensorBuffer resident_;
  model::ModelWeights weights_;
  std::vector<PinnedLayer> pinned_;
  std::unique_ptr<LayerStreamer> streamer_;
  std::unique_ptr<FlashFeedForward> ffn_;
};

}  // namespace

MemoryPlan plan_pack_memory(const PackFile& pack, const BackendOptions& options, int threads) {
  const model::HyperParams& hp = pack.hparams();
  const gguf::GgufFile& file = pack.gguf();
  PlanInputs in;
  const bool limited = options.mode == EngineMode::flash && options.budget.is_set();
  in.budget = limited ? options.budget.resolve(file.file_size()) : UINT64_MAX;
  const uint64_t resident = TensorBuffer::bytes_needed(file, pack.resident_tensors()) + float_vector_bytes(hp);
  const std::vector<BundleLayout> layouts = all_layouts(pack);
  uint64_t largest_bundle = 0;
  for (const BundleLayout& l : layouts) largest_bundle = std::max<uint64_t>(largest_bundle, l.bundle_bytes);
  in.fixed = {
      {"resident weights", resident},
      {"KV cache", kv_cache_bytes(hp, options.context)},
      {"activations and scratch", run_state_bytes(hp, options.context, options.batch) +
                                      BundleFfn::scratch_bytes(hp, threads, static_cast<int>(options.batch), layouts)},
      {"I/O staging", 2 * staging_chunk(pack) + largest_bundle},
  };
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    in.pinned_bytes.push_back(pinned_layer_bytes(pack.layout(l)));
    in.streamed_bytes.push_back(LayerStreamer::slot_bytes(pack.layout(l).layer_bytes()));
  }
  return plan_memory(in, pack.where());
}

std::unique_ptr<ModelBackend> load_pack_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                const BackendOptions& options, ThreadPool& pool) {
  return std::make_unique<PackBackend>(file, hp, options, pool);
}

}  // namespace sieve::flash
