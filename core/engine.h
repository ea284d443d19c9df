#pragma once
// Sieve's engine, as the app and the CLI see it: load a GGUF model, turn
// text into token ids and back, run prompt tokens (prefill) and generated
// tokens (decode) through the model, and report timing.
//
//   auto engine = sieve::Engine::load({.model_path = "model.gguf", .threads = 4});
//   std::vector<int32_t> ids = engine->tokenize("Once upon a time", engine->model().add_bos);
//   std::span<const float> logits = engine->prefill(ids);
//   int32_t next = sampler.sample(logits);   // core/sampling/sampler.h
//   logits = engine->decode(next);            // ... until EOS or context full
//
// One engine serves one conversation on one thread at a time. Bad input
// (unreadable model, token id out of range, too many tokens) raises
// sieve::Error; running out of context raises ContextFullError, a subclass,
// before anything changes, so the caller can stop or reset() and re-run a
// shorter history.
//
// The public API is this header, the headers it includes and these beside
// it; the app includes nothing else from core/ (cmake/app_includes.cmake):
//   "engine/auto_mode.h"        what --mode auto would choose, and why; DRAM budgets as typed
//   "engine/model_file.h"       what a model file holds, without loading it
//   "flash/pack_writer.h"       packing a GGUF for flash mode (`sieve pack`)
//   "flash/io/disk_probe.h"     measuring the disk (`sieve probe-disk`)
//   "flash/io/disk_profile.h"   a disk profile, saved and read back
//   "sampling/sampler.h"        choosing the next token from the logits
//   "chat/chat_session.h"       a conversation: chat template, generation, stop strings
//   "chat/text_continuation.h"  text continued as it is, without a chat template
//   "util/byte_size.h"          sizes as people type and read them
//   "util/system_memory.h"      this machine's memory

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_mode.h"
#include "engine/expert_layer_hits.h"
#include "engine/memory_plan.h"
#include "flash/flash_options.h"
#include "sparse/sparse_options.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace sieve {

namespace model {
class ActivationObserver;  // model/activation_stats.h
}

// The largest prefill batch (EngineOptions::batch is clamped to 1..this).
inline constexpr int64_t kMaxPrefillBatch = 512;

struct EngineOptions {
  std::filesystem::path model_path;
  int threads = 0;        // worker threads including the caller; 0 = all cores
  int64_t context = 0;    // KV-cache positions; 0 = min(model's training context, 4096)
  int64_t batch = 64;     // prompt tokens per prefill step (matrix x matrix width)
  // Optional: sees the activations of every token run (`sieve run --stats`);
  // must outlive the engine. Null: off, at no cost.
  model::ActivationObserver* activation_observer = nullptr;
  // How weights are reached (engine/engine_mode.h, docs/flash.md): dense (read
  // into RAM), mmap (the OS pages the mapping), flash (a pack streamed
  // from the SSD under dram_budget; unset: every layer resident) or auto
  // (the engine picks one from the model and dram_budget — unset: 60% of
  // the memory available now — engine/auto_mode.h).
  EngineMode mode = EngineMode::dense;
  DramBudget dram_budget;
  flash::FlashTuning flash;  // read size, queue depth, checks, fault injection
  // Sparse mode (docs/sparsity.md): the predictor, the sliding window, hot
  // neurons. dram_budget and flash apply to it as to flash mode.
  sparse::SparseOptions sparse;
};

struct ModelSummary {
  std::string architecture;  // general.architecture: "llama", "qwen3", "gemma2", ... (model/arch_recipe.h)
  std::string name;          // general.name, or the file name
  int64_t n_vocab = 0;
  int64_t n_layers = 0;
  int64_t dim = 0;
  int64_t train_context = 0;
  int64_t context = 0;       // the engine's KV-cache size
  int32_t bos_id = -1;       // -1 when the model has none
  int32_t eos_id = -1;
  int32_t eot_id = -1;       // end of turn (chat models), -1 when none
  bool add_bos = false;      // whether prompts should start with BOS (the vocabulary says)
  bool has_tokenizer = false;  // false for a GGUF without tokenizer.* metadata
  uint64_t weight_bytes = 0;  // bytes of tensor data in the file
  uint64_t kv_cache_bytes = 0;
  EngineMode mode = EngineMode::dense;  // as run: auto resolved
  // --mode auto: the mode chosen and why, in one line ("flash: 41% of the
  // weights stay in memory, 1.20 GiB read per token ..."), and sparse mode
  // offered for a calibrated pack (empty when not); both empty otherwise.
  std::string mode_choice;
  std::string mode_offer;
  uint64_t dram_budget_bytes = 0;  // the budget run with (flash, sparse; auto resolved); 0: none
  bool is_pack = false;      // a Sieve pack (`sieve pack`) rather than a plain GGUF
  std::string memory_plan;   // flash mode: how the DRAM budget is split (several lines); else empty
  std::optional<std::string> chat_template;  // tokenizer.chat_template; none when the file has none
};

struct EngineStats {
  int64_t prompt_tokens = 0;  // tokens run through prefill
  double prompt_seconds = 0;
  int64_t decode_tokens = 0;  // tokens run through decode
  double decode_seconds = 0;
  uint64_t peak_rss_bytes = 0;  // the process's peak resident memory
  // Flash mode (0 otherwise), prompt and decode together: FFN bytes streamed
  // from the SSD, read requests issued (loading included), the time the
  // forward pass waited for reads, and the rest of the run time (compute,
  // overlapped with the reads of the layers ahead).
  uint64_t flash_bytes_read = 0;
  uint64_t flash_read_requests = 0;
  double flash_io_wait_seconds = 0;
  double flash_compute_seconds = 0;
  // Sparse mode (0 otherwise), decode only: tokens computed sparsely and,
  // summed over layers and those tokens, the neurons the predictor selected,
  // those read from the SSD and those found in DRAM (clusters count B
  // neurons), and the bytes read (alignment and merged holes included).
  // sparse_ffn_bytes_per_token is what one token's whole FFN weighs (what
  // streaming it would read): the denominator of "% of FFN bytes".
  // flash_bytes_read above includes these reads and the prompt's.
  int64_t sparse_tokens = 0;
  uint64_t sparse_neurons_predicted = 0;
  uint64_t sparse_neurons_loaded = 0;
  uint64_t sparse_neuron_hits = 0;
  uint64_t sparse_bytes_read = 0;
  uint64_t sparse_bytes_wanted = 0;  // the loaded neurons' own bytes (no alignment, no holes)
  uint64_t sparse_reads = 0;         // decode read requests (after merging neighbours)
  uint64_t sparse_ffn_bytes_per_token = 0;
  // Flash mode on a Mixture-of-Experts model (0 otherwise), prompt and decode:
  // the experts the routers chose that were in the expert cache, and those
  // read from the SSD (flash_bytes_read counts their bytes).
  uint64_t expert_hits = 0;
  uint64_t expert_misses = 0;
  uint64_t expert_bytes_wanted = 0;   // the missed and read-ahead experts' own bytes
  uint64_t expert_prefetched = 0;     // experts read ahead: the next layer's router applied early
  uint64_t expert_prefetch_used = 0;  // of those, the ones the layer's own router then chose

  double prompt_tokens_per_second() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
  double decode_tokens_per_second() const { return decode_seconds > 0 ? decode_tokens / decode_seconds : 0; }
};

// Raised by prefill() and decode() when the tokens would not fit in the
// context; the engine's state is unchanged.
class ContextFullError : public Error {
 public:
  using Error::Error;
};

class Engine {
 public:
  // Opens and validates the model, sizes every buffer. Throws sieve::Error.
  static std::unique_ptr<Engine> load(const EngineOptions& options);
  // What load() would hold in DRAM for a pack under options.dram_budget
  // (unset: none), without loading it; sparse mode plans sparse mode, every
  // other mode flash mode's split. Throws sieve::Error for a file that is
  // not a pack, or a budget below the minimum (naming it and its parts).
  static MemoryPlan plan(const EngineOptions& options);
  virtual ~Engine() = default;

  virtual const ModelSummary& model() const = 0;

  // Text -> ids with the model's tokenizer; a BOS id first when add_bos and the
  // model has one. Special-token text in `text` is treated as plain text.
  // Throws sieve::Error when the model has no tokenizer.
  virtual std::vector<int32_t> tokenize(std::string_view text, bool add_bos) const = 0;
  // The model's tokenizer, for detokenizing: generated text is streamed with
  // tokenizer::StreamingDetokenizer(engine.tokenizer(), {.at_text_start = false}),
  // which holds back UTF-8 characters split across tokens. Throws sieve::Error
  // when the model has no tokenizer.
  virtual const tokenizer::Tokenizer& tokenizer() const = 0;
  // Whether `id` ends a generation (EOS, EOT and other end-of-generation tokens).
  virtual bool is_end_of_generation(int32_t id) const = 0;

  // Positions used in the context, and how many remain.
  virtual int64_t position() const = 0;
  int64_t remaining_context() const { return model().context - position(); }

  // Runs prompt tokens at the current position (in batches) and returns the
  // logits predicting the next token (n_vocab floats, valid until the next
  // call). Throws ContextFullError if they do not fit, sieve::Error for an
  // empty span or an id out of range.
  virtual std::span<const float> prefill(std::span<const int32_t> tokens) = 0;
  // Runs one token at the current position; returns the next logits.
  virtual std::span<const float> decode(int32_t token) = 0;
  // Forgets the context (position 0); statistics are kept.
  virtual void reset() = 0;
  // Shortens the context to its first `position` tokens (for re-running from
  // an earlier point, e.g. after editing a message).
  virtual void rewind(int64_t position) = 0;

  virtual EngineStats stats() const = 0;
  // Flash mode on a Mixture-of-Experts model: per layer, the chosen experts
  // the cache held and those it read (empty otherwise). Allocates; not for
  // the token loop.
  virtual std::vector<ExpertLayerHits> expert_layer_stats() const = 0;
};

}  // namespace sieve
