// `sieve pack MODEL.gguf -o MODEL.sieve`: rewrite a model for flash mode —
// resident tensors unchanged, each layer's FFN as neuron bundles, every
// tensor 4096-aligned and checksummed (docs/flash.md). For ReLU-family models
// it adds training-free SVD predictors (docs/sparsity.md), so `--mode sparse
// --predictor lowrank` works before any calibration. `--neuron-units q8_0`
// adds per-neuron units for quantized FFNs, which sparse mode reads one
// neuron at a time (flash/neuron_units.h).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "flash/pack_writer.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "tensor/tensor_type.h"
#include "sparse/predictor_set.h"
#include "calibration/predictor_training.h"
#include "util/thread_pool.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& pack_options() {
  static const std::vector<OptionSpec> specs = {
      {"output", 'o', true, "the pack to write (conventionally MODEL.sieve)", "FILE"},
      {"verify", 0, false, "re-read the finished pack and check every checksum", ""},
      {"predictor-rank", 0, true,
       "SVD predictors for ReLU-family models: auto (default: 90% of the gate's energy, skipped when the "
       "spectrum is flat), a rank, or 0 for none",
       "auto|R|0"},
      {"neuron-units", 0, true,
       "quantized FFNs: also store per-neuron units (gate row, up row, down column requantized to TYPE) for "
       "sparse mode to read one neuron at a time; TYPE q8_0 (suggested), f16 or f32; none (default) adds nothing",
       "TYPE|none"},
      {"threads", 't', true, "threads building bundles (default: all cores)", "N"},
      {"quiet", 'q', false, "no progress on stderr", ""},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

// One progress line on stderr, rewritten in place (at most ~10 times a second).
class ProgressLine {
 public:
  void update(const flash::PackProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool last = p.bytes_done == p.bytes_total;
    if (!last && now - last_print_ < std::chrono::milliseconds(100)) return;
    last_print_ = now;
    const double mb_per_s = p.seconds > 0 ? static_cast<double>(p.bytes_done) / 1e6 / p.seconds : 0.0;
    const double percent = p.bytes_total ? 100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 100.0;
    std::fprintf(stderr, "\r%-9s %5.1f%%  %s of %s  %.0f MB/s   ", p.phase, percent, format_bytes(p.bytes_done).c_str(),
                 format_bytes(p.bytes_total).c_str(), mb_per_s);
    if (last) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point last_print_{};
};

// SVD predictors of a ReLU-family source (none for SiLU models or rank 0).
flash::PackExtras svd_predictors(const std::string& source, const Args& args, int threads, bool quiet) {
  const std::string spec = args.get_or("predictor-rank", "auto");
  sparse::RankChoice choice;
  if (spec != "auto") {
    choice.fixed = args.get_int("predictor-rank", 0, 0, 1 << 20);
    if (choice.fixed == 0) return {};
  }
  const gguf::GgufFile src = gguf::GgufFile::open(source);
  const model::HyperParams hp = model::read_hyper_params(src);
  if (!sparse::is_relu_family(hp)) {
    if (choice.fixed > 0) std::printf("not a ReLU-family model (SiLU): no SVD predictors added\n");
    return {};
  }
  ThreadPool pool(threads);
  sparse::SvdReport report;
  const sparse::PredictorSet set = sparse::build_svd_predictors(src, hp, choice, pool, report, [&](int64_t layer) {
    if (!quiet) std::fprintf(stderr, "\rSVD predictors: layer %lld of %lld ", static_cast<long long>(layer + 1),
                             static_cast<long long>(hp.n_layers));
  });
  if (!quiet) std::fprintf(stderr, "\n");
  if (report.skipped) {
    std::printf("SVD predictors skipped: %s\n", report.note.c_str());
    return {};
  }
  int64_t lo = INT64_MAX, hi = 0;
  uint64_t bytes = 0;
  double captured = 1;
  for (size_t l = 0; l < report.ranks.size(); ++l) {
    lo = std::min(lo, report.ranks[l]);
    hi = std::max(hi, report.ranks[l]);
    bytes += sparse::lowrank_layer_bytes(hp, report.ranks[l]);
    captured = std::min(captured, report.captured[l]);
  }
  std::printf("SVD predictors: rank %lld-%lld, at least %.0f%% of each gate's energy, %s\n", static_cast<long long>(lo),
              static_cast<long long>(hi), 100 * captured, format_bytes(bytes).c_str());
  return sparse::to_pack_extras(set, hp);
}

}  // namespace

int cmd_pack(CommandArgs argv) {
  const Args args = Args::parse(argv, pack_options());
  const std::string synopsis =
      "sieve pack MODEL.gguf -o MODEL.sieve [--verify] [--predictor-rank auto|R|0] [--neuron-units q8_0|f16|none] "
      "[-t THREADS]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, pack_options()).c_str());
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("expected exactly one MODEL.gguf (see --help)");
  if (!args.has("output")) throw UsageError("-o FILE is required (see --help)");

  flash::PackOptions options;
  options.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  options.verify = args.has("verify");
  if (const auto units = args.get("neuron-units"); units && *units != "none") {
    const auto type = tensor::type_from_name(*units);
    if (!type) throw UsageError("--neuron-units: unknown tensor type '" + *units + "' (q8_0, f16, f32 or none)");
    options.neuron_units = *type;
  }
  options.extras = svd_predictors(args.positional()[0], args, options.threads, args.has("quiet"));
  ProgressLine line;
  if (!args.has("quiet")) options.progress = [&line](const flash::PackProgress& p) { line.update(p); };
  const flash::PackSummary s = flash::pack_model(args.positional()[0], *args.get("output"), options);

  const double mb = static_cast<double>(s.resident_bytes + s.ffn_bytes + s.unit_bytes) / 1e6;
  std::printf("packed %s: %lld layers, %zu tensors, resident %s, FFN bundles %s, file %s\n", args.get("output")->c_str(),
              static_cast<long long>(s.n_layers), s.n_tensors, format_bytes(s.resident_bytes).c_str(),
              format_bytes(s.ffn_bytes).c_str(), format_bytes(s.file_bytes).c_str());
  if (s.unit_bytes > 0) {
    std::printf("per-neuron units (down columns %s): %s, %.1f%% of the FFN bundles on top\n",
                std::string(tensor::type_name(*options.neuron_units)).c_str(), format_bytes(s.unit_bytes).c_str(),
                100.0 * static_cast<double>(s.unit_bytes) / static_cast<double>(std::max<uint64_t>(1, s.ffn_bytes)));
  }
  std::printf("written in %.2f s (%.0f MB/s, sync included)", s.write_seconds, s.write_seconds > 0 ? mb / s.write_seconds : 0.0);
  if (options.verify) {
    std::printf("; verified in %.2f s (%.0f MB/s): every checksum matches", s.verify_seconds,
                s.verify_seconds > 0 ? mb / s.verify_seconds : 0.0);
  }
  std::printf("\n");
  return 0;
}

}  // namespace sieve::cli
