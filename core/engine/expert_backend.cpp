#include "engine/expert_backend.h"

#include <algorithm>
#include <cstdio>

#include "flash/expert_cache.h"
#include "flash/io/direct_file.h"
#include "flash/tensor_buffer.h"
#include "model/moe_feed_forward.h"
#include "util/byte_size.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

// Stacked expert tensors stay on the SSD; everything else is read in.
bool is_expert_matrix(const gguf::TensorInfo& t) {
  return t.name.ends_with("_exps.weight");
}

std::vector<const gguf::TensorInfo*> resident_tensors(const gguf::GgufFile& file) {
  std::vector<const gguf::TensorInfo*> resident;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (!is_expert_matrix(t)) resident.push_back(&t);
  }
  return resident;
}

class ExpertBackend final : public ModelBackend {
 public:
  ExpertBackend(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options,
                ThreadPool& pool)
      : plan_(plan_expert_memory(file, hp, options)),
        direct_(DirectFile::open(file.path().string())),
        io_(make_io_engine(direct_, io_options(options.tuning))),
        resident_(TensorBuffer::read(file, *io_, resident_tensors(file), options.tuning.read_bytes)),
        weights_(model::load_weights(file, hp, resident_source())),
        cache_(file, hp, *io_, plan_.slots, options.tuning.expert_read_ahead_precision),
        ffn_(hp, weights_, pool, cache_, static_cast<int>(options.batch)) {
    memory_plan_ = plan_.describe();
  }

  const model::ModelWeights& weights() const override { return weights_; }
  model::FeedForward& ffn() override { return ffn_; }
  void set_observer(model::ActivationObserver*) override {}  // experts are not observed
  BackendStats stats() const override {
    const ExpertCacheStats& c = cache_.stats();
    BackendStats s;
    s.bytes_read = c.bytes_read;
    s.read_requests = io_->stats().reads_issued;
    s.io_wait_seconds = c.io_wait_seconds;
    s.expert_hits = c.hits;
    s.expert_misses = c.misses;
    s.expert_bytes_wanted = c.wanted_bytes;
    s.expert_prefetched = c.prefetched;
    s.expert_prefetch_used = c.prefetch_used;
    return s;
  }
  std::vector<ExpertLayerHits> expert_layer_stats() const override {
    const ExpertCacheStats& c = cache_.stats();
    std::vector<ExpertLayerHits> layers(c.layer_hits.size());
    for (size_t l = 0; l < layers.size(); ++l) layers[l] = {c.layer_hits[l], c.layer_misses[l]};
    return layers;
  }

 private:
  model::WeightSource resident_source() {
    model::WeightSource source;
    source.bytes = [this](const gguf::TensorInfo& t) { return resident_.bytes(t); };
    source.experts = false;
    return source;
  }

  ExpertPlan plan_;
  DirectFile direct_;
  std::unique_ptr<IoEngine> io_;
  TensorBuffer resident_;
  model::ModelWeights weights_;
  ExpertCache cache_;
  model::MoeFeedForward ffn_;
};

}  // namespace

uint64_t ExpertPlan::even_read_bytes_per_token() const {
  if (all_experts == 0 || slots >= all_experts) return 0;
  const double missed = 1.0 - static_cast<double>(slots) / static_cast<double>(all_experts);
  return static_cast<uint64_t>(static_cast<double>(chosen_per_token) * missed * static_cast<double>(expert_bytes));
}

std::string ExpertPlan::describe() const {
  std::string out;
  char line[200];
  std::snprintf(line, sizeof line, "%s%s (minimum %s), planned %s:\n", budget == 0 ? "no DRAM budget" : "DRAM budget ",
                budget == 0 ? "" : format_size(budget).c_str(), format_size(minimum).c_str(), format_size(total()).c_str());
  out += line;
  for (const MemoryItem& item : fixed) {
    std::snprintf(line, sizeof line, "  %-28s %12s\n", item.what.c_str(), format_size(item.bytes).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "  %-28s %12s  (%lld of %lld experts, %s each)\n", "expert cache",
                format_size(static_cast<uint64_t>(slots) * slot_bytes).c_str(), static_cast<long long>(slots),
                static_cast<long long>(all_experts), format_size(slot_bytes).c_str());
  out += line;
  if (slots < all_experts) {
    std::snprintf(line, sizeof line, "  about %s read per token if tokens spread evenly over the experts\n",
                  format_size(even_read_bytes_per_token()).c_str());
    out += line;
  }
  return out;
}

ExpertPlan plan_expert_memory(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options) {
  ExpertPlan plan;
  const std::vector<const gguf::TensorInfo*> resident = resident_tensors(file);
  plan.fixed = {
      {"resident weights", TensorBuffer::bytes_needed(file, resident) + model::float_vector_bytes(hp)},
      {"KV cache", kv_cache_bytes(hp, options.context)},
      {"activations and scratch", run_state_bytes(hp, options.context, options.batch)},
      {"I/O staging", 6 * static_cast<uint64_t>(ExpertCache::request_limit(hp, hp.n_layers * hp.n_experts)) *
                          kDefaultIoAlignment},
  };
  for (const MemoryItem& item : plan.fixed) plan.fixed_bytes += item.bytes;
  plan.slot_bytes = ExpertCache::slot_bytes(file, hp);
  plan.all_experts = hp.n_layers * hp.n_experts;
  plan.chosen_per_token = hp.n_layers * hp.n_experts_used;
  uint64_t stacked_bytes = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (is_expert_matrix(t)) stacked_bytes += t.size_bytes;
  }
  plan.expert_bytes = stacked_bytes / static_cast<uint64_t>(std::max<int64_t>(plan.all_experts, 1));
  plan.minimum = plan.fixed_bytes + static_cast<uint64_t>(hp.n_experts_used) * plan.slot_bytes;
  plan.budget = options.budget.is_set() ? options.budget.resolve(file.file_size()) : 0;
  if (plan.budget == 0) {
    plan.slots = plan.all_experts;
    return plan;
  }
  if (plan.budget < plan.minimum) {
    std::string parts;
    for (const MemoryItem& item : plan.fixed) parts += item.what + " " + format_size(item.bytes) + ", ";
    throw Error(file.path().filename().string() + ": the DRAM budget " + format_size(plan.budget) +
                " is below this model's minimum of " + format_size(plan.minimum) + " (" + parts +
                std::to_string(hp.n_experts_used) + " expert slots " +
                format_size(static_cast<uint64_t>(hp.n_experts_used) * plan.slot_bytes) + ").");
  }
  plan.slots = std::min<int64_t>(plan.all_experts,
                                 static_cast<int64_t>((plan.budget - plan.fixed_bytes) / plan.slot_bytes));
  return plan;
}

std::unique_ptr<ModelBackend> load_expert_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                  const BackendOptions& options, ThreadPool& pool) {
  return std::make_unique<ExpertBackend>(file, hp, options, pool);
}

}  // namespace sieve::flash
