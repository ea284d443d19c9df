#include "engine/pack_backend.h"

#include <algorithm>

#if defined(__GLIBC__)
#endif

#include "flash/bundle_ffn.h"
#include "flash/flash_feed_forward.h"
#include "flash/io/direct_file.h"
#include "flash/layer_streamer.h"
#include "flash/pack_file.h"
#include "flash/pinned_ffn.h"
#include "flash/sequential_reader.h"
#include "flash/tensor_buffer.h"
#include "sparse/predictor_factory.h"
#include "sparse/sparse_setup.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/system_memory.h"

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

// Resident weights, KV cache and the transformer's run state: what every
// mode that reads a pack under a budget holds besides the FFN.
std::vector<MemoryItem> common_items(const PackFile& pack, const BackendOptions& options) {
  const model::HyperParams& hp = pack.hparams();
  const uint64_t resident = TensorBuffer::bytes_needed(pack.gguf(), pack.resident_tensors()) + model::float_vector_bytes(hp);
  return {
      {"resident weights", resident},
      {"KV cache", kv_cache_bytes(hp, options.context)},
      {"activations and scratch", run_state_bytes(hp, options.context, options.batch)},
  };
}

sparse::SparsePackRequest sparse_request(const PackFile& pack, const BackendOptions& options, int threads) {
  sparse::SparsePackRequest r;
  r.options = options.sparse;
  r.budget = options.budget.is_set() ? options.budget.resolve(pack.gguf().file_size()) : UINT64_MAX;
  r.fixed = common_items(pack, options);
  r.threads = threads;
  r.max_batch = static_cast<int>(options.batch);
  r.queue_depth = resolved_queue_depth(options.tuning.queue_depth, true);
  r.disk_profile = options.tuning.disk_profile;
  // What the file's direct reads must align to (sector reads of per-neuron units).
  if (r.options.neuron_units && r.options.sector_unit_reads && pack.has_neuron_units()) {
    r.io_alignment = DirectFile::open(pack.gguf().path().string()).required_alignment();
  }
  r.options = sparse::choose_gate_copy(pack, r);
  return r;
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
    if (options.mode == EngineMode::sparse) {
      load_sparse(file, hp, options, pool);
      return;
    }
    const MemoryPlan plan = plan_pack_memory(pack_, options, pool.size());
    memory_plan_ = plan.describe();
    check_fits_in_ram(plan.total(), "--mode flash --dram-budget SIZE");
    read_resident(file, hp, options);

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
    sparse_ffn_.reset();
  }

  const model::ModelWeights& weights() const override { return weights_; }
  model::FeedForward& ffn() override {
    if (sparse_ffn_) return *sparse_ffn_;
    return *ffn_;
  }
  // Sparse mode computes only some neurons: there is no whole act(gate) to show.
  void set_observer(model::ActivationObserver* observer) override {
    if (ffn_) ffn_->set_observer(observer);
  }

  BackendStats stats() const override {
    BackendStats s;
    if (streamer_) {
      s.bytes_read = streamer_->stats().bytes_read;
      s.io_wait_seconds = streamer_->stats().wait_seconds;
    }
    if (io_) s.read_requests = io_->stats().reads_issued;
    if (sparse_ffn_) {
      const sparse::SparseStats sp = sparse_ffn_->stats();
      s.bytes_read = sp.bytes_read + sp.prefill_bytes_read;
      s.io_wait_seconds = sp.wait_seconds + sp.prefill_wait_seconds;
      s.sparse_tokens = sp.tokens;
      s.sparse_neurons_predicted = sp.neurons_predicted;
      s.sparse_neurons_loaded = sp.neurons_loaded;
      s.sparse_neuron_hits = sp.neuron_hits;
      s.sparse_bytes_read = sp.bytes_read;
      s.sparse_bytes_wanted = sp.bytes_wanted;
      s.sparse_reads = sp.reads;
      s.sparse_ffn_bytes_per_token = sp.ffn_bytes_per_token;
    }
    return s;
  }

 private:
  static model::WeightSource ffn_excluded(std::function<std::span<const std::byte>(const gguf::TensorInfo&)> bytes) {
    model::WeightSource source;
    source.bytes = std::move(bytes);
    source.ffn = false;
    return source;
  }

  void check_fits_in_ram(uint64_t total, const char* advice) const {
    const uint64_t ram = physical_memory_bytes();
    if (ram > 0 && total > ram) {
      throw Error(pack_.where() + ": keeping everything resident takes " + format_size(total) +
                  ", more than this machine's " + format_size(ram) + " of RAM; use " + advice + ".");
    }
  }

  void read_resident(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options) {
    direct_ = std::make_unique<DirectFile>(DirectFile::open(file.path().string()));
    io_ = make_io_engine(*direct_, io_options(options.tuning));
    resident_ = TensorBuffer::read(file, *io_, pack_.resident_tensors(), options.tuning.read_bytes,
                                   [this](const gguf::TensorInfo& t) { return pack_.expected_checksum(t); });
    weights_ = model::load_weights(file, hp, ffn_excluded([this](const gguf::TensorInfo& t) { return resident_.bytes(t); }));
  }

  void load_sparse(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options,
                   ThreadPool& pool) {
    const sparse::SparsePackRequest request = sparse_request(pack_, options, pool.size());
    const sparse::SparsePlan plan = sparse::plan_sparse_pack(pack_, request);
    memory_plan_ = plan.describe();
    check_fits_in_ram(plan.total(), "--dram-budget SIZE");
    read_resident(file, hp, options);
    predictor_ = sparse::make_predictor(pack_, hp, request.options, pool, *io_);
    sparse_ffn_ = sparse::build_sparse_ffn(pack_, plan, request, pool, *io_, *predictor_, options.tuning.read_bytes);
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
  std::unique_ptr<sparse::Predictor> predictor_;           // sparse mode
  std::unique_ptr<sparse::SparseFeedForward> sparse_ffn_;  // sparse mode; before io_ goes
};

}  // namespace

MemoryPlan plan_pack_memory(const PackFile& pack, const BackendOptions& options, int threads) {
  const model::HyperParams& hp = pack.hparams();
  const gguf::GgufFile& file = pack.gguf();
  PlanInputs in;
  const bool limited = uses_budget(options.mode) && options.budget.is_set();
  in.budget = limited ? options.budget.resolve(file.file_size()) : UINT64_MAX;
  const std::vector<BundleLayout> layouts = all_layouts(pack);
  uint64_t largest_bundle = 0;
  for (const BundleLayout& l : layouts) largest_bundle = std::max<uint64_t>(largest_bundle, l.bundle_bytes);
  in.fixed = common_items(pack, options);
  in.fixed.back().bytes += BundleFfn::scratch_bytes(hp, threads, static_cast<int>(options.batch), layouts);
  in.fixed.push_back({"I/O staging", 2 * staging_chunk(pack) + largest_bundle});
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    in.pinned_bytes.push_back(pinned_layer_bytes(pack.layout(l)));
    in.streamed_bytes.push_back(LayerStreamer::slot_bytes(pack.layout(l).layer_bytes()));
  }
  return plan_memory(in, pack.where());
}

sparse::SparsePlan plan_sparse_pack_memory(const PackFile& pack, const BackendOptions& options, int threads) {
  return sparse::plan_sparse_pack(pack, sparse_request(pack, options, threads));
}

std::unique_ptr<ModelBackend> load_pack_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                const BackendOptions& options, ThreadPool& pool) {
  return std::make_unique<PackBackend>(file, hp, options, pool);
}

}  // namespace sieve::flash
