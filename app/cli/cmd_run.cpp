// `sieve run -m MODEL -p PROMPT`: echo the prompt, then generate its
// continuation, streamed to stdout as it is produced and ended with a line
// break (as llama.cpp does); speed and memory go to stderr.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/sampling_args.h"
#include "cli/commands.h"
#include "cli/mode_args.h"
#include "engine.h"
#include "model/activation_stats.h"
#include "sampling/sampler.h"
#include "sampling/stop_strings.h"
#include "tokenizer/detokenizer.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& run_options() {
  static const std::vector<OptionSpec> specs = with_mode_options(with_sampling_options({
      {"model", 'm', true, "the GGUF model", "MODEL"},
      {"prompt", 'p', true, "the text to continue", "PROMPT"},
      {"n-predict", 'n', true, "how many tokens to generate at most (default 128)", "N"},
      {"stop", 0, true, "stop when the output contains this text", "TEXT"},
      {"no-echo", 0, false, "print only the continuation, not the prompt before it", ""},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"ctx", 'c', true, "context size in tokens (default: min(model's, 4096))", "N"},
      {"stats", 0, false, "print the fraction of exactly-zero activations per layer to stderr", ""},
      {"verbose", 'v', false, "print how the DRAM budget is split (flash, sparse) and the I/O statistics", ""},
      {"help", 'h', false, "show this help", ""},
  }, 3));
  return specs;
}

// Streams text to stdout, remembering whether it ended a line so the run
// can end its output with exactly one line break of its own at most.
class Output {
 public:
  void write(const std::string& text) {
    if (text.empty()) return;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    at_line_start_ = text.back() == '\n';
  }
  void end_line() {
    if (!at_line_start_) write("\n");
  }

 private:
  bool at_line_start_ = true;
};

void print_stats(const EngineStats& s, uint64_t seed) {
  std::fprintf(stderr,
               "prompt: %lld tokens, %.1f tok/s | decode: %lld tokens, %.1f tok/s | peak RSS %s | seed %llu\n",
               static_cast<long long>(s.prompt_tokens), s.prompt_tokens_per_second(),
               static_cast<long long>(s.decode_tokens), s.decode_tokens_per_second(),
               format_bytes(s.peak_rss_bytes).c_str(), static_cast<unsigned long long>(seed));
}

void print_flash_stats(const EngineStats& s) {
  if (s.flash_bytes_read == 0) return;
  const double seconds = s.prompt_seconds + s.decode_seconds;
  std::fprintf(stderr, "flash: streamed %s at %.0f MB/s; waited for reads %.2f s, computed %.2f s\n",
               format_bytes(s.flash_bytes_read).c_str(),
               seconds > 0 ? static_cast<double>(s.flash_bytes_read) / 1e6 / seconds : 0.0, s.flash_io_wait_seconds,
               s.flash_compute_seconds);
}

double percent(uint64_t part, uint64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// Flash mode on a Mixture-of-Experts model: the expert cache's hits, its
// reads ahead, and the hit rate of each layer.
void print_expert_stats(const Engine& engine) {
  const EngineStats s = engine.stats();
  const uint64_t chosen = s.expert_hits + s.expert_misses;
  if (chosen == 0) return;
  const auto tokens = static_cast<double>(std::max<int64_t>(1, s.prompt_tokens + s.decode_tokens));
  std::fprintf(stderr,
               "experts: %llu chosen, %llu in the cache (%.1f%% hits), %llu read on demand, %llu read ahead "
               "(%.0f%% of them then chosen); %.2f MB read per token (the experts' own %.2f MB)\n",
               static_cast<unsigned long long>(chosen), static_cast<unsigned long long>(s.expert_hits),
               percent(s.expert_hits, chosen), static_cast<unsigned long long>(s.expert_misses),
               static_cast<unsigned long long>(s.expert_prefetched), percent(s.expert_prefetch_used, s.expert_prefetched),
               static_cast<double>(s.flash_bytes_read) / 1e6 / tokens,
               static_cast<double>(s.expert_bytes_wanted) / 1e6 / tokens);
  std::string layers;
  for (const ExpertLayerHits& l : engine.expert_layer_stats()) {
    char cell[16];
    std::snprintf(cell, sizeof cell, " %.0f", percent(l.hits, l.hits + l.misses));
    layers += cell;
  }
  std::fprintf(stderr, "expert hits per layer (%%):%s\n", layers.c_str());
}

// Sparse mode: what the predictor selected and where it came from, per
// decoded token (summed over layers).
void print_sparse_stats(const EngineStats& s) {
  if (s.sparse_tokens == 0) return;
  const auto tokens = static_cast<double>(s.sparse_tokens);
  const double predicted = static_cast<double>(s.sparse_neurons_predicted) / tokens;
  const double loaded = static_cast<double>(s.sparse_neurons_loaded) / tokens;
  const double hits = static_cast<double>(s.sparse_neuron_hits) / tokens;
  const double read = static_cast<double>(s.sparse_bytes_read) / tokens;
  const double ffn = static_cast<double>(s.sparse_ffn_bytes_per_token);
  std::fprintf(stderr,
               "sparse: per token %.0f neurons predicted, %.0f loaded, %.0f in DRAM (%.1f%% hits); "
               "%.2f MB read per token, %.2f%% of the FFN's %.1f MB (%lld tokens)\n",
               predicted, loaded, hits, loaded + hits > 0 ? 100.0 * hits / (loaded + hits) : 0.0, read / 1e6,
               ffn > 0 ? 100.0 * read / ffn : 0.0, ffn / 1e6, static_cast<long long>(s.sparse_tokens));
}

}  // namespace

int cmd_run(CommandArgs argv) {
  const Args args = Args::parse(argv, run_options());
  const std::string synopsis =
      "sieve run -m MODEL -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S] "
      "[-t THREADS] [--ctx N]\n\n"
      "Prints the prompt, then streams its continuation (--no-echo: only the continuation); the output\n"
      "ends with a line break. Speed and memory go to stderr.";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, run_options()).c_str());
    return 0;
  }
  reject_positional_arguments(args);
  if (!args.has("model")) throw UsageError("-m MODEL is required (see --help)");
  if (!args.has("prompt")) throw UsageError("-p PROMPT is required (see --help)");
  const std::string prompt = *args.get("prompt");
  if (prompt.empty()) throw UsageError("--prompt: the prompt is empty");
  const int64_t n_predict = args.get_int("n-predict", 128, 0, INT32_MAX);
  const sampling::SamplerOptions sampling = sampler_options(args);

  EngineOptions options;
  options.model_path = *args.get("model");
  options.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  options.context = args.get_int("ctx", 0, 1, int64_t{1} << 24);
  apply_mode_options(args, options);
  model::ZeroCounter zero_counter;  // --stats: over every token run, prompt included
  if (args.has("stats")) options.activation_observer = &zero_counter;
  const std::unique_ptr<Engine> engine = Engine::load(options);
  if (!engine->model().mode_choice.empty()) std::fprintf(stderr, "%s\n", engine->model().mode_choice.c_str());
  if (!engine->model().mode_offer.empty()) std::fprintf(stderr, "%s\n", engine->model().mode_offer.c_str());
  if (args.has("verbose") && !engine->model().memory_plan.empty()) {
    std::fprintf(stderr, "%s", engine->model().memory_plan.c_str());
  }

  const std::vector<int32_t> prompt_ids = engine->tokenize(prompt, engine->model().add_bos);
  if (static_cast<int64_t>(prompt_ids.size()) >= engine->model().context) {
    throw UsageError("the prompt has " + std::to_string(prompt_ids.size()) +
                     " tokens, which leaves no room in a context of " + std::to_string(engine->model().context) +
                     " (see --ctx)");
  }
  sampling::Sampler sampler(sampling, engine->model().n_vocab);
  for (int32_t id : prompt_ids) sampler.accept(id);
  sampling::StopStringMatcher stops(args.has("stop") ? std::vector<std::string>{*args.get("stop")}
                                                     : std::vector<std::string>{});

  tokenizer::DetokenizeOptions continuation;
  continuation.at_text_start = false;  // the prompt came first: keep the continuation's leading space
  tokenizer::StreamingDetokenizer detokenizer(engine->tokenizer(), continuation);

  Output out;
  if (!args.has("no-echo")) out.write(prompt);
  std::span<const float> logits = engine->prefill(prompt_ids);
  for (int64_t i = 0; i < n_predict; ++i) {
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    if (engine->is_end_of_generation(token)) break;
    out.write(stops.push(detokenizer.push(token)));
    if (stops.stopped() || i + 1 == n_predict) break;
    if (engine->remaining_context() == 0) {
      std::fprintf(stderr, "\n[context full after %lld tokens; stopping]\n", static_cast<long long>(engine->position()));
      break;
    }
    logits = engine->decode(token);
  }
  if (!stops.stopped()) out.write(stops.push(detokenizer.finish()));
  out.write(stops.flush());
  out.end_line();
  print_stats(engine->stats(), sampling.seed);
  if (args.has("verbose")) {
    print_flash_stats(engine->stats());
    print_expert_stats(*engine);
    print_sparse_stats(engine->stats());
  }
  if (args.has("stats")) std::fprintf(stderr, "%s", zero_counter.report().c_str());
  return 0;
}

}  // namespace sieve::cli
