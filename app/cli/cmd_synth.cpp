// `sieve synth -o OUT.gguf`: writes a GGUF with seeded random weights in the
// shape of a real model (dense llama, or the Mixture-of-Experts Qwen3-30B-A3B,
// Mixtral-8x7B, gpt-oss-20b, Qwen2-57B-A14B and Qwen1.5-MoE-A2.7B), for
// benchmarks and tests.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "cli/args.h"
#include "cli/commands.h"
#include "synth/synth_model.h"
#include "synth/type_mix.h"
#include "tensor/kernels.h"

namespace sieve::cli {
namespace {

using synth::SynthProgress;
using synth::SynthSpec;
using synth::SynthSummary;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : "|") + s;
  return out;
}

const std::vector<OptionSpec>& synth_options() {
  static const std::vector<OptionSpec> specs = {
      {"output", 'o', true, "the GGUF file to write (required)", "FILE"},
      {"preset", 0, true,
       "shape: " + joined(synth::shape_preset_names()) + " (default synthA-like)", "NAME"},
      {"dim", 0, true, "embedding length (overrides the preset)", "N"},
      {"layers", 0, true, "number of blocks", "N"},
      {"ff", 0, true, "feed-forward length", "N"},
      {"heads", 0, true, "attention heads (must divide --dim unless --head-dim is set)", "N"},
      {"kv-heads", 0, true, "key/value heads (must divide --heads)", "N"},
      {"head-dim", 0, true, "size of one head (default dim / heads; qwen3-30b-a3b 128, gpt-oss-20b 64)", "N"},
      {"experts", 0, true, "experts per layer (a Mixture-of-Experts preset's count by default)", "N"},
      {"experts-used", 0, true, "experts each token runs (top-k)", "K"},
      {"expert-ff", 0, true, "feed-forward length of one expert", "N"},
      {"shared-ff", 0, true, "feed-forward length of the shared expert (qwen2moe presets only)", "N"},
      {"router", 0, true,
       "MoE routing: even (random routers, the cache's worst case; default) or skewed "
       "(Zipf-like popular experts that consecutive tokens share)", "KIND"},
      {"router-skew", 0, true, "skewed router strength: 0 even .. 16 (default 1)", "S"},
      {"ctx", 0, true, "context length written to the metadata", "N"},
      {"rope-base", 0, true, "rotary base frequency (default: the preset's; 10000 for the llama ones)", "X"},
      {"rms-eps", 0, true, "RMS norm epsilon (default: the preset's; 1e-5 for the llama ones)", "X"},
      {"type", 0, true,
       "tensor type or llama.cpp mix: " + joined(synth::TypeMix::names()) +
           " (default f16; gpt-oss-20b: mxfp4_moe, experts MXFP4 and other matrices Q8_0)",
       "TYPE"},
      {"vocab-from", 0, true,
       "copy every tokenizer.* key from this GGUF; default: 259-token byte vocabulary", "FILE"},
      {"activation", 0, true,
       "FFN activation: silu|relu|relu-threshold|shifted-relu (default silu)", "A"},
      {"threshold", 0, true,
       "relu-threshold: gate values up to X become zero; shifted-relu: the shift X", "X"},
      {"sparsity", 0, true,
       "relu-threshold, shifted-relu: choose X so about S of gate activations are zero", "S"},
      {"seed", 0, true, "random seed (default 1); same seed, same bytes", "N"},
      {"name", 0, true, "general.name (default sieve-synth-<dim>x<layers>)", "TEXT"},
      {"threads", 't', true, "worker threads (default: all hardware threads)", "N"},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

synth::ModelShape shape_from(const Args& args) {
  const std::string preset = args.get_or("preset", "synthA-like");
  auto shape = synth::shape_preset(preset);
  if (!shape) {
    throw UsageError("--preset: unknown preset '" + preset + "' (expected " +
                     joined(synth::shape_preset_names()) + ")");
  }
  shape->dim = args.get_int("dim", shape->dim, 1, INT32_MAX);
  shape->n_layers = args.get_int("layers", shape->n_layers, 1, INT32_MAX);
  shape->n_ff = args.get_int("ff", shape->n_ff, 1, INT32_MAX);
  shape->n_heads = args.get_int("heads", shape->n_heads, 1, INT32_MAX);
  shape->n_kv_heads = args.get_int("kv-heads", shape->n_kv_heads, 1, INT32_MAX);
  shape->head_dim = args.get_int("head-dim", shape->head_dim, 1, INT32_MAX);
  shape->n_experts = args.get_int("experts", shape->n_experts, 0, INT32_MAX);
  // Fewer experts than the preset uses: use them all unless told otherwise.
  shape->n_experts_used = args.get_int("experts-used", std::min(shape->n_experts_used, shape->n_experts), 1, INT32_MAX);
  shape->n_ff_expert = args.get_int("expert-ff", shape->n_ff_expert, 1, INT32_MAX);
  if (args.has("shared-ff") && shape->arch != synth::Architecture::Qwen2Moe) {
    throw UsageError("--shared-ff needs a preset with a shared expert (qwen2-57b-a14b, qwen1.5-moe-a2.7b)");
  }
  shape->n_ff_shared = args.get_int("shared-ff", shape->n_ff_shared, 1, INT32_MAX);
  shape->context_length = args.get_int("ctx", shape->context_length, 1, INT32_MAX);
  shape->rope_base = static_cast<float>(args.get_double("rope-base", shape->rope_base));
  shape->rms_eps = static_cast<float>(args.get_double("rms-eps", shape->rms_eps));
  return *shape;
}

SynthSpec spec_from(const Args& args) {
  SynthSpec spec;
  spec.shape = shape_from(args);
  spec.type = args.get_or("type", synth::preset_default_type(args.get_or("preset", "synthA-like")));
  if (!synth::TypeMix::from_name(spec.type)) {
    throw UsageError("--type: unknown type '" + spec.type + "' (expected " +
                     joined(synth::TypeMix::names()) + ")");
  }
  spec.vocab_from = args.get_or("vocab-from", "");
  const std::string activation = args.get_or("activation", "silu");
  const auto parsed = synth::activation_from_name(activation);
  if (!parsed) {
    throw UsageError("--activation: unknown activation '" + activation +
                     "' (expected silu|relu|relu-threshold|shifted-relu)");
  }
  spec.activation = *parsed;
  if (args.has("threshold")) spec.relu_threshold = args.get_double("threshold", 0);
  if (args.has("sparsity")) spec.target_sparsity = args.get_double("sparsity", 0);
  const std::string router = args.get_or("router", "even");
  const auto router_kind = synth::router_from_name(router);
  if (!router_kind) throw UsageError("--router: unknown router '" + router + "' (expected even|skewed)");
  spec.router = *router_kind;
  if (args.has("router-skew") && spec.router != synth::RouterKind::Skewed) {
    throw UsageError("--router-skew needs --router skewed");
  }
  spec.router_skew = args.get_double("router-skew", 1.0);
  spec.seed = static_cast<uint64_t>(args.get_int("seed", 1, 0, INT64_MAX));
  spec.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  spec.name = args.get_or("name", "");
  return spec;
}

bool stderr_is_terminal() {
#ifdef _WIN32
  return _isatty(_fileno(stderr)) != 0;
#else
  return isatty(fileno(stderr)) != 0;
#endif
}

// "1.10 B", "5.28 M", "12.0 K": parameter counts at a glance.
std::string format_count(uint64_t n) {
  const double v = static_cast<double>(n);
  char text[32];
  if (v >= 1e9) std::snprintf(text, sizeof text, "%.2f B", v / 1e9);
  else if (v >= 1e6) std::snprintf(text, sizeof text, "%.2f M", v / 1e6);
  else if (v >= 1e3) std::snprintf(text, sizeof text, "%.1f K", v / 1e3);
  else std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(n));
  return text;
}

double megabytes_per_second(uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0;
}

// Redraws one status line in place, at most a few times per second.
class ProgressLine {
 public:
  void update(const SynthProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool done = p.bytes_done >= p.bytes_total;
    if (!done && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double fraction =
        p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 1.0;
    const double rate = megabytes_per_second(p.bytes_done, p.seconds);
    const double eta = rate > 0 ? static_cast<double>(p.bytes_total - p.bytes_done) / 1e6 / rate : 0.0;
    std::fprintf(stderr, "\r  %5.1f%%  %s / %s  %7.1f MB/s  ETA %4.0f s   ", 100.0 * fraction,
                 format_bytes(p.bytes_done).c_str(), format_bytes(p.bytes_total).c_str(), rate, eta);
    std::fflush(stderr);
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::fprintf(stderr, "\r%80s\r", "");
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  bool drawn_ = false;
};

void print_summary(const std::string& out, const SynthSpec& spec, const SynthSummary& s) {
  std::fprintf(stderr,
               "wrote %s: %s, %zu tensors, %s parameters, type %s, vocab %llu, seed %llu, "
               "%.1f s (%.0f MB/s)\n",
               out.c_str(), format_bytes(s.file_bytes).c_str(), s.n_tensors,
               format_count(s.n_parameters).c_str(), spec.type.c_str(),
               static_cast<unsigned long long>(s.vocab_size),
               static_cast<unsigned long long>(spec.seed), s.seconds,
               megabytes_per_second(s.file_bytes, s.seconds));
  if (spec.shape.is_moe()) {
    std::fprintf(stderr, "%s: %lld experts per layer, %lld used, expert ff %lld, router %s",
                 std::string(synth::architecture_name(spec.shape.arch)).c_str(),
                 static_cast<long long>(spec.shape.n_experts), static_cast<long long>(spec.shape.n_experts_used),
                 static_cast<long long>(spec.shape.expert_ff()), std::string(synth::router_name(spec.router)).c_str());
    if (spec.router == synth::RouterKind::Skewed) std::fprintf(stderr, " (skew %.3g)", spec.router_skew);
    std::fprintf(stderr, "\n");
  }
  if (s.relu_threshold || s.target_sparsity) {
    std::fprintf(stderr, "activation %s", std::string(synth::activation_metadata_name(spec.activation)).c_str());
    if (s.relu_threshold) {
      const bool shift = spec.activation == synth::Activation::ShiftedRelu;
      std::fprintf(stderr, ", %s %.6g", shift ? "shift" : "threshold", *s.relu_threshold);
    }
    if (s.target_sparsity) std::fprintf(stderr, ", target sparsity %.3f", *s.target_sparsity);
    std::fprintf(stderr, "\n");
  }
}

}  // namespace

std::string read_only_types_note() {
  std::string names;
  for (tensor::TensorType type : tensor::read_only_types(tensor::kernels())) {
    names += (names.empty() ? "" : ", ") + std::string(tensor::type_name(type));
  }
  return "reads and runs but cannot write (quantizing them needs an importance matrix): " +
         (names.empty() ? std::string("none") : names) + ".";
}

int cmd_synth(CommandArgs argv) {
  const Args args = Args::parse(argv, synth_options());
  const std::string synopsis =
      "sieve synth -o OUT.gguf [--preset P] [--dim N --layers N --ff N --heads N --kv-heads N "
      "--head-dim N --ctx N] [--experts N --experts-used K --expert-ff N --shared-ff N] [--router even|skewed "
      "[--router-skew S]] [--type T] [--vocab-from F] [--activation A [--threshold X | --sparsity S]] "
      "[--seed N] [-t THREADS]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, synth_options()).c_str());
    std::printf(
        "\nNorm weights stay F32. K-quant rows that are not a multiple of 256 fall back as\n"
        "llama.cpp does (Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, Q2_K/Q3_K/IQ4_XS->IQ4_NL,\n"
        "TQ1_0/TQ2_0->Q4_0). Mixture-of-Experts presets (qwen3-30b-a3b, mixtral-8x7b,\n"
        "gpt-oss-20b, qwen2-57b-a14b, qwen1.5-moe-a2.7b) write llama.cpp's qwen3moe /\n"
        "llama / gpt-oss / qwen2moe layouts (qwen2moe: a shared expert, *_shexp); a mix\n"
        "places *_exps and *_shexp tensors as llama-quantize does, routers (ffn_gate_inp,\n"
        "ffn_gate_inp_shexp) stay F32, and the blocks of every other matrix of an MoE\n"
        "model in Q4_K, Q6_K, Q5_0, Q8_0 and MXFP4 are drawn directly (no quantizer) at\n"
        "disk speed. Small versions: e.g. --preset qwen3-30b-a3b --layers 2 --dim 256\n"
        "--heads 4 --kv-heads 2 --head-dim 64 --experts 16 --experts-used 4 --expert-ff 256,\n"
        "or --preset qwen2-57b-a14b --layers 2 --dim 128 --heads 4 --kv-heads 2 --experts 8\n"
        "--experts-used 2 --expert-ff 128 --shared-ff 256.\n"
        "See docs/synthetic-models.md for the weights, the mixes, the routers and the\n"
        "sparsity derivation.\n"
        "Types Sieve %s\n",
        read_only_types_note().c_str());
    return 0;
  }
  if (!args.positional().empty()) {
    throw UsageError("unexpected argument '" + args.positional()[0] + "' (see --help)");
  }
  const auto out = args.get("output");
  if (!out || out->empty()) throw UsageError("--output FILE is required (see --help)");

  SynthSpec spec = spec_from(args);
  ProgressLine line;
  if (stderr_is_terminal()) spec.progress = [&line](const SynthProgress& p) { line.update(p); };
  SynthSummary summary;
  try {
    summary = synth::write_synthetic_model(spec, *out);
  } catch (...) {
    line.clear();  // so the error line that follows starts at column 0
    throw;
  }
  line.clear();
  print_summary(*out, spec, summary);
  return 0;
}

}  // namespace sieve::cli
