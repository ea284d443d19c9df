#include "engine/model_backend.h"

#include <algorithm>
#include <memory>

#include "flash/io/direct_file.h"
#include "engine/expert_backend.h"
#include "engine/pack_backend.h"
#include "flash/pack_file.h"
#include "flash/planner.h"
#include "flash/tensor_buffer.h"
#include "model/moe_feed_forward.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/system_memory.h"

namespace sieve::flash {
namespace {

// A plain GGUF model in dense or mmap mode: DenseFeedForward (or, for a
// Mixture-of-Experts model, MoeFeedForward) over weights that live in the
// mapping (mmap) or in one buffer read at load (dense).
class GgufBackend final : public ModelBackend {
 public:
  GgufBackend(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options,
              ThreadPool& pool)
      : weights_(load(file, hp, options)), ffn_(make_ffn(hp, pool, static_cast<int>(options.batch))) {}

  const model::ModelWeights& weights() const override { return weights_; }
  model::FeedForward& ffn() override { return *ffn_; }
  // The observer sees dense FFNs' gates; an MoE layer's experts are not observed.
  void set_observer(model::ActivationObserver* observer) override {
    if (dense_ffn_ != nullptr) dense_ffn_->set_observer(observer);
  }

 private:
  model::ModelWeights load(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options) {
    if (options.mode == EngineMode::mmap) return model::load_weights(file, hp);
    check_fits_in_ram(file);
    const DirectFile direct = DirectFile::open(file.path().string());
    const std::unique_ptr<IoEngine> io = make_io_engine(direct, io_options(options.tuning));
    std::vector<const gguf::TensorInfo*> all;
    for (const gguf::TensorInfo& t : file.tensors()) all.push_back(&t);
    buffer_ = TensorBuffer::read(file, *io, all, options.tuning.read_bytes);
    model::WeightSource source;
    source.bytes = [this](const gguf::TensorInfo& t) { return buffer_.bytes(t); };
    return model::load_weights(file, hp, source);
  }

  std::unique_ptr<model::FeedForward> make_ffn(const model::HyperParams& hp, ThreadPool& pool, int max_batch) {
    if (hp.is_moe()) {
      experts_ = std::make_unique<model::StackedExperts>(hp, weights_);
      return std::make_unique<model::MoeFeedForward>(hp, weights_, pool, *experts_, max_batch);
    }
    auto dense = std::make_unique<model::DenseFeedForward>(hp, weights_, pool, max_batch);
    dense_ffn_ = dense.get();
    return dense;
  }

  // Dense mode reads every weight in: refuse a model larger than the RAM
  // rather than let the OS kill the process half way.
  static void check_fits_in_ram(const gguf::GgufFile& file) {
    const uint64_t ram = physical_memory_bytes();
    if (ram == 0 || file.file_size() < ram) return;
    const std::string name = file.path().filename().string();
    throw Error(name + ": the model (" + format_size(file.file_size()) + ") does not fit in this machine's " +
                format_size(ram) + " of RAM in dense mode; use --mode mmap, or --mode flash with a pack (`sieve pack " +
                name + " -o " + file.path().stem().string() + ".sieve`).");
  }

  TensorBuffer buffer_;  // dense mode: every tensor
  model::ModelWeights weights_;
  model::DenseFeedForward* dense_ffn_ = nullptr;  // ffn_, when the model is dense
  std::unique_ptr<model::StackedExperts> experts_;  // a Mixture-of-Experts model's
  std::unique_ptr<model::FeedForward> ffn_;
};

}  // namespace

uint64_t kv_cache_bytes(const model::HyperParams& hp, int64_t context) {
  return 2 * static_cast<uint64_t>(hp.n_layers) * static_cast<uint64_t>(context) * static_cast<uint64_t>(hp.kv_dim()) *
         sizeof(uint16_t);
}

uint64_t run_state_bytes(const model::HyperParams& hp, int64_t context, int64_t batch) {
  const auto b = static_cast<uint64_t>(batch);
  uint64_t floats = b * (3 * static_cast<uint64_t>(hp.dim) + 2 * static_cast<uint64_t>(hp.q_dim()) +
                         2 * static_cast<uint64_t>(hp.kv_dim()));   // x, xn, block, q, att, k, v
  floats += static_cast<uint64_t>(hp.n_heads) * static_cast<uint64_t>(context);  // attention scores
  // Prefill's attention blocks: gathered queries and their outputs, and the
  // keys or values of one head converted to floats for the matrix products
  // (head_dim x context, plus matmat's rounding of each slot to 16 rows: at
  // most 64 slots' worth, 1024 rows).
  floats += 2 * b * static_cast<uint64_t>(hp.q_dim());
  floats += static_cast<uint64_t>(hp.head_dim) * static_cast<uint64_t>(context + 1024);
  floats += static_cast<uint64_t>(hp.n_rot) + static_cast<uint64_t>(hp.n_vocab);  // RoPE tables, logits
  // The transformer's matmul scratch holds converted activations: at most
  // the size of the float input per token.
  floats += b * static_cast<uint64_t>(std::max(hp.dim, hp.q_dim()));
  const uint64_t experts = hp.is_moe() ? model::MoeFeedForward::scratch_bytes(hp, batch) : 0;
  return floats * sizeof(float) + experts;
}

IoOptions io_options(const FlashTuning& tuning) {
  IoOptions o;
  o.backend = tuning.backend;
  // backend_options() resolves the depth by mode; 0 is left only by options built
  // without it (planning tests), which get flash's depth.
  o.queue_depth = resolved_queue_depth(tuning.queue_depth, false);
  o.faults = tuning.faults;
  return o;
}

std::unique_ptr<ModelBackend> load_model_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                 const BackendOptions& options, ThreadPool& pool) {
  if (PackFile::is_pack(file)) return load_pack_backend(file, hp, options, pool);
  if (hp.is_moe() && options.mode == EngineMode::flash) return load_expert_backend(file, hp, options, pool);
  if (hp.is_moe() && options.mode == EngineMode::sparse) {
    throw Error(file.path().filename().string() + ": sparse mode predicts the neurons of dense feed-forward layers; "
                "a Mixture-of-Experts model streams its experts in flash mode (--mode flash).");
  }
  if (uses_budget(options.mode)) {
    const std::string name = file.path().filename().string();
    throw Error(name + ": " + to_string(options.mode) + " mode needs a Sieve pack; create one with `sieve pack " + name + " -o " +
                file.path().stem().string() + ".sieve` and run that.");
  }
  return std::make_unique<GgufBackend>(file, hp, options, pool);
}

}  // namespace sieve::flash
