#include "bench/bench_worker.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <string>

namespace sieve::flash {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// A fixed prompt of ordinary-looking ids (BOS first when the model has one):
// the same for every mode, so every run does the same work.
std::vector<int32_t> prompt_ids(const ModelSummary& m, int64_t n) {
  std::vector<int32_t> ids;
  if (m.bos_id >= 0) ids.push_back(m.bos_id);
  for (int64_t i = static_cast<int64_t>(ids.size()); i < n; ++i) {
    ids.push_back(static_cast<int32_t>((i * 7919 + 300) % std::max<int64_t>(1, m.n_vocab)));
  }
  return ids;
}

// The decode phase's sparse statistics: differences of the engine's counters.
void set_sparse(Json& out, const sparse::SparseOptions& o, const EngineStats& before, const EngineStats& after) {
  out["window"] = static_cast<int64_t>(o.window);
  out["predictor"] = sparse::to_string(o.predictor);
  out["pin_hot"] = o.pin_hot;
  out["decode_sparse_tokens"] = after.sparse_tokens - before.sparse_tokens;
  out["decode_sparse_neurons_predicted"] =
      static_cast<int64_t>(after.sparse_neurons_predicted - before.sparse_neurons_predicted);
  out["decode_sparse_neurons_loaded"] =
      static_cast<int64_t>(after.sparse_neurons_loaded - before.sparse_neurons_loaded);
  out["decode_sparse_neuron_hits"] = static_cast<int64_t>(after.sparse_neuron_hits - before.sparse_neuron_hits);
  out["decode_sparse_bytes"] = static_cast<int64_t>(after.sparse_bytes_read - before.sparse_bytes_read);
  out["decode_sparse_bytes_wanted"] = static_cast<int64_t>(after.sparse_bytes_wanted - before.sparse_bytes_wanted);
  out["decode_sparse_reads"] = static_cast<int64_t>(after.sparse_reads - before.sparse_reads);
  out["sparse_ffn_bytes_per_token"] = static_cast<int64_t>(after.sparse_ffn_bytes_per_token);
}

// The decode phase's expert cache statistics (flash mode on a
// Mixture-of-Experts model).
void set_experts(Json& out, const EngineStats& before, const EngineStats& after) {
  const auto diff = [](uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b); };
  out["decode_expert_hits"] = diff(after.expert_hits, before.expert_hits);
  out["decode_expert_misses"] = diff(after.expert_misses, before.expert_misses);
  out["decode_expert_prefetched"] = diff(after.expert_prefetched, before.expert_prefetched);
  out["decode_expert_prefetch_used"] = diff(after.expert_prefetch_used, before.expert_prefetch_used);
  out["decode_expert_bytes_wanted"] = diff(after.expert_bytes_wanted, before.expert_bytes_wanted);
}

}  // namespace

uint64_t process_disk_read_bytes() {
  std::ifstream in("/proc/self/io");
  for (std::string key; in >> key;) {
    uint64_t value = 0;
    in >> value;
    if (key == "read_bytes:") return value;
  }
  return 0;
}

Json run_bench_worker(const WorkerRequest& r) {
  EngineOptions o;
  o.model_path = r.model;
  o.mode = r.mode;
  o.dram_budget = r.budget;
  o.threads = r.threads;
  o.context = r.context;
  if (r.batch > 0) o.batch = r.batch;
  o.flash = r.tuning;
  o.sparse = r.sparse;
  const uint64_t disk_at_start = process_disk_read_bytes();
  const Clock::time_point load_start = Clock::now();
  const std::unique_ptr<Engine> engine = Engine::load(o);
  const double load_seconds = seconds_since(load_start);
  const uint64_t disk_after_load = process_disk_read_bytes();

  std::span<const float> logits = engine->prefill(prompt_ids(engine->model(), std::max<int64_t>(1, r.prompt_tokens)));
  const EngineStats before = engine->stats();
  const uint64_t disk_before = process_disk_read_bytes();
  const std::clock_t cpu_before = std::clock();  // this process's CPU time, every thread
  for (int64_t i = 0; i < r.decode_tokens && engine->remaining_context() > 0; ++i) logits = engine->decode(argmax(logits));
  const std::clock_t cpu_after = std::clock();
  const EngineStats after = engine->stats();
  const uint64_t disk_after = process_disk_read_bytes();

  Json out = Json::object();
  out["mode"] = to_string(r.mode);
  out["model"] = r.model.string();
  out["model_bytes"] = static_cast<int64_t>(std::filesystem::file_size(r.model));
  out["budget_bytes"] = uses_budget(r.mode) && r.budget.is_set()
                            ? Json(static_cast<int64_t>(r.budget.resolve(std::filesystem::file_size(r.model))))
                            : Json();
  out["threads"] = static_cast<int64_t>(r.threads);
  out["context"] = engine->model().context;
  out["batch"] = o.batch;
  out["read_size"] = static_cast<int64_t>(r.tuning.read_bytes);
  out["queue_depth"] = static_cast<int64_t>(resolved_queue_depth(r.tuning.queue_depth, r.mode == EngineMode::sparse));
  out["weight_bytes"] = static_cast<int64_t>(engine->model().weight_bytes);
  out["load_seconds"] = load_seconds;
  out["load_disk_read_bytes"] = static_cast<int64_t>(disk_after_load - disk_at_start);
  out["prompt_tokens"] = before.prompt_tokens;
  out["prompt_seconds"] = before.prompt_seconds;
  const int64_t tokens = after.decode_tokens - before.decode_tokens;
  const double seconds = after.decode_seconds - before.decode_seconds;
  out["decode_tokens"] = tokens;
  out["decode_seconds"] = seconds;
  out["decode_tokens_per_second"] = seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0;
  out["decode_disk_read_bytes"] = static_cast<int64_t>(disk_after - disk_before);
  out["decode_flash_bytes"] = static_cast<int64_t>(after.flash_bytes_read - before.flash_bytes_read);
  out["decode_io_wait_seconds"] = after.flash_io_wait_seconds - before.flash_io_wait_seconds;
  out["decode_compute_seconds"] = after.flash_bytes_read > before.flash_bytes_read
                                      ? seconds - (after.flash_io_wait_seconds - before.flash_io_wait_seconds)
                                      : seconds;
  // CPU time of every thread (spinning workers and the I/O thread included),
  // which a busy machine distorts far less than the seconds above.
  out["decode_cpu_seconds"] = static_cast<double>(cpu_after - cpu_before) / CLOCKS_PER_SEC;
  if (r.mode == EngineMode::sparse) set_sparse(out, r.sparse, before, after);
  if (after.expert_hits + after.expert_misses > 0) set_experts(out, before, after);
  out["peak_rss_bytes"] = static_cast<int64_t>(after.peak_rss_bytes);
  out["memory_plan"] = engine->model().memory_plan;
  return out;
}

}  // namespace sieve::flash
