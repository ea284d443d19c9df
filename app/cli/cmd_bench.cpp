// `sieve bench -m MODEL --budgets 25%,50%,100% --modes mmap,flash,sparse`:
// decode speed, bytes read per token, I/O wait against compute, read
// bandwidth and peak RSS per mode and DRAM budget (sparse mode once per
// --window value, with neurons loaded and % of FFN bytes per token), each measured in a fresh child process
// (`sieve bench-worker`) whose memory — page cache included — is capped at
// the budget by a cgroup (docs/flash.md, "Benchmark method").

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/memory_bandwidth.h"
#include "cli/args.h"
#include "cli/bench_reference.h"
#include "cli/commands.h"
#include "cli/mode_args.h"
#include "engine.h"
#include "bench/bench_worker.h"
#include "bench/child_process.h"
#include "bench/memory_limit.h"
#include "flash/io/disk_profile.h"
#include "flash/pack_format.h"
#include "gguf/gguf_file.h"
#include "util/json_text.h"
#include "util/thread_pool.h"

namespace sieve::cli {
namespace {

namespace fs = std::filesystem;

// What a process needs beyond the engine's own allocations (code, libraries,
// thread stacks, the tokenizer and the parsed metadata): added to the budget
// to form each run's cgroup limit, for every mode alike (docs/flash.md).
constexpr uint64_t kDefaultOverhead = uint64_t{64} << 20;

const std::vector<OptionSpec>& bench_options() {
  static const std::vector<OptionSpec> specs = {
      {"model", 'm', true, "the model: a GGUF or a pack (.sieve); flash runs need a pack", "MODEL"},
      {"budgets", 0, true, "DRAM budgets, comma-separated: sizes or % of the model file (default 50%)", "LIST"},
      {"modes", 0, true, "modes to compare, comma-separated: mmap, flash, sparse, dense (default mmap,flash)", "LIST"},
      {"n-predict", 'n', true, "tokens to decode per run (default 16)", "N"},
      {"prompt", 'p', true, "prompt tokens prefilled before decoding (default 16)", "N"},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"ctx", 'c', true, "context size (default 512)", "N"},
      {"batch", 'b', true, "prompt tokens per prefill step (default: the engine's, " + std::to_string(EngineOptions{}.batch) + ")", "N"},
      {"read-size", 0, true, "flash: bytes per read request (default 1M)", "SIZE"},
      {"queue-depth", 0, true, "reads in flight (default: 32 for flash, 64 for sparse)", "N"},
      {"overhead", 0, true, "added to the budget for each run's memory limit (default 64M)", "SIZE"},
      {"disk-profile", 0, true,
       "a `sieve probe-disk --json` profile: report the I/O floor per token; sparse runs size merged reads by it", "FILE"},
      {"predictor", 0, true, "sparse: gate (default), lowrank or powerinfer", "KIND"},
      {"gate-copy", 0, true, "sparse, gate predictor: auto (default), exact or a type such as q8_0", "TYPE"},
      {"sparsity", 0, true, "sparse, gate predictor: skip this fraction of neurons (calibrated)", "S"},
      {"window", 0, true, "sparse: window sizes in tokens, comma-separated; one sparse run each (default 4)", "LIST"},
      {"no-pin-hot", 0, false, "sparse: do not pin hot neurons", ""},
      {"no-neuron-units", 0, false, "sparse: read clusters even when the pack has per-neuron units", ""},
      {"whole-unit-reads", 0, false, "sparse: read per-neuron units whole, page padding included", ""},
      {"merge-gap", 0, true, "sparse: read through holes up to this size (default: by --disk-profile, else 0)", "SIZE"},
      {"reference", 0, true,
       "also time the reference (llama.cpp over mmap) at each budget under the same memory limit: the path of "
       "its refbench.mjs (../shared/tools/reference/README.md; needs node)", "SCRIPT"},
      {"json", 0, true, "also write every measurement as JSON", "FILE"},
      {"no-limit", 0, false, "run without a memory cgroup (results marked unconstrained)", ""},
      {"timeout", 0, true, "seconds before a run is stopped (default 3600)", "S"},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::string mib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", bytes / (1 << 20));
  return text;
}

struct Settings {
  fs::path model;
  uint64_t model_bytes = 0;
  fs::path mmap_model;  // the source GGUF beside a pack, when present: the real baseline
  int64_t decode_tokens = 16, prompt_tokens = 16, context = 512, batch = 0;
  int threads = 0;
  uint64_t read_size = 1 << 20, queue_depth = 0, overhead = kDefaultOverhead;  // depth 0: by mode
  bool limit = true;
  double timeout = 3600;
  std::string disk_profile;
  std::vector<std::string> sparse_args;  // passed to sparse runs as given
  std::vector<int> windows = {4};
  std::string reference_script;  // --reference: time the reference too
};

// One measurement: a mode (and for sparse mode a window size) at a budget.
struct RunSpec {
  EngineMode mode = EngineMode::flash;
  int window = 0;
  bool reference = false;  // the reference implementation over mmap, not Sieve
  std::string label() const {
    if (reference) return "reference";
    return mode == EngineMode::sparse ? "sparse k=" + std::to_string(window) : std::string(to_string(mode));
  }
};

// The mmap baseline maps the original GGUF when it sits beside the pack
// (what a user without Sieve would run); otherwise the pack itself.
fs::path baseline_model(const fs::path& model) {
  const gguf::GgufFile file = gguf::GgufFile::open(model);
  const auto source = file.get_string(flash::pack_keys::kSource);
  const auto size = file.get_int(flash::pack_keys::kSourceSize);
  if (!source || !size) return model;
  const fs::path beside = model.parent_path() / *source;
  std::error_code ec;
  if (fs::exists(beside, ec) && fs::file_size(beside, ec) == static_cast<uint64_t>(*size)) return beside;
  return model;
}

std::vector<std::string> worker_argv(const Settings& s, const RunSpec& run, const std::string& budget) {
  const EngineMode mode = run.mode;
  std::vector<std::string> argv = {flash::own_executable(), "bench-worker", "-m",
                                   (mode == EngineMode::mmap ? s.mmap_model : s.model).string(), "--mode", to_string(mode),
                                   "-n", std::to_string(s.decode_tokens), "-p", std::to_string(s.prompt_tokens),
                                   "-t", std::to_string(s.threads), "--ctx", std::to_string(s.context),
                                   "--read-size", std::to_string(s.read_size)};
  if (s.queue_depth > 0) argv.insert(argv.end(), {"--queue-depth", std::to_string(s.queue_depth)});
  if (s.batch > 0) argv.insert(argv.end(), {"--batch", std::to_string(s.batch)});
  if (uses_budget(mode)) argv.insert(argv.end(), {"--dram-budget", budget});
  if (mode == EngineMode::sparse) {
    argv.insert(argv.end(), {"--window", std::to_string(run.window)});
    argv.insert(argv.end(), s.sparse_args.begin(), s.sparse_args.end());
    if (!s.disk_profile.empty()) argv.insert(argv.end(), {"--disk-profile", s.disk_profile});
  }
  return argv;
}

Json measure(const Settings& s, const RunSpec& spec, const std::string& budget_text, uint64_t budget_bytes) {
  const EngineMode mode = spec.mode;
  for (const fs::path& f : {s.model, s.mmap_model}) {
    std::string why;
    if (!flash::drop_file_cache(f.string(), &why)) std::fprintf(stderr, "bench: %s\n", why.c_str());
  }
  const uint64_t limit_bytes = budget_bytes + s.overhead;
  std::unique_ptr<flash::MemoryLimit> limit;
  if (s.limit) limit = std::make_unique<flash::MemoryLimit>(limit_bytes);
  const double cached = flash::cached_fraction((mode == EngineMode::mmap ? s.mmap_model : s.model).string()).value_or(-1);
  std::fprintf(stderr, "bench: %s, budget %s (%s MiB)%s ...\n", spec.label().c_str(), budget_text.c_str(),
               mib(static_cast<double>(budget_bytes)).c_str(),
               limit && limit->available() ? (", memory limit " + mib(static_cast<double>(limit_bytes)) + " MiB").c_str()
                                           : ", no memory limit");
  const std::vector<std::string> argv =
      spec.reference ? reference_argv({s.reference_script, s.mmap_model, s.prompt_tokens, s.decode_tokens, s.threads})
                     : worker_argv(s, spec, budget_text);
  const flash::ChildResult child = flash::run_child(argv, limit.get(), s.timeout);
  Json run = Json::object();
  if (child.exit_code == 0 && !child.timed_out) {
    try {
      run = spec.reference ? reference_result(child.out) : Json::parse(child.out);
    } catch (const Json::exception& e) {
      throw Error("bench: the " + spec.label() + " run printed no valid JSON: " + json_error_text(e));
    }
  } else {
    std::string what = child.timed_out ? "timed out" : child.signal != 0 ? "killed by signal " + std::to_string(child.signal)
                                                                          : "exited with " + std::to_string(child.exit_code);
    const std::string error =
        what + (child.err.empty() ? "" : ": " + child.err.substr(0, child.err.find_last_not_of('\n') + 1));
    run["mode"] = spec.reference ? "reference" : to_string(mode);
    run["error"] = error;
    std::fprintf(stderr, "bench: %s run failed: %s\n", spec.label().c_str(), error.c_str());
  }
  run["label"] = spec.label();
  if (mode == EngineMode::sparse) run["window"] = static_cast<int64_t>(spec.window);
  run["budget"] = budget_text;
  run["budget_bytes"] = static_cast<int64_t>(budget_bytes);
  run["cached_fraction_before"] = cached;
  Json cg = Json::object();
  cg["constrained"] = limit != nullptr && limit->available();
  if (limit && limit->available()) {
    cg["version"] = static_cast<int64_t>(limit->version());
    cg["limit_bytes"] = static_cast<int64_t>(limit_bytes);
    if (auto peak = limit->peak_bytes()) cg["peak_bytes"] = static_cast<int64_t>(*peak);
    if (auto hits = limit->limit_hits()) cg["limit_hits"] = static_cast<int64_t>(*hits);
  } else {
    cg["why"] = limit ? limit->why() : std::string("--no-limit");
  }
  run["cgroup"] = std::move(cg);
  return run;
}

double number(const Json& run, const char* key) {
  const auto v = run.find(key);
  return v != run.end() && v->is_number() ? v->get<double>() : 0.0;
}

const std::string& string_member(const Json& run, const char* key) { return run.at(key).get_ref<const std::string&>(); }

uint32_t flash_depth(const Settings& s) {
  return s.queue_depth > 0 ? static_cast<uint32_t>(s.queue_depth) : flash::kFlashQueueDepth;
}

// Seconds per token the disk needs at least for flash's reads (probe-disk's
// bandwidth at our read size and queue depth), 0 without a profile.
double io_floor(const Json& run, const flash::DiskProfile* profile, const Settings& s) {
  if (profile == nullptr || number(run, "decode_tokens") == 0) return 0;
  const double mb_per_s = profile->mb_per_s_at(static_cast<uint32_t>(s.read_size), flash_depth(s));
  if (mb_per_s <= 0) return 0;
  return number(run, "decode_flash_bytes") / number(run, "decode_tokens") / (mb_per_s * 1e6);
}

bool streams_ffn(const std::string& mode) { return mode == "flash" || mode == "sparse"; }

// Decode tok/s of the first successful run of `mode` at each budget.
std::map<std::string, double> speed_by_budget(const std::vector<Json>& runs, const std::string& mode) {
  std::map<std::string, double> speed;
  for (const Json& r : runs) {
    if (!r.contains("error") && string_member(r, "mode") == mode && !speed.count(string_member(r, "budget"))) {
      speed[string_member(r, "budget")] = number(r, "decode_tokens_per_second");
    }
  }
  return speed;
}

std::string ratio_text(double value, const std::map<std::string, double>& base, const std::string& budget) {
  const auto it = base.find(budget);
  if (it == base.end() || it->second <= 0) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.2f", value / it->second);
  return text;
}

std::string label_of(const Json& r) {
  const auto label = r.find("label");
  return label != r.end() && label->is_string() ? label->get<std::string>() : string_member(r, "mode");
}

void print_table(const std::vector<Json>& runs, const flash::DiskProfile* profile, const Settings& s) {
  std::printf("\n%-11s %9s %9s %8s %8s %10s %9s %9s %8s %9s %9s %8s %8s %8s %8s\n", "mode", "budget", "limit", "tok/s",
              "s/tok", "read/tok", "wait/tok", "comp/tok", "MB/s", "peak RSS", "cg peak", "x mmap", "x flash", "x floor",
              "x ref");
  std::printf("%-11s %9s %9s %8s %8s %10s %9s %9s %8s %9s %9s %8s %8s %8s %8s\n", "", "MiB", "MiB", "", "s", "MiB", "s",
              "s", "", "MiB", "MiB", "", "", "", "");
  const std::map<std::string, double> mmap_speed = speed_by_budget(runs, "mmap");
  const std::map<std::string, double> flash_speed = speed_by_budget(runs, "flash");
  const std::map<std::string, double> reference_speed = speed_by_budget(runs, "reference");
  for (const Json& r : runs) {
    const std::string mode = string_member(r, "mode");
    const std::string budget = string_member(r, "budget");
    if (r.contains("error")) {
      std::printf("%-11s %9s  failed: %s\n", label_of(r).c_str(), budget.c_str(), string_member(r, "error").c_str());
      continue;
    }
    const double tokens = std::max(1.0, number(r, "decode_tokens"));
    const double tps = number(r, "decode_tokens_per_second");
    const Json& cg = r.at("cgroup");
    const bool constrained = cg.at("constrained").get<bool>();
    const double read = (streams_ffn(mode) ? number(r, "decode_flash_bytes") : number(r, "decode_disk_read_bytes")) / tokens;
    const double spt = number(r, "decode_seconds") / tokens;
    const double floor = mode == "flash" ? io_floor(r, profile, s) : 0;
    char vs_floor[16] = "-";
    if (floor > 0) std::snprintf(vs_floor, sizeof vs_floor, "%.2f", spt / floor);
    std::printf("%-11s %9s %9s %8.3f %8.3f %10s %9.3f %9.3f %8.0f %9s %9s %8s %8s %8s %8s%s\n", label_of(r).c_str(),
                mib(number(r, "budget_bytes")).c_str(),
                constrained ? mib(number(cg, "limit_bytes")).c_str() : "none", tps, spt, mib(read).c_str(),
                number(r, "decode_io_wait_seconds") / tokens, number(r, "decode_compute_seconds") / tokens,
                spt > 0 ? read / spt / 1e6 : 0.0, mib(number(r, "peak_rss_bytes")).c_str(),
                constrained ? mib(number(cg, "peak_bytes")).c_str() : "-", ratio_text(tps, mmap_speed, budget).c_str(),
                mode == "flash" ? "-" : ratio_text(tps, flash_speed, budget).c_str(), vs_floor,
                mode == "reference" ? "-" : ratio_text(tps, reference_speed, budget).c_str(),
                constrained ? "" : "  (unconstrained)");
  }
  std::printf(
      "\nread/tok: bytes read from the disk per decoded token (mmap: the process's block reads, /proc/self/io;\n"
      "flash, sparse: FFN bytes read). MB/s = read/tok / s/tok. wait/tok: time blocked on reads; comp/tok: the rest.\n"
      "cg peak: the cgroup's peak charge (page cache included). x floor: s/tok over the I/O floor, the bytes\n"
      "flash reads per token at probe-disk's bandwidth for %s reads at depth %llu (--disk-profile).\n"
      "reference: llama.cpp over mmap (--reference; its reads are not measured), same limit; x ref: tok/s over it.\n",
      format_bytes(s.read_size).c_str(), static_cast<unsigned long long>(flash_depth(s)));
}

// Sparse runs: what the predictor selected and where it came from, per
// decoded token, for each window size (the LLM-in-a-flash window sweep).
void print_sparse_table(const std::vector<Json>& runs) {
  std::vector<const Json*> sparse;
  for (const Json& r : runs) {
    if (!r.contains("error") && string_member(r, "mode") == "sparse") sparse.push_back(&r);
  }
  if (sparse.empty()) return;
  const std::map<std::string, double> mmap_speed = speed_by_budget(runs, "mmap");
  const std::map<std::string, double> flash_speed = speed_by_budget(runs, "flash");
  std::printf("\nsparse mode per decoded token (all layers):\n%9s %6s %8s %10s %10s %10s %8s %10s %9s %10s %9s %8s %8s %8s %8s\n",
              "budget", "window", "tok/s", "predicted", "loaded", "in DRAM", "hits %", "read MB", "% of FFN", "wanted MB",
              "% of FFN", "wait s", "CPU s", "x mmap", "x flash");
  for (const Json* r : sparse) {
    const double tokens = std::max(1.0, number(*r, "decode_sparse_tokens"));
    const double predicted = number(*r, "decode_sparse_neurons_predicted") / tokens;
    const double loaded = number(*r, "decode_sparse_neurons_loaded") / tokens;
    const double hits = number(*r, "decode_sparse_neuron_hits") / tokens;
    const double read = number(*r, "decode_sparse_bytes") / tokens;
    const double wanted = number(*r, "decode_sparse_bytes_wanted") / tokens;
    const double ffn = number(*r, "sparse_ffn_bytes_per_token");
    const double tps = number(*r, "decode_tokens_per_second");
    const std::string budget = string_member(*r, "budget");
    const double decoded = std::max(1.0, number(*r, "decode_tokens"));
    std::printf("%9s %6lld %8.3f %10.0f %10.0f %10.0f %8.1f %10.2f %8.2f%% %10.2f %8.2f%% %8.3f %8.3f %8s %8s\n",
                budget.c_str(), static_cast<long long>(number(*r, "window")), tps, predicted, loaded, hits,
                loaded + hits > 0 ? 100.0 * hits / (loaded + hits) : 0.0, read / 1e6, ffn > 0 ? 100.0 * read / ffn : 0.0,
                wanted / 1e6, ffn > 0 ? 100.0 * wanted / ffn : 0.0, number(*r, "decode_io_wait_seconds") / decoded,
                number(*r, "decode_cpu_seconds") / decoded, ratio_text(tps, mmap_speed, budget).c_str(),
                ratio_text(tps, flash_speed, budget).c_str());
  }
  std::printf(
      "\npredicted: neurons the predictor selected; loaded: read from the SSD; in DRAM: found in the neuron\n"
      "store (clusters of quantized packs count all their neurons). read MB: bytes read, alignment and merged\n"
      "holes included; wanted MB: the loaded neurons' own bytes; %% of FFN: of what streaming every layer's\n"
      "whole FFN would read. wait s: blocked on reads; CPU s: CPU time of every thread of the process (a\n"
      "busy machine distorts it less than seconds; waiting workers spin, so it counts them too).\n");
}

// Flash runs on a Mixture-of-Experts model: the expert cache per decoded
// token, and how the bytes read compare with the missed experts' own.
void print_expert_table(const std::vector<Json>& runs) {
  std::vector<const Json*> expert_runs;
  for (const Json& r : runs) {
    if (!r.contains("error") && r.contains("decode_expert_hits")) expert_runs.push_back(&r);
  }
  if (expert_runs.empty()) return;
  const std::map<std::string, double> mmap_speed = speed_by_budget(runs, "mmap");
  const std::map<std::string, double> reference_speed = speed_by_budget(runs, "reference");
  std::printf("\nexpert streaming per decoded token (all layers):\n%9s %8s %8s %8s %8s %8s %8s %9s %9s %9s %8s %8s %8s\n",
              "budget", "tok/s", "chosen", "cached %", "ahead %", "demand", "ahead", "read MB", "own MB", "read/own",
              "wait s", "x mmap", "x ref");
  for (const Json* r : expert_runs) {
    const double tokens = std::max(1.0, number(*r, "decode_tokens"));
    const double hits = number(*r, "decode_expert_hits"), misses = number(*r, "decode_expert_misses");
    const double ahead = number(*r, "decode_expert_prefetched"), used = number(*r, "decode_expert_prefetch_used");
    const double read = number(*r, "decode_flash_bytes"), wanted = number(*r, "decode_expert_bytes_wanted");
    const double tps = number(*r, "decode_tokens_per_second");
    const std::string budget = string_member(*r, "budget");
    const double chosen = std::max(1.0, hits + misses);
    std::printf("%9s %8.3f %8.0f %8.1f %8.1f %8.1f %8.1f %9.1f %9.1f %9.2f %8.3f %8s %8s\n", budget.c_str(), tps,
                (hits + misses) / tokens, 100.0 * (hits - used) / chosen, 100.0 * used / chosen, misses / tokens,
                ahead / tokens, read / tokens / 1e6, wanted / tokens / 1e6,
                wanted > 0 ? read / wanted : 0.0, number(*r, "decode_io_wait_seconds") / tokens,
                ratio_text(tps, mmap_speed, budget).c_str(), ratio_text(tps, reference_speed, budget).c_str());
  }
  std::printf(
      "\nchosen: experts the routers picked; cached %%: of them, already in the expert cache; ahead %%: read ahead\n"
      "(the next layer's router applied early) before they were chosen; demand: read when chosen; ahead: experts\n"
      "read ahead (right or wrong); read MB: bytes read (alignment included); own MB: the read experts' bytes.\n");
}

// Dense runs are compute on weights already in RAM: their ceiling is memory
// bandwidth, measured here in the same process right after the runs. Each
// decoded token streams every weight once (the model's tensor bytes), and a
// prompt is prefilled with matrix x matrix products, so prompt tok/s over
// decode tok/s says how much batching gains.
void print_dense_summary(const std::vector<Json>& runs, const Settings& s) {
  std::vector<const Json*> dense;
  for (const Json& r : runs) {
    if (!r.contains("error") && string_member(r, "mode") == "dense") dense.push_back(&r);
  }
  if (dense.empty()) return;
  ThreadPool pool(s.threads);
  const size_t bytes = size_t{1} << 30;  // far past any last-level cache
  bench::AlignedBuffer buffer(bytes);
  bench::fill_random(buffer.data(), bytes, 1, pool);
  const double read_gbps = bench::measure_read_bandwidth(buffer.data(), bytes, pool, 3).best_gbps;
  std::printf("\ndense: memory-read bandwidth %.2f GB/s (1 GiB, %d threads, measured in this run)\n", read_gbps,
              pool.size());
  std::printf("%-6s %12s %12s %10s %12s %12s %10s\n", "mode", "prompt tok/s", "decode tok/s", "prefill x",
              "weights GB", "weights GB/s", "% of read");
  for (const Json* r : dense) {
    const double prompt_tps =
        number(*r, "prompt_seconds") > 0 ? number(*r, "prompt_tokens") / number(*r, "prompt_seconds") : 0;
    const double decode_tps = number(*r, "decode_tokens_per_second");
    const double weight_gb = number(*r, "weight_bytes") / 1e9;
    const double gbps = weight_gb * decode_tps;
    std::printf("%-6s %12.2f %12.2f %10.2f %12.3f %12.2f %9.1f%%\n", "dense", prompt_tps, decode_tps,
                decode_tps > 0 ? prompt_tps / decode_tps : 0.0, weight_gb, gbps,
                read_gbps > 0 ? 100.0 * gbps / read_gbps : 0.0);
  }
}

Settings read_settings(const Args& args) {
  Settings s;
  s.model = *args.get("model");
  if (!fs::exists(s.model)) throw UsageError("-m: " + s.model.string() + " does not exist");
  s.model = fs::absolute(s.model);
  s.model_bytes = fs::file_size(s.model);
  s.mmap_model = baseline_model(s.model);
  s.decode_tokens = args.get_int("n-predict", 16, 1, 1 << 20);
  s.prompt_tokens = args.get_int("prompt", 16, 1, 1 << 20);
  s.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  s.context = args.get_int("ctx", 512, 1, int64_t{1} << 24);
  if (s.context < s.prompt_tokens + s.decode_tokens) throw UsageError("--ctx must hold the prompt and the decoded tokens");
  s.batch = args.get_int("batch", 0, 1, kMaxPrefillBatch);  // 0: not given
  s.read_size = args.get_size("read-size", s.read_size);
  s.queue_depth = static_cast<uint64_t>(args.get_int("queue-depth", 0, 1, 1024));  // 0: not given
  s.overhead = args.get_size("overhead", s.overhead);
  s.limit = !args.has("no-limit");
  s.timeout = args.get_double("timeout", 3600);
  if (auto file = args.get("disk-profile")) s.disk_profile = fs::absolute(*file).string();
  if (auto script = args.get("reference")) {
    if (!fs::exists(*script)) throw UsageError("--reference: " + *script + " does not exist");
    s.reference_script = fs::absolute(*script).string();
  }
  for (const char* name : {"predictor", "gate-copy", "sparsity", "merge-gap"}) {
    if (auto value = args.get(name)) s.sparse_args.insert(s.sparse_args.end(), {std::string("--") + name, *value});
  }
  if (args.has("no-pin-hot")) s.sparse_args.push_back("--no-pin-hot");
  if (args.has("no-neuron-units")) s.sparse_args.push_back("--no-neuron-units");
  if (args.has("whole-unit-reads")) s.sparse_args.push_back("--whole-unit-reads");
  if (auto windows = args.get("window")) {
    s.windows.clear();
    for (const std::string& w : split_list(*windows)) s.windows.push_back(parse_window(w));
    if (s.windows.empty()) throw UsageError("--window: expected window sizes such as 4 or 0,1,2,4,8");
  }
  // Refuse bad sparse options here, once, rather than in every worker.
  EngineOptions check;
  check.mode = EngineMode::sparse;
  apply_sparse_options(args, check, true);
  return s;
}

std::vector<RunSpec> run_specs(const std::vector<EngineMode>& modes, const Settings& s) {
  std::vector<RunSpec> specs;
  for (EngineMode mode : modes) {
    if (mode != EngineMode::sparse) {
      specs.push_back({mode, 0});
      continue;
    }
    for (int window : s.windows) specs.push_back({mode, window});
  }
  if (!s.reference_script.empty()) specs.push_back({EngineMode::mmap, 0, true});
  return specs;
}

}  // namespace

int cmd_bench(CommandArgs argv) {
  const Args args = Args::parse(argv, bench_options());
  const std::string synopsis =
      "sieve bench -m MODEL [--budgets 25%,50%,100%] [--modes mmap,flash,sparse] [--window 0,1,2,4,8] [-n TOKENS]\n"
      "            [-p PROMPT_TOKENS] [--json FILE]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, bench_options()).c_str());
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "'");
  if (!args.has("model")) throw UsageError("-m MODEL is required (see --help)");
  const Settings s = read_settings(args);
  std::vector<EngineMode> modes;
  for (const std::string& m : split_list(args.get_or("modes", "mmap,flash"))) {
    const auto mode = parse_engine_mode(m);
    if (!mode) throw UsageError("--modes: expected mmap, flash, sparse or dense, got '" + m + "'");
    modes.push_back(*mode);
  }
  std::vector<std::pair<std::string, uint64_t>> budgets;
  for (const std::string& b : split_list(args.get_or("budgets", "50%"))) {
    const auto budget = parse_dram_budget(b);
    if (!budget) throw UsageError("--budgets: expected sizes such as 2G or percentages such as 50%, got '" + b + "'");
    budgets.emplace_back(b, budget->resolve(s.model_bytes));
  }
  std::unique_ptr<flash::DiskProfile> profile;
  if (auto file = args.get("disk-profile")) profile = std::make_unique<flash::DiskProfile>(flash::DiskProfile::load(*file));

  std::fprintf(stderr, "bench: model %s (%s MiB); mmap runs map %s\n", s.model.string().c_str(),
               mib(static_cast<double>(s.model_bytes)).c_str(), s.mmap_model.filename().string().c_str());
  if (args.has("window") && std::find(modes.begin(), modes.end(), EngineMode::sparse) == modes.end()) {
    throw UsageError("--window applies to --modes with sparse");
  }
  std::vector<Json> runs;
  for (const auto& [text, bytes] : budgets) {
    for (const RunSpec& spec : run_specs(modes, s)) runs.push_back(measure(s, spec, text, bytes));
  }
  print_table(runs, profile.get(), s);
  print_sparse_table(runs);
  print_expert_table(runs);
  print_dense_summary(runs, s);
  for (const Json& r : runs) {
    const auto plan = r.find("memory_plan");
    if (plan != r.end() && plan->is_string() && !plan->get_ref<const std::string&>().empty()) {
      std::printf("\n%s %s: %s", label_of(r).c_str(), string_member(r, "budget").c_str(),
                  plan->get_ref<const std::string&>().c_str());
    }
  }
  if (auto file = args.get("json")) {
    Json all = Json::object();
    all["model"] = s.model.string();
    all["model_bytes"] = static_cast<int64_t>(s.model_bytes);
    all["mmap_model"] = s.mmap_model.string();
    all["overhead_bytes"] = static_cast<int64_t>(s.overhead);
    if (profile) all["disk_profile"] = Json::parse(profile->to_json());
    Json list = Json::array();
    for (Json& r : runs) {
      if (!r.contains("error") && string_member(r, "mode") == "flash") {
        r["io_floor_seconds_per_token"] = io_floor(r, profile.get(), s);
      }
      list.push_back(r);
    }
    all["runs"] = std::move(list);
    std::ofstream out(*file);
    out << to_json_text(all) << "\n";
    if (!out) throw Error(*file + ": cannot write the JSON results");
    std::fprintf(stderr, "bench: results saved to %s\n", file->c_str());
  }
  return 0;
}

// The child side: one measurement, JSON on stdout.
int cmd_bench_worker(CommandArgs argv) {
  static const std::vector<OptionSpec> specs = with_mode_options({
      {"model", 'm', true, "", "MODEL"},   {"n-predict", 'n', true, "", "N"},     {"prompt", 'p', true, "", "N"},
      {"threads", 't', true, "", "N"},     {"ctx", 'c', true, "", "N"},           {"read-size", 0, true, "", "SIZE"},
      {"queue-depth", 0, true, "", "N"},   {"batch", 'b', true, "", "N"},         {"help", 'h', false, "", ""},
  });
  const Args args = Args::parse(argv, specs);
  if (!args.has("model") || !args.has("mode")) throw UsageError("internal command of `sieve bench`: -m and --mode are required");
  EngineOptions options;
  apply_mode_options(args, options);
  flash::WorkerRequest r;
  r.model = *args.get("model");
  r.mode = options.mode;
  r.budget = options.dram_budget;
  r.sparse = options.sparse;
  r.tuning.disk_profile = options.flash.disk_profile;
  r.decode_tokens = args.get_int("n-predict", 16, 1, 1 << 20);
  r.prompt_tokens = args.get_int("prompt", 16, 1, 1 << 20);
  r.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  r.context = args.get_int("ctx", 512, 1, int64_t{1} << 24);
  r.batch = args.get_int("batch", 0, 1, kMaxPrefillBatch);  // 0: not given
  r.tuning.read_bytes = static_cast<uint32_t>(args.get_size("read-size", r.tuning.read_bytes));
  r.tuning.queue_depth = static_cast<uint32_t>(args.get_int("queue-depth", r.tuning.queue_depth, 1, 1024));
  std::printf("%s\n", to_json_text(flash::run_bench_worker(r)).c_str());
  return 0;
}

}  // namespace sieve::cli
