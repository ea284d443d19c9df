#pragma once
// Writes GGUF models with seeded random weights, at disk speed, for
// benchmarks and tests that need the shape of a real model (e.g. TinyLlama-1.1B,
// Llama-2-7B, or the Mixture-of-Experts Qwen3-30B-A3B, Mixtral-8x7B,
// gpt-oss-20b, Qwen2-57B-A14B and Qwen1.5-MoE-A2.7B) but not its knowledge.
//
//   SynthSpec spec;
//   spec.shape = *shape_preset("tinyllama-1.1b");
//   spec.type = "q4_k_m";
//   write_synthetic_model(spec, "/tmp/tiny.gguf");
//
// Tensors and metadata are named as llama.cpp names them; the same spec and
// seed give byte-identical files whatever the thread count. Generation and
// quantization run on a thread pool in chunks of rows while one thread streams
// finished chunks to disk; memory stays at a few 16 MiB chunks.
// docs/synthetic-models.md describes the weights, type mixes and sparsity.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::synth {

// The llama.cpp architecture a file declares; decides its tensors and keys.
enum class Architecture {
  Llama,     // "llama"; with experts it is Mixtral's layout
  Qwen3Moe,  // "qwen3moe": per-head q/k norms, experts, normalised top-k weights
  GptOss,    // "gpt-oss": biases, attention sinks, alternate sliding window, expert biases
  Qwen2Moe,  // "qwen2moe": Q/K/V biases, experts (unnormalised top-k), a gated shared expert
};
std::string_view architecture_name(Architecture arch);

struct ModelShape {
  Architecture arch = Architecture::Llama;
  int64_t dim = 256;  // embedding length
  int64_t n_layers = 4;
  int64_t n_ff = 768;  // feed-forward length (dense FFN; Mixtral's experts)
  int64_t n_heads = 8;
  int64_t n_kv_heads = 4;
  int64_t head_dim = 0;  // 0: dim / n_heads (Qwen3 and gpt-oss set it: q is n_heads * head_dim wide)
  int64_t context_length = 1024;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  // Mixture of experts: n_experts 0 is a dense model.
  int64_t n_experts = 0;
  int64_t n_experts_used = 0;
  int64_t n_ff_expert = 0;  // 0: n_ff
  int64_t n_ff_shared = 0;  // qwen2moe only: the shared expert's feed-forward length (0: n_ff)
  // gpt-oss only: the window of its sliding-window layers and its YaRN scaling.
  int64_t sliding_window = 0;
  float rope_scaling_factor = 0.0f;  // 0: no rope scaling keys
  int64_t rope_original_context = 0;

  int64_t head_size() const { return head_dim > 0 ? head_dim : dim / n_heads; }
  int64_t expert_ff() const { return n_ff_expert > 0 ? n_ff_expert : n_ff; }
  int64_t shared_expert_ff() const { return n_ff_shared > 0 ? n_ff_shared : n_ff; }
  bool is_moe() const { return n_experts > 0; }
  bool has_shared_expert() const { return arch == Architecture::Qwen2Moe && is_moe(); }
};

// "tinyllama-1.1b", "llama2-7b", "synthA-like", "qwen3-30b-a3b",
// "mixtral-8x7b", "gpt-oss-20b", "qwen2-57b-a14b", "qwen1.5-moe-a2.7b"
// (case-insensitive).
std::optional<ModelShape> shape_preset(std::string_view name);
std::vector<std::string> shape_preset_names();
// The type a preset is written in when none is chosen: "mxfp4_moe" for
// gpt-oss-20b (as it ships), "f16" for the rest.
std::string preset_default_type(std::string_view name);

// How the routers of a Mixture-of-Experts model pick experts
// (docs/synthetic-models.md, "Routers", says how the weights make it so).
enum class RouterKind {
  Even,    // random router rows: tokens spread evenly over the experts
  Skewed,  // Zipf-like expert popularity and temporally correlated choices
};
std::optional<RouterKind> router_from_name(std::string_view name);
std::string_view router_name(RouterKind kind);

// FFN activation of a dense model, recorded in `sieve.ffn.activation` (a
// Mixture-of-Experts shape keeps its architecture's and must stay Silu here).
enum class Activation {
  Silu,           // "silu": SwiGLU, as trained llama models
  Relu,           // "relu": max(g, 0); about half the gate values are zero
  ReluThreshold,  // "fatrelu": g > t ? g : 0, threshold t in sieve.ffn.relu_threshold
  ShiftedRelu,    // "shifted_relu": max(g - t, 0), shift t in sieve.ffn.relu_shift
};
// silu | relu | relu-threshold (or fatrelu) | shifted-relu (or shifted_relu)
std::optional<Activation> activation_from_name(std::string_view name);
std::string_view activation_metadata_name(Activation activation);

struct SynthProgress {
  uint64_t bytes_done = 0;   // tensor data written so far
  uint64_t bytes_total = 0;  // tensor data in the file
  double seconds = 0;        // since the start
};

struct SynthSpec {
  ModelShape shape;
  std::string name;                  // general.name; empty: "sieve-synth-<dim>x<layers>"
  std::filesystem::path vocab_from;  // copy tokenizer.* from this GGUF; empty: byte vocab
  std::string type = "f16";          // a TypeMix name: f16, q8_0, q4_k_m, ...
  Activation activation = Activation::Silu;
  // ReluThreshold and ShiftedRelu take exactly one of these; the other is
  // derived. relu_threshold is the cut-off t: the threshold or the shift.
  std::optional<double> relu_threshold;
  std::optional<double> target_sparsity;  // fraction of gate activations that are zero
  RouterKind router = RouterKind::Even;
  double router_skew = 1.0;  // Skewed: strength; 0 is even, larger is more skewed
  uint64_t seed = 1;
  int threads = 0;  // 0: one per hardware thread
  // Called on the calling thread after each chunk and once at the end.
  std::function<void(const SynthProgress&)> progress;
};

struct SynthSummary {
  uint64_t file_bytes = 0;
  uint64_t tensor_bytes = 0;
  size_t n_tensors = 0;
  uint64_t vocab_size = 0;
  uint64_t n_parameters = 0;
  double seconds = 0;
  std::optional<double> relu_threshold;   // written threshold or shift
  std::optional<double> target_sparsity;  // written target (every ReLU variant)
};

// Validates `spec` (sieve::Error with one sentence on any bad value), then
// writes the model to `out_path` via "<out_path>.partial" and a rename.
SynthSummary write_synthetic_model(const SynthSpec& spec, const std::filesystem::path& out_path);

// Checks `spec` without writing anything; throws sieve::Error on a bad value.
void validate_spec(const SynthSpec& spec);

// --- FFN gate statistics (derivation in docs/synthetic-models.md) ----------
// Standard deviation of one gate pre-activation g = W_gate (gamma * x) when x
// has unit RMS, gamma is the ffn_norm weight and W_gate holds the generated
// gate weights.
double gate_preactivation_stddev(const ModelShape& shape);
// The threshold t with P(g < t) = sparsity, and its inverse.
double threshold_for_sparsity(double sparsity, const ModelShape& shape);
double sparsity_for_threshold(double threshold, const ModelShape& shape);

}  // namespace sieve::synth
