#include "model/hparams.h"

#include <array>
#include <cmath>
#include <optional>
#include <string_view>

#include "gguf/gguf_file.h"
#include "util/error.h"

namespace sieve::model {
namespace {

// Widths and counts beyond this are certainly a corrupt file, and would make
// the buffers sized from them absurd.
constexpr int64_t kMaxDimension = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxExperts = 1024;

class MetadataReader {
 public:
  MetadataReader(const gguf::GgufFile& file, std::string_view arch) : file_(file), arch_(arch) {}

  std::string key(std::string_view suffix) const { return std::string(arch_) + "." + std::string(suffix); }

  std::string where() const { return file_.path().filename().string(); }

  // A required positive count within [1, hi].
  int64_t required_count(std::string_view suffix, int64_t hi = kMaxDimension) const {
    const std::string k = key(suffix);
    const std::optional<int64_t> v = file_.get_int(k);
    if (!v) throw Error(where() + ": metadata key '" + k + "' is missing.");
    return checked_count(k, *v, hi);
  }

  int64_t optional_count(std::string_view suffix, int64_t fallback, int64_t hi = kMaxDimension) const {
    const std::string k = key(suffix);
    const std::optional<int64_t> v = file_.get_int(k);
    return v ? checked_count(k, *v, hi) : fallback;
  }

  int64_t checked_count(const std::string& k, int64_t v, int64_t hi) const {
    if (v < 1 || v > hi) {
      throw Error(where() + ": metadata key '" + k + "' is " + std::to_string(v) + ", expected 1 to " +
                  std::to_string(hi) + ".");
    }
    return v;
  }

  // A finite positive float, or the fallback when absent.
  double positive_float(const std::string& k, double fallback) const {
    const std::optional<double> v = file_.get_float(k);
    if (!v) return fallback;
    if (!std::isfinite(*v) || *v <= 0.0) {
      throw Error(where() + ": metadata key '" + k + "' is " + std::to_string(*v) + ", expected a positive number.");
    }
    return *v;
  }

  double finite_float(const std::string& k, double fallback) const {
    const std::optional<double> v = file_.get_float(k);
    if (!v) return fallback;
    if (!std::isfinite(*v)) throw Error(where() + ": metadata key '" + k + "' is not a finite number.");
    return *v;
  }

  const gguf::GgufFile& file() const { return file_; }

 private:
  const gguf::GgufFile& file_;
  std::string_view arch_;
};

const ArchRecipe& find_architecture(const gguf::GgufFile& file) {
  const std::string arch = file.architecture();
  if (const ArchRecipe* r = find_recipe(arch)) return *r;
  std::string supported;
  for (const ArchRecipe& r : recipes()) supported += (supported.empty() ? "" : ", ") + std::string(r.name);
  throw Error(file.path().filename().string() + ": architecture '" + (arch.empty() ? "(none)" : arch) +
              "' is not supported (supported: " + supported + ").");
}

void read_rope(const MetadataReader& m, HyperParams& hp) {
  hp.n_rot = m.optional_count("rope.dimension_count", hp.head_dim);
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    throw Error(m.where() + ": metadata key '" + m.key("rope.dimension_count") + "' is " +
                std::to_string(hp.n_rot) + ", expected an even number up to the head size " +
                std::to_string(hp.head_dim) + ".");
  }
  hp.rope.freq_base = m.positive_float(m.key("rope.freq_base"), 10000.0);

  const std::string type_key = m.key("rope.scaling.type");
  const std::string type = m.file().get_string(type_key).value_or("none");
  hp.rope_attn_factor = static_cast<float>(m.positive_float(m.key("rope.scaling.attn_factor"), 1.0));
  hp.rope_original_context =
      m.optional_count("rope.scaling.original_context_length", hp.train_context, int64_t{1} << 24);
  if (type == "linear") {
    hp.rope.linear_factor = m.positive_float(m.key("rope.scaling.factor"), 1.0);
  } else if (type == "yarn") {
    hp.rope.yarn_factor = m.positive_float(m.key("rope.scaling.factor"), 1.0);
    hp.rope.yarn_beta_fast = m.positive_float(m.key("rope.scaling.yarn_beta_fast"), 32.0);
    hp.rope.yarn_beta_slow = m.positive_float(m.key("rope.scaling.yarn_beta_slow"), 1.0);
    if (hp.rope.yarn_factor > 1.0) hp.rope_attn_factor *= static_cast<float>(1.0 + 0.1 * std::log(hp.rope.yarn_factor));
  } else if (type != "none") {
    throw Error(m.where() + ": metadata key '" + type_key + "' is '" + type +
                "'; only 'none', 'linear' and 'yarn' RoPE scaling are supported.");
  }
  // Older converters wrote the linear factor under its own key.
  if (type == "none") hp.rope.linear_factor = m.positive_float(m.key("rope.scale_linear"), 1.0);

  hp.local_rope = hp.rope;
  if (hp.recipe.local_rope_base > 0.0) {
    hp.local_rope = RopeParams{m.positive_float(m.key("rope.freq_base_swa"), hp.recipe.local_rope_base), 1.0};
  }
}

// The window, the soft caps, the attention and embedding scales.
void read_attention(const MetadataReader& m, HyperParams& hp) {
  const ArchRecipe& r = hp.recipe;
  if (r.sliding_window) {
    hp.sliding_window = m.optional_count("attention.sliding_window", 0, int64_t{1} << 24);
    hp.sliding_pattern = m.optional_count("attention.sliding_window_pattern", r.sliding_pattern, kMaxLayers);
  }
  if (r.attn_softcap > 0.0f) {
    hp.attn_softcap = static_cast<float>(m.positive_float(m.key("attn_logit_softcapping"), r.attn_softcap));
  }
  if (r.final_softcap > 0.0f) {
    hp.final_softcap = static_cast<float>(m.positive_float(m.key("final_logit_softcapping"), r.final_softcap));
  }
  const bool width_scaled = r.width_scaled_query_layers != 0 && hp.n_layers == r.width_scaled_query_layers;
  const int64_t scale_width = width_scaled ? hp.dim / hp.n_heads : hp.head_dim;
  hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(scale_width));
  hp.embed_scale = r.embed_scale ? std::sqrt(static_cast<float>(hp.dim)) : 1.0f;
}

void read_sieve_keys(const MetadataReader& m, HyperParams& hp) {
  const gguf::GgufFile& f = m.file();
  const std::optional<std::string> activation = f.get_string("sieve.ffn.activation");
  if (!activation) {
    hp.ffn_activation = hp.recipe.activation;
  } else if (activation == "silu") {
    hp.ffn_activation = FfnActivation::Silu;
  } else if (activation == "gelu") {
    hp.ffn_activation = FfnActivation::Gelu;
  } else if (activation == "relu") {
    hp.ffn_activation = FfnActivation::Relu;
  } else if (activation == "fatrelu") {
    hp.ffn_activation = FfnActivation::FatRelu;
    hp.ffn_relu_threshold = static_cast<float>(m.finite_float("sieve.ffn.relu_threshold", 0.0));
  } else if (activation == "shifted_relu") {
    hp.ffn_activation = FfnActivation::ShiftedRelu;
    hp.ffn_relu_shift = static_cast<float>(m.finite_float("sieve.ffn.relu_shift", 0.0));
  } else {
    throw Error(m.where() + ": metadata key 'sieve.ffn.activation' is '" + *activation +
                "', expected silu, gelu, relu, fatrelu or shifted_relu.");
  }
  hp.norm_relu = f.get_bool("sieve.norm.relu").value_or(false);
  hp.norm_relu_shift = static_cast<float>(m.finite_float("sieve.norm.relu_shift", 0.0));
}

// `expert_count` 0 or absent: a dense model.
void read_experts(const MetadataReader& m, HyperParams& hp) {
  const std::optional<int64_t> experts = m.file().get_int(m.key("expert_count"));
  if (!experts || *experts == 0) return;
  hp.n_experts = m.checked_count(m.key("expert_count"), *experts, kMaxExperts);
  hp.n_experts_used = m.required_count("expert_used_count", hp.n_experts);
  hp.n_ff_expert = m.optional_count("expert_feed_forward_length", hp.n_ff);
  if (hp.recipe.shared_expert) hp.n_ff_shared = m.optional_count("expert_shared_feed_forward_length", hp.n_ff);
}

}  // namespace

HyperParams read_hyper_params(const gguf::GgufFile& file) {
  const ArchRecipe& recipe = find_architecture(file);
  const MetadataReader m(file, recipe.name);
  HyperParams hp;
  hp.architecture = std::string(recipe.name);
  hp.recipe = recipe;

  hp.dim = m.required_count("embedding_length");
  hp.n_layers = m.required_count("block_count", kMaxLayers);
  hp.n_ff = m.required_count("feed_forward_length");
  read_experts(m, hp);
  hp.n_heads = m.required_count("attention.head_count");
  hp.n_kv_heads = m.optional_count("attention.head_count_kv", hp.n_heads);
  if (hp.n_heads % hp.n_kv_heads != 0) {
    throw Error(m.where() + ": " + std::to_string(hp.n_heads) + " attention heads cannot be shared among " +
                std::to_string(hp.n_kv_heads) + " key/value heads.");
  }
  const int64_t default_head_dim = hp.dim % hp.n_heads == 0 ? hp.dim / hp.n_heads : 0;
  hp.head_dim = m.optional_count("attention.key_length", default_head_dim);
  if (hp.head_dim == 0) {
    throw Error(m.where() + ": the embedding width " + std::to_string(hp.dim) + " is not a multiple of the " +
                std::to_string(hp.n_heads) + " heads and '" + m.key("attention.key_length") + "' is missing.");
  }
  const int64_t value_dim = m.optional_count("attention.value_length", hp.head_dim);
  if (value_dim != hp.head_dim) {
    throw Error(m.where() + ": key and value head sizes differ (" + std::to_string(hp.head_dim) + " and " +
                std::to_string(value_dim) + "); Sieve needs them equal.");
  }
  hp.train_context = m.required_count("context_length", int64_t{1} << 24);
  hp.rms_eps = static_cast<float>(m.positive_float(m.key("attention.layer_norm_rms_epsilon"), 1e-5));
  read_rope(m, hp);
  read_attention(m, hp);
  read_sieve_keys(m, hp);

  const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr) throw Error(m.where() + ": tensor 'token_embd.weight' is missing.");
  if (embd->dims.size() != 2 || embd->dims[1] < 1 || embd->dims[1] > (uint64_t{1} << 24)) {
    throw Error(m.where() + ": tensor 'token_embd.weight' does not have the shape [embedding, vocabulary].");
  }
  hp.n_vocab = static_cast<int64_t>(embd->dims[1]);
  return hp;
}

}  // namespace sieve::model
