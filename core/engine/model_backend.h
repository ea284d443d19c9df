#pragma once
// Where the engine's weights come from, per EngineMode (flash_options.h):
// the model weights the transformer reads and the FeedForward that computes
// every layer's FFN, plus whatever memory, files and I/O they need.
//
//   GGUF model   dense  every tensor read into one buffer with direct I/O
//                mmap   views into the file mapping (the OS pages them)
//                flash  refused: flash mode needs a pack (`sieve pack`)
//   Sieve pack   dense  resident tensors read in, every FFN layer pinned
//                mmap   views into the mapping; FFN computed from the mapped bundles
//                flash  the DRAM budget split by the planner: resident tensors
//                       and pinned FFN layers read in, the rest streamed
//                sparse the budget split by sparse/sparse_plan.h: resident
//                       tensors, the predictor and per-layer neuron stores

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_mode.h"
#include "engine/expert_layer_hits.h"
#include "flash/flash_options.h"
#include "flash/io/io_engine.h"
#include "gguf/gguf_file.h"
#include "model/activation_stats.h"
#include "model/feed_forward.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "sparse/sparse_options.h"
#include "util/thread_pool.h"

namespace sieve::flash {

struct BackendOptions {
  EngineMode mode = EngineMode::dense;
  DramBudget budget;  // flash mode; unset: everything pinned
  FlashTuning tuning;
  int64_t context = 0;  // KV-cache positions the engine allocates (for the budget)
  int64_t batch = 64;   // largest prefill batch
  sparse::SparseOptions sparse;  // sparse mode
};

// The I/O engine's options for the tuning the engine was given.
IoOptions io_options(const FlashTuning& tuning);

struct BackendStats {
  uint64_t bytes_read = 0;     // FFN bytes streamed from the SSD
  uint64_t read_requests = 0;  // reads issued by the flash I/O engine, loading included
  double io_wait_seconds = 0;  // the forward pass blocked on streaming reads
  // Sparse mode (EngineStats has the meaning of each).
  int64_t sparse_tokens = 0;
  uint64_t sparse_neurons_predicted = 0;
  uint64_t sparse_neurons_loaded = 0;
  uint64_t sparse_neuron_hits = 0;
  uint64_t sparse_bytes_read = 0;
  uint64_t sparse_bytes_wanted = 0;
  uint64_t sparse_reads = 0;
  uint64_t sparse_ffn_bytes_per_token = 0;
  // Flash mode on a Mixture-of-Experts model (EngineStats has the meaning).
  uint64_t expert_hits = 0;
  uint64_t expert_misses = 0;
  uint64_t expert_bytes_wanted = 0;
  uint64_t expert_prefetched = 0;
  uint64_t expert_prefetch_used = 0;
};


class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual const model::ModelWeights& weights() const = 0;
  virtual model::FeedForward& ffn() = 0;
  virtual void set_observer(model::ActivationObserver* observer) = 0;
  virtual BackendStats stats() const { return {}; }
  // One entry per layer for a backend with an expert cache; none otherwise.
  virtual std::vector<ExpertLayerHits> expert_layer_stats() const { return {}; }
  // The DRAM split (flash mode and packs), empty otherwise.
  const std::string& memory_plan() const { return memory_plan_; }

 protected:
  std::string memory_plan_;
};

// `file` and `pool` must outlive the backend. Throws sieve::Error.
std::unique_ptr<ModelBackend> load_model_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                 const BackendOptions& options, ThreadPool& pool);

// Bytes of the transformer's activations (RunState and its matmul scratch)
// and of the KV cache, as the engine allocates them.
uint64_t run_state_bytes(const model::HyperParams& hp, int64_t context, int64_t batch);
uint64_t kv_cache_bytes(const model::HyperParams& hp, int64_t context);

}  // namespace sieve::flash
