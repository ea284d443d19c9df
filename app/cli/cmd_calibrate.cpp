// `sieve calibrate PACK --text FILE | --self-generate N`: runs the model dense
// (the pack in mmap mode), records each layer's FFN inputs and which neurons
// fire, trains low-rank predictors for ReLU-family models, computes the gate
// quantiles and neuron frequencies, prints per layer how well the predictors
// recall the neurons that fired on held-out tokens, and rewrites the pack
// with them (docs/sparsity.md). Last, it measures sparse mode with the new
// predictors against dense on held-out tokens and stores that figure in the
// pack, for auto mode's offer (sparse/calibrated_fidelity.h). --evaluate only
// measures the predictors the pack already offers (lowrank, PowerInfer, gate
// copies) against dense.

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/input_file.h"
#include "engine.h"
#include "flash/io/direct_file.h"
#include "flash/io/io_engine.h"
#include "flash/pack_file.h"
#include "flash/pack_writer.h"
#include "calibration/calibrated_fidelity.h"
#include "calibration/calibration.h"
#include "calibration/fidelity_target.h"
#include "sparse/gate_predictor.h"
#include "sparse/predictor_factory.h"
#include "calibration/predictor_training.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& calibrate_options() {
  static const std::vector<OptionSpec> specs = {
      {"text", 0, true, "run the model on this text (UTF-8)", "FILE"},
      {"self-generate", 0, true, "or on this many tokens the model samples itself", "N"},
      {"rank", 0, true, "predictor rank: auto (default: per layer, within the memory cap) or a number", "auto|R"},
      {"max-layer-bytes", 0, true, "memory cap per layer's predictor (default: 10% of the layer's FFN)", "SIZE"},
      {"recall", 0, true, "fraction of firing neurons to catch on held-out tokens (default 0.95)", "R"},
      {"max-tokens", 0, true, "tokens recorded per layer (default 4096)", "N"},
      {"context", 0, true, "tokens run at once (default 256)", "N"},
      {"steps", 0, true, "training steps per rank tried (default 150)", "N"},
      {"fidelity", 0, true,
       "calibrate sparse mode to this top-1 agreement with dense on held-out tokens, e.g. 0.99: SwiGLU/GELU models "
       "get the largest gate sparsity that meets it (sparse mode's default), ReLU-family models the lowest recall "
       "(from --recall up) that does",
       "T"},
      {"fidelity-text", 0, true,
       "with --fidelity: measure on this text instead of the held-out calibration tokens (a text never trained on, "
       "like what the model will run)",
       "FILE"},
      {"fidelity-tokens", 0, true,
       "held-out tokens on which to measure sparse mode against dense for the app's offer, and --fidelity's search "
       "(default 256; 0 = skip)",
       "N"},
      {"output", 'o', true, "write the calibrated pack here (default: rewrite PACK in place)", "FILE"},
      {"evaluate", 0, false, "only measure the predictors the pack has; write nothing", ""},
      {"dry-run", 0, false, "train and print the table, but write nothing", ""},
      {"gate-margins", 0, true,
       "with --evaluate: measure only the Q8_0/Q4_0 gate copies, with these safety margins (sigmas), e.g. 4,3,2",
       "LIST"},
      {"layers", 0, true, "with --evaluate or --dry-run: only the first N layers (for quick looks at big models)", "N"},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

void print_header() {
  std::printf("%-6s %6s %10s %8s %9s %10s %8s %10s\n", "layer", "rank", "threshold", "recall", "precision", "predicted",
              "fired", "bytes");
}

void print_row(const std::string& layer, const std::string& rank, float threshold, const sparse::Metrics& m,
               uint64_t bytes) {
  std::printf("%-6s %6s %10.4g %7.2f%% %8.2f%% %9.2f%% %7.2f%% %10s\n", layer.c_str(), rank.c_str(),
              static_cast<double>(threshold), 100 * m.recall, 100 * m.precision, 100 * m.predicted_fraction,
              100 * m.true_fraction, format_bytes(bytes).c_str());
}

sparse::Metrics add(const sparse::Metrics& a, const sparse::Metrics& b) {
  // Token-weighted means over layers (every layer sees the same tokens).
  sparse::Metrics s;
  s.recall = a.recall + b.recall;
  s.precision = a.precision + b.precision;
  s.predicted_fraction = a.predicted_fraction + b.predicted_fraction;
  s.true_fraction = a.true_fraction + b.true_fraction;
  s.tokens = b.tokens;
  return s;
}

sparse::Metrics mean(sparse::Metrics s, int64_t n) {
  const double d = static_cast<double>(std::max<int64_t>(1, n));
  s.recall /= d;
  s.precision /= d;
  s.predicted_fraction /= d;
  s.true_fraction /= d;
  return s;
}

// Each predictor the pack offers, measured against what fired on every recorded token.
struct Candidate {
  std::string name;
  sparse::SparseOptions options;
  float margin_sigmas = sparse::kMarginSigmas;
};

sparse::SparseOptions predicted_by(sparse::PredictorKind kind) {
  sparse::SparseOptions options;
  options.predictor = kind;
  return options;
}

std::vector<Candidate> candidates(const flash::PackFile& pack, const std::vector<float>& margins) {
  std::vector<Candidate> out;
  if (margins.empty()) {
    if (pack.has_lowrank_predictors()) out.push_back({"lowrank", predicted_by(sparse::PredictorKind::lowrank)});
    if (pack.has_powerinfer_predictors()) out.push_back({"powerinfer", predicted_by(sparse::PredictorKind::powerinfer)});
    out.push_back({"gate (exact)", predicted_by(sparse::PredictorKind::gate)});
  }
  for (auto type : {tensor::TensorType::Q8_0, tensor::TensorType::Q4_0}) {
    if (!tensor::is_whole_blocks(type, static_cast<uint64_t>(pack.hparams().dim))) continue;
    for (float m : margins.empty() ? std::vector<float>{sparse::kMarginSigmas} : margins) {
      out.push_back({"gate (" + std::string(tensor::type_name(type)) + " copy)",
                     {.predictor = sparse::PredictorKind::gate, .gate_copy = type}, m});
    }
  }
  return out;
}

std::vector<float> parse_margins(const Args& args) {
  std::vector<float> out;
  const std::string list = args.get_or("gate-margins", "");
  size_t at = 0;
  while (at < list.size()) {
    const size_t end = std::min(list.find(',', at), list.size());
    try {
      out.push_back(std::stof(list.substr(at, end - at)));
    } catch (const std::exception&) {
      throw UsageError("--gate-margins: expected numbers separated by commas, got '" + list + "'");
    }
    if (!(out.back() >= 0)) throw UsageError("--gate-margins: margins must be >= 0");
    at = end + 1;
  }
  return out;
}

void evaluate(const flash::PackFile& pack, const sparse::ActivationRecorder& rec, int64_t n_layers,
              const std::vector<float>& margins, ThreadPool& pool) {
  const flash::DirectFile file = flash::DirectFile::open(pack.gguf().path().string());
  const std::unique_ptr<flash::IoEngine> io = flash::make_io_engine(file);
  const int64_t n = rec.recorded_tokens();
  for (const auto& [name, options, margin] : candidates(pack, margins)) {
    const std::unique_ptr<sparse::Predictor> p =
        options.predictor == sparse::PredictorKind::gate
            ? sparse::GatePredictor::load(pack, pack.hparams(), options, pool, *io, margin)
            : sparse::make_predictor(pack, pack.hparams(), options, pool, *io);
    std::printf("\n%s: %s, %lld tokens\n", name.c_str(), p->describe().c_str(), static_cast<long long>(n));
    print_header();
    sparse::Metrics total;
    for (int64_t l = 0; l < n_layers; ++l) {
      const sparse::Metrics m = sparse::measure_predictor(*p, rec, l, 0, n);
      const bool lowrank = options.predictor == sparse::PredictorKind::lowrank;
      const std::string rank = lowrank ? std::to_string(pack.predictor_ranks()[static_cast<size_t>(l)]) : "-";
      const float threshold = lowrank ? pack.predictor_thresholds()[static_cast<size_t>(l)] : 0.0f;
      print_row(std::to_string(l), rank, threshold, m, 0);
      total = add(total, m);
    }
    print_row("all", "", 0.0f, mean(total, n_layers), p->resident_bytes());
  }
}

sparse::PredictorSet train(const flash::PackFile& pack, const sparse::ActivationRecorder& rec,
                           const sparse::TrainingOptions& options, int64_t n_layers, ThreadPool& pool) {
  const model::HyperParams& hp = pack.hparams();
  sparse::PredictorSet set;
  set.gate_quantiles = rec.gate_quantiles();
  set.hot = rec.frequencies();
  set.tokens = static_cast<uint64_t>(rec.layer(0).tokens_seen);
  set.recall = options.recall;
  if (!sparse::is_relu_family(hp)) {
    std::printf("%s: %s activation (no exact zeros): stored the gate quantiles and neuron frequencies for "
                "`--predictor gate --sparsity S`; no low-rank predictors trained.\n",
                pack.where().c_str(), model::activation_name(hp.ffn_activation));
    return set;
  }
  set.kind = "trained";
  const sparse::Split split = sparse::split_tokens(rec.recorded_tokens());
  std::printf("trained on %lld tokens, threshold set for %.0f%% recall (+%.1f standard errors) on %lld, measured on the "
              "last %lld:\n",
              static_cast<long long>(split.train_end), 100 * options.recall, sparse::kRecallMarginSigmas,
              static_cast<long long>(split.threshold_end - split.train_end),
              static_cast<long long>(split.total - split.threshold_end));
  print_header();
  sparse::Metrics total;
  uint64_t bytes = 0;
  for (int64_t l = 0; l < n_layers; ++l) {
    const std::vector<float> gate = sparse::gate_rows(pack.gguf(), hp, l);
    sparse::LayerResult r = sparse::train_layer(rec, gate, l, options, pool);
    print_row(std::to_string(l), std::to_string(r.predictor.rank), r.predictor.threshold, r.held_out, r.bytes);
    std::printf("  (untrained SVD start, same rank and recall target: recall %.2f%%, precision %.2f%%, predicted %.2f%%)\n",
                100 * r.svd_held_out.recall, 100 * r.svd_held_out.precision, 100 * r.svd_held_out.predicted_fraction);
    std::fflush(stdout);
    total = add(total, r.held_out);
    bytes += r.bytes;
    set.layers.push_back(std::move(r.predictor));
  }
  print_row("all", "", 0.0f, mean(total, n_layers), bytes);
  return set;
}

sparse::RankChoice rank_choice(const Args& args) {
  sparse::RankChoice choice;
  const std::string rank = args.get_or("rank", "auto");
  if (rank != "auto") {
    choice.fixed = args.get_int("rank", 0, 1, 1 << 20);
  }
  choice.max_layer_bytes = args.get_size("max-layer-bytes", 0);
  return choice;
}

// --fidelity: a top-1 agreement in (0, 1]; nullopt when not given.
std::optional<double> fidelity_target(const Args& args) {
  if (!args.has("fidelity")) return std::nullopt;
  const double target = args.get_double("fidelity", 0);  // one line for text that is not a number
  if (!(target > 0 && target <= 1)) {
    throw UsageError("--fidelity: expected a top-1 agreement above 0 and at most 1, e.g. 0.99; got '" +
                     *args.get("fidelity") + "'");
  }
  if (args.has("evaluate") || args.has("dry-run")) {
    throw UsageError("--fidelity stores its choice in the pack; it cannot be combined with --evaluate or --dry-run");
  }
  if (auto text = args.get("fidelity-text"); text && !std::filesystem::is_regular_file(*text)) {
    throw Error(*text + ": cannot read the fidelity text (missing or not a file).");  // before the long calibration
  }
  if (args.has("fidelity-text") && args.has("fidelity-tokens")) {
    throw UsageError("--fidelity-text is measured whole; --fidelity-tokens applies to the held-out calibration tokens");
  }
  if (args.get_int("fidelity-tokens", 256, 0, 1 << 20) == 0) {
    throw UsageError("--fidelity measures on held-out tokens; --fidelity-tokens 0 leaves none");
  }
  return target;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * share);
  return text;
}

void print_step(const char* knob, const sparse::FidelityStep& step, const model::HyperParams& hp) {
  const sparse::SparseFidelityFigure& f = step.figure;
  std::printf("  %s %5.1f%%: top-1 %s of %u, mean KL %.3g nats, %.0f of %lld neurons per token\n", knob,
              100.0 * step.knob, percent(f.top1).c_str(), f.positions, f.mean_kl, f.neurons_per_token,
              static_cast<long long>(hp.n_layers * hp.n_ff));
  std::fflush(stdout);
}

void print_figure(const std::string& predictor, const sparse::SparseFidelityFigure& f) {
  std::printf("sparse fidelity: on %u held-out tokens, sparse (%s) chose dense mode's next token %.1f%% of the "
              "time, mean KL %.3g nats (stored in the pack)\n",
              f.positions, predictor.c_str(), 100.0 * f.top1, f.mean_kl);
}

void print_target(double target, const sparse::FidelityChoice& choice, const char* knob, const char* unmet_advice) {
  if (choice.met) {
    std::printf("fidelity target %s: met with %s %s (%zu measurements)\n", percent(target).c_str(), knob,
                percent(choice.knob).c_str(), choice.steps.size());
  } else {
    std::printf("fidelity target %s: not met; the most faithful setting, %s %s, reaches %s (%s)\n",
                percent(target).c_str(), knob, percent(choice.knob).c_str(), percent(choice.figure.top1).c_str(),
                unmet_advice);
  }
}

sparse::FidelityMeasureOptions measure_options(const sparse::CalibrationRun& run) {
  sparse::FidelityMeasureOptions options;
  options.threads = run.threads;
  options.window = run.context;
  return options;
}

// Sparse mode with the new predictors against dense, stored in the pack for
// auto mode's offer. Too few held-out tokens (a short text) leaves the
// figure unmeasured, and says so.
void measure_fidelity(const std::string& pack, const std::vector<int32_t>& held_out, const sparse::CalibrationRun& run) {
  if (held_out.size() < 2) {
    std::printf("sparse fidelity: not measured (%zu held-out tokens; give a longer text or --fidelity-tokens)\n",
                held_out.size());
    return;
  }
  const sparse::SparseFidelityFigure figure = sparse::measure_sparse_fidelity(pack, held_out, measure_options(run));
  sparse::store_sparse_fidelity(pack, figure);
  print_figure("lowrank", figure);
}

// --fidelity-text: its tokens (BOS first when the model wants one), and the
// token each later window starts with, as `sieve fidelity` cuts the text, so
// the search's figure is what `sieve fidelity` measures on the same text.
std::vector<int32_t> fidelity_text_tokens(const std::string& pack, const std::string& text,
                                          sparse::FidelityMeasureOptions& options) {
  const std::string content = read_input_file(text);
  const std::unique_ptr<Engine> engine = sparse::load_reference(pack, options);
  if (engine->model().add_bos) options.window_start_token = engine->model().bos_id;
  return engine->tokenize(content, engine->model().add_bos);
}

// SwiGLU/GELU: the largest gate sparsity that meets the target, stored as
// sparse mode's default.
void choose_gate_sparsity(const std::string& pack, const std::vector<int32_t>& held_out, double target,
                          const sparse::FidelityMeasureOptions& options, const model::HyperParams& hp) {
  std::printf("choosing the gate predictor's sparsity for %s top-1 agreement on %zu held-out tokens:\n",
              percent(target).c_str(), held_out.size());
  const sparse::FidelityChoice choice = sparse::choose_gate_sparsity(
      pack, held_out, target, options, [&](const sparse::FidelityStep& s) { print_step("sparsity", s, hp); });
  sparse::store_gate_choice(pack, target, choice);
  print_figure("gate, skipping " + percent(choice.knob), choice.figure);
  print_target(target, choice, "sparsity", "sparse mode skips nothing by default");
  if (choice.knob > 0) std::printf("`sieve run --mode sparse` now skips %s of the neurons unless --sparsity is given\n",
                                   percent(choice.knob).c_str());
}

// ReLU family: the lowest recall target whose thresholds meet the target.
void choose_recall(const std::string& pack, const std::vector<int32_t>& held_out, double target,
                   const std::vector<double>& recalls, const std::vector<std::vector<float>>& thresholds,
                   const sparse::FidelityMeasureOptions& options, const model::HyperParams& hp) {
  std::printf("choosing the low-rank predictors' recall target for %s top-1 agreement on %zu held-out tokens:\n",
              percent(target).c_str(), held_out.size());
  const sparse::FidelityChoice choice =
      sparse::choose_recall(pack, held_out, target, recalls, thresholds, options,
                            [&](const sparse::FidelityStep& s) { print_step("recall", s, hp); });
  sparse::store_recall_choice(pack, target, choice);
  print_figure("lowrank, thresholds for " + percent(choice.knob) + " recall", choice.figure);
  print_target(target, choice, "recall", "the exact gate predictor, --predictor gate, is the oracle");
}

}  // namespace

int cmd_calibrate(CommandArgs argv) {
  const Args args = Args::parse(argv, calibrate_options());
  const std::string synopsis =
      "sieve calibrate PACK (--text FILE | --self-generate N) [--fidelity T [--fidelity-text FILE]] [--rank auto|R] "
      "[--recall 0.95] [-o OUT] [--evaluate]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, calibrate_options()).c_str());
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("expected exactly one PACK (see --help)");
  if (args.has("text") == args.has("self-generate")) throw UsageError("give either --text FILE or --self-generate N");
  const double recall = args.get_double("recall", 0.95);
  if (!(recall > 0 && recall < 1)) throw UsageError("--recall: expected a fraction between 0 and 1");
  sparse::TrainingOptions training;
  training.rank = rank_choice(args);
  training.recall = recall;
  training.steps = static_cast<int>(args.get_int("steps", 150, 0, 100000));
  sparse::CalibrationRun run;
  run.pack = args.positional()[0];
  run.text = args.get_or("text", "");
  run.self_generate = args.get_int("self-generate", 0, 1, INT64_MAX);
  run.max_tokens = args.get_int("max-tokens", 4096, 64, 1 << 24);
  run.context = args.get_int("context", 256, 8, 1 << 20);
  run.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));

  const int64_t fidelity_tokens = args.get_int("fidelity-tokens", 256, 0, 1 << 20);
  const std::optional<double> target = fidelity_target(args);
  flash::PackOptions options;
  std::vector<int32_t> held_out;
  bool trained = false;  // low-rank predictors (ReLU family): sparse mode's offer needs their fidelity
  std::vector<double> recalls;  // --fidelity with low-rank predictors: the recall targets to try ...
  std::vector<std::vector<float>> thresholds;  // ... and each one's thresholds
  model::HyperParams hp;
  {
    // Closed before the rewrite: the output is the pack itself unless -o is
    // given, and Windows refuses to replace a file that is still open.
    const flash::PackFile pack = flash::PackFile::open(run.pack);
    sparse::ActivationRecorder recorder(pack.hparams(), run.max_tokens);
    const std::vector<int32_t> ran = sparse::record_activations(run, recorder);
    std::printf("%s: ran %zu tokens, recorded %lld per layer\n", pack.where().c_str(), ran.size(),
                static_cast<long long>(recorder.recorded_tokens()));
    ThreadPool pool(run.threads);
    const bool dry = args.has("evaluate") || args.has("dry-run");
    if (args.has("layers") && !dry) throw UsageError("--layers applies to --evaluate and --dry-run only");
    const int64_t n_layers = args.get_int("layers", pack.n_layers(), 1, pack.n_layers());
    if (args.has("evaluate")) {
      evaluate(pack, recorder, n_layers, parse_margins(args), pool);
      return 0;
    }
    const sparse::PredictorSet set = train(pack, recorder, training, n_layers, pool);
    if (dry) return 0;
    options.extras = sparse::to_pack_extras(set, pack.hparams());
    trained = !set.layers.empty();
    hp = pack.hparams();
    if (trained || target) {
      const auto tokens = sparse::held_out_tokens(ran, recorder.recorded_tokens(), fidelity_tokens);
      held_out.assign(tokens.begin(), tokens.end());
    }
    if (trained && target) {
      recalls = sparse::recall_ladder(training.recall);
      thresholds = sparse::thresholds_for_recalls(set, recorder, recalls, pool);
    }
  }
  const std::string out = args.get_or("output", run.pack.string());
  const flash::PackSummary s = flash::rewrite_pack(run.pack, out, options);
  std::printf("wrote %s (%s, %zu tensors)\n", out.c_str(), format_bytes(s.file_bytes).c_str(), s.n_tensors);
  sparse::FidelityMeasureOptions measuring = measure_options(run);
  if (target && args.has("fidelity-text")) held_out = fidelity_text_tokens(out, *args.get("fidelity-text"), measuring);
  if (target && trained) {
    choose_recall(out, held_out, *target, recalls, thresholds, measuring, hp);
  } else if (target) {
    choose_gate_sparsity(out, held_out, *target, measuring, hp);
  } else if (trained && fidelity_tokens == 0) {
    std::printf("sparse fidelity: not measured (--fidelity-tokens 0)\n");
  } else if (trained) {
    measure_fidelity(out, held_out, run);
  }
  return 0;
}

}  // namespace sieve::cli
