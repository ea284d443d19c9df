// The Engine of core/engine.h over the forward pass. Where the weights come
// from (RAM, the mapping, or streamed from a pack) is the ModelBackend's
// business (flash/model_backend.h), chosen by EngineOptions::mode.

#include <algorithm>
#include <chrono>
#include <optional>

#include "engine.h"
#include "engine/auto_mode.h"
#include "engine/model_backend.h"
#include "engine/resolved_options.h"
#include "gguf/gguf_file.h"
#include "model/feed_forward.h"
#include "model/hparams.h"
#include "model/process_memory.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "tokenizer/vocab_gguf.h"
#include "util/thread_pool.h"

namespace sieve {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}


// The model's tokenizer, or none when the file has no tokenizer metadata
// (`sieve logits` needs none). A vocabulary larger than the output layer
// would yield ids without logits: refused.
std::unique_ptr<tokenizer::Tokenizer> load_tokenizer(const gguf::GgufFile& file, const model::HyperParams& hp) {
  if (file.find("tokenizer.ggml.model") == nullptr) return nullptr;
  auto tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::load_vocab(file));
  if (static_cast<int64_t>(tok->vocab().size()) > hp.n_vocab) {
    throw Error(file.path().filename().string() + ": the tokenizer has " + std::to_string(tok->vocab().size()) +
                " tokens but the model only " + std::to_string(hp.n_vocab) + ".");
  }
  return tok;
}

int32_t optional_token_id(const gguf::GgufFile& file, const char* key, int64_t n_vocab) {
  const std::optional<int64_t> id = file.get_int(key);
  return id && *id >= 0 && *id < n_vocab ? static_cast<int32_t>(*id) : -1;
}

class DenseEngine final : public Engine {
 public:
  explicit DenseEngine(const EngineOptions& options, const flash::ModeChoice& choice = {})
      : file_(gguf::GgufFile::open(options.model_path)),
        hp_(model::read_hyper_params(file_)),
        tokenizer_(load_tokenizer(file_, hp_)),
        pool_(options.threads),
        batch_(resolved_batch(options)),
        backend_(load_backend(options)),
        transformer_(hp_, backend_->weights(), backend_->ffn(), pool_, context_, batch_) {
    transformer_.set_observer(options.activation_observer);
    backend_->set_observer(options.activation_observer);
    summary_.mode = options.mode;
    summary_.mode_choice = choice.line;
    summary_.mode_offer = choice.offer;
    if (uses_budget(options.mode) && options.dram_budget.is_set()) {
      summary_.dram_budget_bytes = options.dram_budget.resolve(file_.file_size());
    }
    summary_.is_pack = file_.find("sieve.pack.version") != nullptr;
    summary_.memory_plan = backend_->memory_plan();
    summary_.architecture = hp_.architecture;
    summary_.name = file_.get_string("general.name").value_or(file_.path().filename().string());
    summary_.n_vocab = hp_.n_vocab;
    summary_.n_layers = hp_.n_layers;
    summary_.dim = hp_.dim;
    summary_.train_context = hp_.train_context;
    summary_.context = transformer_.context();
    if (tokenizer_) {
      const tokenizer::Vocab& v = tokenizer_->vocab();
      summary_.bos_id = v.bos();
      summary_.eos_id = v.eos();
      summary_.eot_id = v.eot();
      summary_.add_bos = v.add_bos();
      summary_.has_tokenizer = true;
    } else {
      summary_.bos_id = optional_token_id(file_, "tokenizer.ggml.bos_token_id", hp_.n_vocab);
      summary_.eos_id = optional_token_id(file_, "tokenizer.ggml.eos_token_id", hp_.n_vocab);
      summary_.eot_id = optional_token_id(file_, "tokenizer.ggml.eot_token_id", hp_.n_vocab);
    }
    summary_.chat_template = tokenizer::read_chat_template(file_);
    for (const gguf::TensorInfo& t : file_.tensors()) summary_.weight_bytes += t.size_bytes;
    summary_.kv_cache_bytes = transformer_.kv_cache_bytes();
  }

  const ModelSummary& model() const override { return summary_; }

  std::vector<int32_t> tokenize(std::string_view text, bool add_bos) const override {
    tokenizer::TokenizeOptions options;
    options.add_bos = add_bos;
    return tokenizer().tokenize(text, options);
  }

  const tokenizer::Tokenizer& tokenizer() const override {
    if (!tokenizer_) throw Error(where() + ": the model has no tokenizer (no tokenizer.ggml.* metadata).");
    return *tokenizer_;
  }

  bool is_end_of_generation(int32_t id) const override {
    if (tokenizer_) return tokenizer_->vocab().contains(id) && tokenizer_->vocab().is_end_of_generation(id);
    return id >= 0 && (id == summary_.eos_id || id == summary_.eot_id);
  }

  int64_t position() const override { return position_; }

  std::span<const float> prefill(std::span<const int32_t> tokens) override {
    if (tokens.empty()) throw Error("prefill: the prompt has no tokens.");
    check_fits(static_cast<int64_t>(tokens.size()));
    for (int32_t id : tokens) check_token(id);
    const Clock::time_point start = Clock::now();
    const float* logits = nullptr;
    for (size_t done = 0; done < tokens.size();) {
      const int64_t n = std::min<int64_t>(batch_, static_cast<int64_t>(tokens.size() - done));
      logits = transformer_.forward(tokens.data() + done, n, position_);
      position_ += n;
      done += static_cast<size_t>(n);
    }
    stats_.prompt_tokens += static_cast<int64_t>(tokens.size());
    stats_.prompt_seconds += seconds_since(start);
    return {logits, static_cast<size_t>(hp_.n_vocab)};
  }

  std::span<const float> decode(int32_t token) override {
    check_fits(1);
    check_token(token);
    const Clock::time_point start = Clock::now();
    const float* logits = transformer_.forward(&token, 1, position_);
    position_ += 1;
    stats_.decode_tokens += 1;
    stats_.decode_seconds += seconds_since(start);
    return {logits, static_cast<size_t>(hp_.n_vocab)};
  }

  void reset() override { position_ = 0; }

  void rewind(int64_t position) override {
    if (position < 0 || position > position_) {
      throw Error("rewind: position " + std::to_string(position) + " is outside the context (0 to " +
                  std::to_string(position_) + ").");
    }
    position_ = position;
  }

  std::vector<ExpertLayerHits> expert_layer_stats() const override { return backend_->expert_layer_stats(); }

  EngineStats stats() const override {
    EngineStats s = stats_;
    s.peak_rss_bytes = model::peak_rss_bytes();
    const flash::BackendStats b = backend_->stats();
    s.flash_bytes_read = b.bytes_read;
    s.flash_read_requests = b.read_requests;
    s.flash_io_wait_seconds = b.io_wait_seconds;
    s.sparse_tokens = b.sparse_tokens;
    s.sparse_neurons_predicted = b.sparse_neurons_predicted;
    s.sparse_neurons_loaded = b.sparse_neurons_loaded;
    s.sparse_neuron_hits = b.sparse_neuron_hits;
    s.sparse_bytes_read = b.sparse_bytes_read;
    s.sparse_bytes_wanted = b.sparse_bytes_wanted;
    s.sparse_reads = b.sparse_reads;
    s.sparse_ffn_bytes_per_token = b.sparse_ffn_bytes_per_token;
    s.expert_hits = b.expert_hits;
    s.expert_misses = b.expert_misses;
    s.expert_bytes_wanted = b.expert_bytes_wanted;
    s.expert_prefetched = b.expert_prefetched;
    s.expert_prefetch_used = b.expert_prefetch_used;
    if (b.bytes_read > 0) s.flash_compute_seconds = s.prompt_seconds + s.decode_seconds - b.io_wait_seconds;
    return s;
  }

 private:
  std::string where() const { return file_.path().filename().string(); }

  std::unique_ptr<flash::ModelBackend> load_backend(const EngineOptions& options) {
    const flash::BackendOptions b = backend_options(options, hp_, where());
    context_ = b.context;
    return flash::load_model_backend(file_, hp_, b, pool_);
  }

  void check_fits(int64_t n) const {
    if (position_ + n > summary_.context) {
      throw ContextFullError("context full: " + std::to_string(n) + " more token(s) do not fit after " +
                             std::to_string(position_) + " of " + std::to_string(summary_.context) + ".");
    }
  }

  void check_token(int32_t id) const {
    if (id < 0 || id >= hp_.n_vocab) {
      throw Error(where() + ": token id " + std::to_string(id) + " is out of range (vocabulary of " +
                  std::to_string(hp_.n_vocab) + ").");
    }
  }

  gguf::GgufFile file_;
  model::HyperParams hp_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;  // null when the file has none
  ThreadPool pool_;
  int64_t batch_;
  int64_t context_ = 0;  // set by load_backend(), before the transformer is built
  std::unique_ptr<flash::ModelBackend> backend_;
  model::Transformer transformer_;
  ModelSummary summary_;
  EngineStats stats_;
  int64_t position_ = 0;
};

}  // namespace

std::unique_ptr<Engine> Engine::load(const EngineOptions& options) {
  if (options.mode != EngineMode::automatic) return std::make_unique<DenseEngine>(options);
  const flash::ModeChoice choice = flash::choose_engine_mode(options);
  EngineOptions chosen = options;
  chosen.mode = choice.mode;
  chosen.dram_budget = DramBudget{.bytes = choice.budget};
  return std::make_unique<DenseEngine>(chosen, choice);
}

}  // namespace sieve
