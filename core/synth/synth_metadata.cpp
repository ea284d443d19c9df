#include "synth/synth_metadata.h"

#include <string>

namespace sieve::synth {
namespace {

using gguf::Value;

Value u32(int64_t v) { return Value::u32(static_cast<uint32_t>(v)); }

void set_shape_keys(gguf::GgufWriter& w, const ModelShape& s, uint64_t vocab_size) {
  const std::string a(architecture_name(s.arch));
  if (s.arch == Architecture::Llama) w.set(a + ".vocab_size", u32(static_cast<int64_t>(vocab_size)));
  w.set(a + ".context_length", u32(s.context_length));
  w.set(a + ".embedding_length", u32(s.dim));
  w.set(a + ".block_count", u32(s.n_layers));
  w.set(a + ".feed_forward_length", u32(s.n_ff));
  w.set(a + ".attention.head_count", u32(s.n_heads));
  w.set(a + ".attention.head_count_kv", u32(s.n_kv_heads));
  w.set(a + ".rope.dimension_count", u32(s.head_size()));
  w.set(a + ".rope.freq_base", Value::f32(s.rope_base));
  w.set(a + ".attention.layer_norm_rms_epsilon", Value::f32(s.rms_eps));
  if (s.head_dim != 0) {
    w.set(a + ".attention.key_length", u32(s.head_dim));
    w.set(a + ".attention.value_length", u32(s.head_dim));
  }
  if (s.is_moe()) {
    w.set(a + ".expert_count", u32(s.n_experts));
    w.set(a + ".expert_used_count", u32(s.n_experts_used));
    // Mixtral's experts are feed_forward_length wide; the others say so.
    if (s.arch != Architecture::Llama) w.set(a + ".expert_feed_forward_length", u32(s.expert_ff()));
    if (s.has_shared_expert()) w.set(a + ".expert_shared_feed_forward_length", u32(s.shared_expert_ff()));
  }
  if (s.sliding_window > 0) w.set(a + ".attention.sliding_window", u32(s.sliding_window));
  if (s.rope_scaling_factor > 0.0f) {
    w.set(a + ".rope.scaling.type", Value::string("yarn"));
    w.set(a + ".rope.scaling.factor", Value::f32(s.rope_scaling_factor));
    w.set(a + ".rope.scaling.original_context_length", u32(s.rope_original_context));
  }
}

}  // namespace

void set_model_metadata(gguf::GgufWriter& w, const SynthSpec& spec, const TypeMix& types,
                        const MetadataExtras& extras, uint64_t vocab_size) {
  const ModelShape& s = spec.shape;
  const std::string name = !spec.name.empty() ? spec.name
                                              : "sieve-synth-" + std::to_string(s.dim) + "x" +
                                                    std::to_string(s.n_layers);
  w.set("general.architecture", Value::string(std::string(architecture_name(s.arch))));
  w.set("general.name", Value::string(name));
  set_shape_keys(w, s, vocab_size);
  w.set("general.file_type", Value::u32(types.file_type()));
  const tensor::TensorType base = types.base_type();
  if (base != tensor::TensorType::F32 && base != tensor::TensorType::F16 &&
      base != tensor::TensorType::BF16) {
    w.set("general.quantization_version", Value::u32(2));
  }
  w.set("sieve.synth.seed", Value::u64(spec.seed));
  if (s.is_moe()) {
    // The architecture decides the experts' activation; only the router is ours to record.
    w.set("sieve.synth.router", Value::string(std::string(router_name(spec.router))));
    if (spec.router == RouterKind::Skewed) {
      w.set("sieve.synth.router_skew", Value::f32(static_cast<float>(spec.router_skew)));
    }
    return;
  }
  w.set("sieve.ffn.activation", Value::string(std::string(activation_metadata_name(spec.activation))));
  if (extras.relu_threshold) {
    const char* key = spec.activation == Activation::ShiftedRelu ? "sieve.ffn.relu_shift"
                                                                 : "sieve.ffn.relu_threshold";
    w.set(key, Value::f32(static_cast<float>(*extras.relu_threshold)));
  }
  if (extras.target_sparsity) {
    w.set("sieve.synth.target_sparsity", Value::f32(static_cast<float>(*extras.target_sparsity)));
  }
}

}  // namespace sieve::synth
