#include "synth/synth_model.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cctype>
#include <cmath>
#include <system_error>

#include "gguf/gguf_writer.h"
#include "synth/chunk_writer.h"
#include "synth/direct_quant.h"
#include "synth/model_plan.h"
#include "synth/router_skew.h"
#include "synth/synth_metadata.h"
#include "synth/synth_vocab.h"
#include "synth/type_mix.h"
#include "synth/weight_gen.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace sieve::synth {
namespace {

using Clock = std::chrono::steady_clock;

// Chunks of about this many output bytes are generated in parallel and handed
// to the writer thread; kBuffers of them bound the memory in use.
constexpr size_t kChunkBytes = size_t{16} << 20;
constexpr size_t kBuffers = 3;
// Slices per pool thread inside one chunk, for load balance.
constexpr int kSlicesPerThread = 4;

// Limits that keep a typo from asking for absurd shapes.
constexpr int64_t kMaxDim = 1 << 16, kMaxFf = 1 << 20, kMaxLayers = 4096, kMaxHeads = 4096;
constexpr int64_t kMaxContext = int64_t{1} << 24;
constexpr int64_t kMaxExperts = 4096;
constexpr double kMaxRouterSkew = 16.0;
constexpr int kMaxThreads = 1024;

struct NamedShape {
  std::string_view name;
  ModelShape shape;
  std::string_view default_type = "f16";
};

ModelShape dense_llama(int64_t dim, int64_t layers, int64_t ff, int64_t heads, int64_t kv_heads, int64_t ctx) {
  ModelShape s;
  s.dim = dim;
  s.n_layers = layers;
  s.n_ff = ff;
  s.n_heads = heads;
  s.n_kv_heads = kv_heads;
  s.context_length = ctx;
  return s;
}

// The published configs (config.json): Qwen/Qwen3-30B-A3B.
ModelShape qwen3_30b_a3b() {
  ModelShape s = dense_llama(2048, 48, 6144, 32, 4, 40960);
  s.arch = Architecture::Qwen3Moe;
  s.head_dim = 128;
  s.rope_base = 1e6f;
  s.rms_eps = 1e-6f;
  s.n_experts = 128;
  s.n_experts_used = 8;
  s.n_ff_expert = 768;
  return s;
}

// mistralai/Mixtral-8x7B-v0.1: llama with 8 experts of the dense FFN's size.
ModelShape mixtral_8x7b() {
  ModelShape s = dense_llama(4096, 32, 14336, 32, 8, 32768);
  s.rope_base = 1e6f;
  s.n_experts = 8;
  s.n_experts_used = 2;
  return s;
}

// openai/gpt-oss-20b.
ModelShape gpt_oss_20b() {
  ModelShape s = dense_llama(2880, 24, 2880, 64, 8, 131072);
  s.arch = Architecture::GptOss;
  s.head_dim = 64;
  s.rope_base = 150000.0f;
  s.n_experts = 32;
  s.n_experts_used = 4;
  s.n_ff_expert = 2880;
  s.sliding_window = 128;
  s.rope_scaling_factor = 32.0f;
  s.rope_original_context = 4096;
  return s;
}

// Qwen's MoE models: Qwen2's block (Q/K/V biases) with 60-64 small experts
// and a shared expert. feed_forward_length is the config's
// intermediate_size, which no tensor uses.
ModelShape qwen2moe(int64_t dim, int64_t layers, int64_t ff, int64_t heads, int64_t kv_heads, int64_t ctx) {
  ModelShape s = dense_llama(dim, layers, ff, heads, kv_heads, ctx);
  s.arch = Architecture::Qwen2Moe;
  s.rope_base = 1e6f;
  s.rms_eps = 1e-6f;
  return s;
}

// Qwen/Qwen2-57B-A14B.
ModelShape qwen2_57b_a14b() {
  ModelShape s = qwen2moe(3584, 28, 18944, 28, 4, 131072);
  s.n_experts = 64;
  s.n_experts_used = 8;
  s.n_ff_expert = 2560;
  s.n_ff_shared = 20480;
  return s;
}

// Qwen/Qwen1.5-MoE-A2.7B.
ModelShape qwen1_5_moe_a2_7b() {
  ModelShape s = qwen2moe(2048, 24, 5632, 16, 16, 8192);
  s.n_experts = 60;
  s.n_experts_used = 4;
  s.n_ff_expert = 1408;
  s.n_ff_shared = 5632;
  return s;
}

const std::array<NamedShape, 8>& presets() {
  static const std::array<NamedShape, 8> kPresets = {{
      {"tinyllama-1.1b", dense_llama(2048, 22, 5632, 32, 4, 2048)},
      {"llama2-7b", dense_llama(4096, 32, 11008, 32, 32, 4096)},
      {"synthA-like", dense_llama(256, 4, 768, 8, 4, 1024)},
      {"qwen3-30b-a3b", qwen3_30b_a3b()},
      {"mixtral-8x7b", mixtral_8x7b()},
      {"gpt-oss-20b", gpt_oss_20b(), "mxfp4_moe"},
      {"qwen2-57b-a14b", qwen2_57b_a14b()},
      {"qwen1.5-moe-a2.7b", qwen1_5_moe_a2_7b()},
  }};
  return kPresets;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void check_range(const char* what, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    throw Error(std::string(what) + " must be between " + std::to_string(lo) + " and " +
                std::to_string(hi) + ", got " + std::to_string(value));
  }
}

void validate_experts(const ModelShape& s) {
  if (!s.is_moe()) {
    if (s.arch != Architecture::Llama) {
      throw Error("the " + std::string(architecture_name(s.arch)) + " architecture needs experts (at least 2)");
    }
    return;
  }
  check_range("the expert count", s.n_experts, 2, kMaxExperts);
  check_range("the used expert count", s.n_experts_used, 1, s.n_experts);
  check_range("the expert feed-forward length", s.expert_ff(), 1, kMaxFf);
  if (s.has_shared_expert()) check_range("the shared expert feed-forward length", s.shared_expert_ff(), 1, kMaxFf);
}

void validate_shape(const ModelShape& s) {
  check_range("dim", s.dim, 1, kMaxDim);
  check_range("the layer count", s.n_layers, 1, kMaxLayers);
  check_range("n_ff", s.n_ff, 1, kMaxFf);
  check_range("the head count", s.n_heads, 1, kMaxHeads);
  check_range("the KV head count", s.n_kv_heads, 1, kMaxHeads);
  check_range("the context length", s.context_length, 1, kMaxContext);
  if (s.head_dim != 0) check_range("the head size", s.head_dim, 2, kMaxDim);
  if (s.head_dim == 0 && s.dim % s.n_heads != 0) {
    throw Error("the head count " + std::to_string(s.n_heads) + " does not divide dim " +
                std::to_string(s.dim));
  }
  if (s.n_heads % s.n_kv_heads != 0) {
    throw Error("the KV head count " + std::to_string(s.n_kv_heads) +
                " does not divide the head count " + std::to_string(s.n_heads));
  }
  if (s.head_size() % 2 != 0) {
    throw Error("the head size " + std::to_string(s.head_size()) + " must be even for rotary embeddings");
  }
  validate_experts(s);
  if (!(s.rope_base > 0.0f) || !std::isfinite(s.rope_base)) {
    throw Error("the rope base must be a positive number");
  }
  if (!(s.rms_eps > 0.0f) || !std::isfinite(s.rms_eps)) {
    throw Error("the RMS norm epsilon must be a positive number");
  }
}

// The threshold and target sparsity the activation implies; throws on a bad combination.
struct ActivationChoice {
  std::optional<double> threshold;
  std::optional<double> target_sparsity;
};

ActivationChoice resolve_activation(const SynthSpec& spec) {
  const bool has_threshold = spec.relu_threshold.has_value();
  const bool has_sparsity = spec.target_sparsity.has_value();
  switch (spec.activation) {
    case Activation::Silu:
      if (has_threshold || has_sparsity) {
        throw Error("a threshold or sparsity needs relu-threshold or shifted-relu, not silu");
      }
      return {};
    case Activation::Relu:
      if (has_threshold || has_sparsity) {
        throw Error(
            "plain relu has no bias, so about half of its gate values are zero whatever the "
            "weights; use relu-threshold or shifted-relu to choose a threshold or sparsity");
      }
      return {std::nullopt, 0.5};
    case Activation::ReluThreshold:
    case Activation::ShiftedRelu:
      break;
  }
  if (has_threshold == has_sparsity) {
    const char* name = spec.activation == Activation::ShiftedRelu ? "shifted-relu" : "relu-threshold";
    throw Error(std::string("the ") + name +
                " activation needs exactly one of a threshold or a sparsity");
  }
  if (has_sparsity) {
    const double s = *spec.target_sparsity;
    if (!(s > 0.0 && s < 1.0)) {
      throw Error("the sparsity must be a fraction strictly between 0 and 1, got " +
                  std::to_string(s));
    }
    return {threshold_for_sparsity(s, spec.shape), s};
  }
  const double t = *spec.relu_threshold;
  if (!std::isfinite(t)) throw Error("the ReLU threshold must be a finite number");
  return {t, sparsity_for_threshold(t, spec.shape)};
}

void validate_router(const SynthSpec& spec) {
  if (spec.router == RouterKind::Even) return;
  if (!spec.shape.is_moe()) throw Error("a skewed router needs a Mixture-of-Experts shape (--experts)");
  if (!(spec.router_skew >= 0.0 && spec.router_skew <= kMaxRouterSkew)) {
    throw Error("the router skew must be between 0 and " + std::to_string(static_cast<int>(kMaxRouterSkew)) +
                ", got " + std::to_string(spec.router_skew));
  }
}

TypeMix resolve_type(const std::string& name) {
  auto mix = TypeMix::from_name(name);
  if (!mix) {
    std::string known;
    for (const std::string& n : TypeMix::names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown tensor type '" + name + "' (expected one of " + known + ")");
  }
  return *mix;
}

void check_encodable(const std::vector<PlannedTensor>& plan) {
  for (const PlannedTensor& t : plan) {
    if (!t.direct && !can_encode(t.type)) {
      throw Error("this build has no quantizer for tensor type " +
                  std::string(tensor::type_name(t.type)) + " (needed by '" + t.name + "')");
    }
  }
}

void check_output_location(const std::filesystem::path& out_path, uint64_t bytes_needed) {
  if (out_path.empty()) throw Error("no output file given");
  std::filesystem::path dir = out_path.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw Error(out_path.string() + ": cannot write there: the folder " + dir.string() +
                " does not exist");
  }
  if (std::filesystem::is_directory(out_path, ec)) {
    throw Error(out_path.string() + ": is a folder, not a file name");
  }
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  if (!ec && space.available < bytes_needed) {
    throw Error(out_path.string() + ": not enough free disk space (the model needs " +
                std::to_string(bytes_needed >> 20) + " MiB, " +
                std::to_string(space.available >> 20) + " MiB are free)");
  }
}

// Generates rows [first, first + n) of one tensor into `out`, spread over the pool.
class ChunkFiller {
 public:
  ChunkFiller(ThreadPool& pool, uint64_t max_row_length, const RouterSkew* skew)
      : pool_(pool), n_slices_(pool.size() * kSlicesPerThread), skew_(skew) {
    scratch_.resize(static_cast<size_t>(n_slices_));
    for (auto& s : scratch_) s.resize(static_cast<size_t>(max_row_length));
  }

  // Direct tensors: blocks straight from the counter, no floats.
  void fill_direct(const PlannedTensor& t, const DirectRowGenerator& gen, uint64_t first, uint64_t n,
                   std::byte* out) {
    const uint64_t row_bytes = tensor::bytes_for(t.type, t.row_length());
    const int64_t slices = std::min<int64_t>(n_slices_, static_cast<int64_t>(n));
    pool_.parallel_for(slices, [&](int64_t begin, int64_t end) {
      const uint64_t r0 = first + n * static_cast<uint64_t>(begin) / static_cast<uint64_t>(slices);
      const uint64_t r1 = first + n * static_cast<uint64_t>(end) / static_cast<uint64_t>(slices);
      for (uint64_t r = r0; r < r1; ++r) {
        gen.fill_row(r, out + (r - first) * row_bytes, static_cast<int64_t>(t.row_length()));
      }
    });
  }

  void fill(const PlannedTensor& t, const RowGenerator& gen, uint64_t first, uint64_t n,
            std::byte* out) {
    const uint64_t row_length = t.row_length();
    const uint64_t row_bytes = tensor::bytes_for(t.type, row_length);
    const int64_t slices = std::min<int64_t>(n_slices_, static_cast<int64_t>(n));
    // Each call owns the scratch row of its first slice: ranges are disjoint.
    pool_.parallel_for(slices, [&](int64_t begin, int64_t end) {
      std::vector<float>& scratch = scratch_[static_cast<size_t>(begin)];
      const std::span<float> row(scratch.data(), static_cast<size_t>(row_length));
      const uint64_t r0 = first + n * static_cast<uint64_t>(begin) / static_cast<uint64_t>(slices);
      const uint64_t r1 = first + n * static_cast<uint64_t>(end) / static_cast<uint64_t>(slices);
      for (uint64_t r = r0; r < r1; ++r) {
        gen.fill_row(r, row);
        shape_row(t, r, row);
        encode_row(t.type, row.data(), out + (r - first) * row_bytes,
                   static_cast<int64_t>(row_length));
      }
    });
  }

 private:
  void shape_row(const PlannedTensor& t, uint64_t r, std::span<float> row) const {
    if (skew_ == nullptr) return;
    switch (t.shaping) {
      case RowShaping::None: return;
      case RowShaping::TokenEmbedding: skew_->shape_embedding_row(r, row); return;
      case RowShaping::Query: skew_->shape_query_row(r, row); return;
      case RowShaping::Key: skew_->shape_key_row(r, row); return;
      case RowShaping::QkNorm: skew_->shape_qk_norm(row); return;
      case RowShaping::Value: skew_->shape_value_row(t.layer, r, row); return;
      case RowShaping::AttnOutput: skew_->shape_output_row(t.layer, r, row); return;
      case RowShaping::Router: skew_->shape_router_row(t.layer, r, row); return;
    }
  }

  ThreadPool& pool_;
  int64_t n_slices_;
  const RouterSkew* skew_;
  std::vector<std::vector<float>> scratch_;
};

struct StreamContext {
  const SynthSpec& spec;
  OrderedChunkWriter& sink;
  ChunkFiller& filler;
  Clock::time_point start;
  uint64_t bytes_total;
};

void report(const StreamContext& ctx, uint64_t done) {
  if (!ctx.spec.progress) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - ctx.start).count();
  ctx.spec.progress(SynthProgress{done, ctx.bytes_total, seconds});
}

void stream_tensor(StreamContext& ctx, const PlannedTensor& t, size_t index) {
  const RowGenerator gen(ctx.spec.seed, index, t.distribution);
  std::optional<DirectRowGenerator> direct;
  if (t.direct) direct.emplace(ctx.spec.seed, index, t.distribution, t.type);
  const uint64_t row_bytes = tensor::bytes_for(t.type, t.row_length());
  const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkBytes / row_bytes);
  for (uint64_t first = 0; first < t.n_rows(); first += rows_per_chunk) {
    const uint64_t n = std::min(rows_per_chunk, t.n_rows() - first);
    ChunkBuffer& buffer = ctx.sink.acquire();
    if (direct) {
      ctx.filler.fill_direct(t, *direct, first, n, buffer.bytes.get());
    } else {
      ctx.filler.fill(t, gen, first, n, buffer.bytes.get());
    }
    ctx.sink.submit(buffer, index, static_cast<size_t>(n * row_bytes));
    report(ctx, ctx.sink.bytes_written());
  }
}

uint64_t tensor_bytes(const PlannedTensor& t) { return tensor::bytes_for(t.type, t.n_elements()); }

}  // namespace

std::optional<ModelShape> shape_preset(std::string_view name) {
  for (const NamedShape& p : presets()) {
    if (equals_ignoring_case(p.name, name)) return p.shape;
  }
  return std::nullopt;
}

std::vector<std::string> shape_preset_names() {
  std::vector<std::string> out;
  for (const NamedShape& p : presets()) out.emplace_back(p.name);
  return out;
}

std::string preset_default_type(std::string_view name) {
  for (const NamedShape& p : presets()) {
    if (equals_ignoring_case(p.name, name)) return std::string(p.default_type);
  }
  return "f16";
}

std::string_view architecture_name(Architecture arch) {
  switch (arch) {
    case Architecture::Llama: return "llama";
    case Architecture::Qwen3Moe: return "qwen3moe";
    case Architecture::GptOss: return "gpt-oss";
    case Architecture::Qwen2Moe: return "qwen2moe";
  }
  return "llama";
}

std::optional<RouterKind> router_from_name(std::string_view name) {
  if (equals_ignoring_case(name, "even") || equals_ignoring_case(name, "random")) return RouterKind::Even;
  if (equals_ignoring_case(name, "skewed")) return RouterKind::Skewed;
  return std::nullopt;
}

std::string_view router_name(RouterKind kind) { return kind == RouterKind::Skewed ? "skewed" : "even"; }

std::optional<Activation> activation_from_name(std::string_view name) {
  if (equals_ignoring_case(name, "silu")) return Activation::Silu;
  if (equals_ignoring_case(name, "relu")) return Activation::Relu;
  if (equals_ignoring_case(name, "relu-threshold") || equals_ignoring_case(name, "fatrelu")) {
    return Activation::ReluThreshold;
  }
  if (equals_ignoring_case(name, "shifted-relu") || equals_ignoring_case(name, "shifted_relu")) {
    return Activation::ShiftedRelu;
  }
  return std::nullopt;
}

std::string_view activation_metadata_name(Activation activation) {
  switch (activation) {
    case Activation::Silu: return "silu";
    case Activation::Relu: return "relu";
    case Activation::ReluThreshold: return "fatrelu";
    case Activation::ShiftedRelu: return "shifted_relu";
  }
  return "silu";
}

void validate_spec(const SynthSpec& spec) {
  validate_shape(spec.shape);
  check_range("the thread count", spec.threads, 0, kMaxThreads);
  resolve_activation(spec);
  validate_router(spec);
  if (spec.shape.is_moe() && spec.activation != Activation::Silu) {
    throw Error("the ReLU activations are for dense models; a Mixture-of-Experts shape keeps its own");
  }
  const TypeMix types = resolve_type(spec.type);
  // Vocabulary size does not change which types fit (it is never a row length).
  check_encodable(plan_tensors(spec.shape, 1, types, spec.router));
}

SynthSummary write_synthetic_model(const SynthSpec& spec, const std::filesystem::path& out_path) {
  const Clock::time_point start = Clock::now();
  validate_spec(spec);
  const TypeMix types = resolve_type(spec.type);
  const ActivationChoice act = resolve_activation(spec);
  const SynthVocab vocab = spec.vocab_from.empty() ? byte_fallback_vocab()
                                                   : vocab_from_gguf(spec.vocab_from);
  const std::vector<PlannedTensor> plan = plan_tensors(spec.shape, vocab.size, types, spec.router);

  SynthSummary summary;
  summary.vocab_size = vocab.size;
  summary.n_tensors = plan.size();
  summary.relu_threshold = act.threshold;
  summary.target_sparsity = act.target_sparsity;
  uint64_t max_row_bytes = 0, max_row_length = 0;
  for (const PlannedTensor& t : plan) {
    summary.tensor_bytes += tensor_bytes(t);
    summary.n_parameters += t.n_elements();
    max_row_bytes = std::max(max_row_bytes, tensor::bytes_for(t.type, t.row_length()));
    max_row_length = std::max(max_row_length, t.row_length());
  }
  // Metadata (a large vocabulary is a few MiB) plus alignment padding.
  check_output_location(out_path, summary.tensor_bytes + (uint64_t{64} << 20));

  gguf::GgufWriter writer(out_path);
  set_model_metadata(writer, spec, types, MetadataExtras{act.threshold, act.target_sparsity}, vocab.size);
  for (const gguf::KeyValue& kv : vocab.metadata) writer.set(kv.key, kv.value);
  for (const PlannedTensor& t : plan) writer.add_tensor(t.name, t.type, t.dims);
  writer.begin_data();
  {
    ThreadPool pool(spec.threads);
    std::optional<RouterSkew> skew;
    if (spec.router == RouterKind::Skewed) skew.emplace(spec.shape, spec.seed, spec.router_skew);
    ChunkFiller filler(pool, max_row_length, skew ? &*skew : nullptr);
    OrderedChunkWriter sink(writer, kBuffers, std::max<size_t>(kChunkBytes, max_row_bytes));
    StreamContext ctx{spec, sink, filler, start, summary.tensor_bytes};
    for (size_t i = 0; i < plan.size(); ++i) stream_tensor(ctx, plan[i], i);
    sink.finish();
  }
  writer.finish();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  summary.file_bytes = std::filesystem::file_size(out_path);
  if (spec.progress) spec.progress(SynthProgress{summary.tensor_bytes, summary.tensor_bytes, summary.seconds});
  return summary;
}

}  // namespace sieve::synth
