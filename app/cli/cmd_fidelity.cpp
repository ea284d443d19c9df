// `sieve fidelity -m MODEL --text FILE [--mode ...]`: runs a text
// teacher-forced through dense mode and through the chosen mode, and prints
// how closely the chosen mode follows dense — top-1 agreement, KL divergence,
// perplexity of each — and what its decode steps read (docs/sparsity.md).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/input_file.h"
#include "cli/mode_args.h"
#include "engine.h"
#include "calibration/fidelity.h"
#include "util/error.h"
#include "util/json_text.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& fidelity_options() {
  static const std::vector<OptionSpec> specs = with_mode_options({
      {"model", 'm', true, "the model (a Sieve pack for --mode flash or sparse)", "MODEL"},
      {"text", 0, true, "the text to run teacher-forced (- for standard input)", "FILE"},
      {"tokens", 'n', true, "compare on the first N tokens of the text (default: all)", "N"},
      {"prefill", 0, true, "tokens of each window run through prefill; the rest are decoded (default 1)", "N"},
      {"ctx", 'c', true, "context size = window of text per fresh start (default: min(model's, 4096))", "N"},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"json", 0, false, "print one JSON object instead of the table", ""},
      {"verbose", 'v', false, "print the candidate's memory plan and progress to stderr", ""},
      {"help", 'h', false, "show this help", ""},
  });
  return specs;
}

struct Setup {
  std::string model;
  std::string text_path;
  int64_t max_tokens = 0;  // 0 = all
  sparse::FidelityRunOptions run;
  EngineOptions candidate;
  bool json = false;
  bool verbose = false;
};

Setup parse_setup(const Args& args) {
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "'");
  if (!args.has("model")) throw UsageError("-m MODEL is required (see --help)");
  if (!args.has("text")) throw UsageError("--text FILE is required (see --help)");
  Setup s;
  s.model = *args.get("model");
  s.text_path = *args.get("text");
  s.max_tokens = args.get_int("tokens", 0, 2, int64_t{1} << 30);
  s.run.prefill_tokens = args.get_int("prefill", 1, 1, int64_t{1} << 24);
  s.json = args.has("json");
  s.verbose = args.has("verbose");
  s.candidate.model_path = s.model;
  s.candidate.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  s.candidate.context = args.get_int("ctx", 0, 2, int64_t{1} << 24);
  apply_mode_options(args, s.candidate);
  return s;
}

// The reference: the same file, same context and threads, in dense mode.
EngineOptions reference_options(const EngineOptions& candidate) {
  EngineOptions options;
  options.model_path = candidate.model_path;
  options.threads = candidate.threads;
  options.context = candidate.context;
  options.batch = candidate.batch;
  options.mode = EngineMode::dense;
  return options;
}

std::string read_text(const Setup& s) {
  std::string text = read_input_file(s.text_path);
  if (text.empty()) throw Error(s.text_path + ": the text is empty");
  return text;
}

std::vector<int32_t> text_tokens(const Engine& engine, const std::string& text, const Setup& s) {
  std::vector<int32_t> tokens = engine.tokenize(text, engine.model().add_bos);
  if (s.max_tokens > 0 && static_cast<int64_t>(tokens.size()) > s.max_tokens) {
    tokens.resize(static_cast<size_t>(s.max_tokens));
  }
  if (tokens.size() < 2) {
    throw Error(s.text_path + ": the text is " + std::to_string(tokens.size()) +
                " token(s) long; comparing needs at least 2");
  }
  return tokens;
}

std::string per_token_bytes(const sparse::DecodeCost& cost) {
  return format_bytes(static_cast<uint64_t>(cost.bytes_per_token() + 0.5));
}

// Per decoded token, over all layers: what the sparse FFN selected and read.
void print_sparse_rows(const sparse::DecodeCost& c) {
  if (c.sparse_tokens == 0) return;
  std::printf("sparse FFN, per token: %.0f neurons predicted, %.0f read, %.0f found in DRAM; %s read = %.2f%% of "
              "the FFN's %s\n",
              c.per_sparse_token(c.neurons_predicted), c.per_sparse_token(c.neurons_loaded),
              c.per_sparse_token(c.neuron_hits),
              format_bytes(static_cast<uint64_t>(c.per_sparse_token(c.sparse_bytes_read) + 0.5)).c_str(),
              100.0 * c.ffn_fraction_read(), format_bytes(c.ffn_bytes_per_token).c_str());
}

void print_table(const Setup& s, const Engine& candidate, size_t n_tokens, const sparse::FidelityReport& r) {
  const sparse::FidelitySummary& f = r.fidelity;
  const std::string mode = to_string(candidate.model().mode);
  std::printf("model             %s\n", s.model.c_str());
  std::printf("text              %s: %zu tokens, %lld window(s) of up to %lld, %lld prefilled each\n",
              s.text_path.c_str(), n_tokens, static_cast<long long>(r.windows),
              static_cast<long long>(candidate.model().context), static_cast<long long>(s.run.prefill_tokens));
  std::printf("compared          %s against dense at %lld positions\n", mode.c_str(),
              static_cast<long long>(f.positions));
  std::printf("top-1 agreement   %.4f (%lld of %lld", f.top1_agreement(), static_cast<long long>(f.top1_matches),
              static_cast<long long>(f.positions));
  if (f.first_disagreement >= 0) {
    std::printf("; first differs at position %lld", static_cast<long long>(f.first_disagreement));
  }
  std::printf(")\n");
  std::printf("KL(dense||%s)  mean %.6g nats, max %.6g\n", mode.c_str(), f.mean_kl, f.max_kl);
  std::printf("max |logit diff|  %.6g\n", f.max_abs_logit_diff);
  std::printf("%-17s %-14s %s\n", "", "dense", mode.c_str());
  std::printf("%-17s %-14.4f %.4f\n", "perplexity", f.reference_perplexity, f.candidate_perplexity);
  std::printf("%-17s %-14lld %lld\n", "decode tokens", static_cast<long long>(r.reference_cost.tokens),
              static_cast<long long>(r.candidate_cost.tokens));
  std::printf("%-17s %-14s %s\n", "read/token", per_token_bytes(r.reference_cost).c_str(),
              per_token_bytes(r.candidate_cost).c_str());
  std::printf("%-17s %-14.1f %.1f\n", "reads/token", r.reference_cost.requests_per_token(),
              r.candidate_cost.requests_per_token());
  std::printf("%-17s %-14.1f %.1f\n", "decode tok/s", r.reference_cost.tokens_per_second(),
              r.candidate_cost.tokens_per_second());
  print_sparse_rows(r.candidate_cost);
}

Json cost_json(const sparse::DecodeCost& cost) {
  Json v = Json::object();
  v["decode_tokens"] = cost.tokens;
  v["decode_seconds"] = cost.seconds;
  v["bytes_read"] = cost.bytes_read;
  v["bytes_read_per_token"] = cost.bytes_per_token();
  v["read_requests_per_token"] = cost.requests_per_token();
  v["io_wait_seconds"] = cost.io_wait_seconds;
  v["decode_tokens_per_second"] = cost.tokens_per_second();
  if (cost.sparse_tokens > 0) {
    Json sparse = Json::object();
    sparse["tokens"] = cost.sparse_tokens;
    sparse["neurons_predicted_per_token"] = cost.per_sparse_token(cost.neurons_predicted);
    sparse["neurons_loaded_per_token"] = cost.per_sparse_token(cost.neurons_loaded);
    sparse["neuron_hits_per_token"] = cost.per_sparse_token(cost.neuron_hits);
    sparse["bytes_read_per_token"] = cost.per_sparse_token(cost.sparse_bytes_read);
    sparse["ffn_bytes_per_token"] = cost.ffn_bytes_per_token;
    sparse["ffn_fraction_read"] = cost.ffn_fraction_read();
    v["sparse"] = std::move(sparse);
  }
  return v;
}

Json report_json(const Setup& s, const Engine& candidate, size_t n_tokens, const sparse::FidelityReport& r) {
  const sparse::FidelitySummary& f = r.fidelity;
  Json v = Json::object();
  v["model"] = s.model;
  v["text"] = s.text_path;
  v["mode"] = to_string(candidate.model().mode);
  v["tokens"] = static_cast<int64_t>(n_tokens);
  v["windows"] = r.windows;
  v["window"] = candidate.model().context;
  v["prefill_tokens"] = s.run.prefill_tokens;
  v["positions"] = f.positions;
  v["top1_agreement"] = f.top1_agreement();
  v["top1_matches"] = f.top1_matches;
  v["first_disagreement"] = f.first_disagreement;
  v["mean_kl"] = f.mean_kl;
  v["max_kl"] = f.max_kl;
  v["max_abs_logit_diff"] = f.max_abs_logit_diff;
  v["perplexity_reference"] = f.reference_perplexity;
  v["perplexity_candidate"] = f.candidate_perplexity;
  v["reference"] = cost_json(r.reference_cost);
  v["candidate"] = cost_json(r.candidate_cost);
  return v;
}

}  // namespace

int cmd_fidelity(CommandArgs argv) {
  const Args args = Args::parse(argv, fidelity_options());
  const std::string synopsis =
      "sieve fidelity -m MODEL --text FILE [-n TOKENS] [--prefill N] [--ctx N] [-t THREADS] [--mode MODE ...] "
      "[--json]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, fidelity_options()).c_str());
    return 0;
  }
  Setup s = parse_setup(args);
  const std::string text = read_text(s);
  // The candidate first: a mode the file cannot serve is refused before the
  // (larger) dense reference is read.
  const std::unique_ptr<Engine> candidate = Engine::load(s.candidate);
  const std::unique_ptr<Engine> reference = Engine::load(reference_options(s.candidate));
  if (s.verbose && !candidate->model().memory_plan.empty()) {
    std::fprintf(stderr, "%s\n", candidate->model().memory_plan.c_str());
  }
  const std::vector<int32_t> tokens = text_tokens(*reference, text, s);
  if (reference->model().bos_id >= 0 && reference->model().add_bos) {
    s.run.window_start_token = reference->model().bos_id;
  }
  if (s.verbose) {
    s.run.progress = [](int64_t done, int64_t total) {
      std::fprintf(stderr, "compared %lld of %lld tokens\n", static_cast<long long>(done),
                   static_cast<long long>(total));
    };
  }
  const sparse::FidelityReport report = sparse::compare_engines(*reference, *candidate, tokens, s.run);
  if (s.json) {
    std::printf("%s\n", to_json_text(report_json(s, *candidate, tokens.size(), report)).c_str());
  } else {
    print_table(s, *candidate, tokens.size(), report);
  }
  return 0;
}

}  // namespace sieve::cli
