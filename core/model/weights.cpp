#include "model/weights.h"

#include <cmath>
#include <string>

#include "gguf/gguf_file.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::model {
namespace {

std::string shape_text(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

class TensorLoader {
 public:
  TensorLoader(const gguf::GgufFile& file, const WeightSource& source)
      : file_(file), source_(source), where_(file.path().filename().string()) {}

  // A matrix with rows of `row_elems` values and `n_rows` rows (GGUF shape
  // [row_elems, n_rows]) whose type has a dot-product kernel.
  tensor::MatrixView matrix(const std::string& name, int64_t row_elems, int64_t n_rows) const {
    const gguf::TensorInfo& t = find(name);
    check_shape(t, {static_cast<uint64_t>(row_elems), static_cast<uint64_t>(n_rows)});
    check_computable(t, /*need_dot=*/true);
    return view(t);
  }

  // The experts' matrices stacked in one 3-D tensor (GGUF shape
  // [row_elems, rows_per_expert, n_experts]), as one matrix of all their rows.
  tensor::MatrixView experts(const std::string& name, int64_t row_elems, int64_t rows_per_expert,
                             int64_t n_experts) const {
    const gguf::TensorInfo& t = find(name);
    check_shape(t, {static_cast<uint64_t>(row_elems), static_cast<uint64_t>(rows_per_expert),
                    static_cast<uint64_t>(n_experts)});
    check_computable(t, /*need_dot=*/true);
    return view(t);
  }

  // Vectors of `n` values stacked for `count` experts (GGUF shape [n, count]), as one.
  std::vector<float> stacked_vector(const std::string& name, int64_t n, int64_t count) const {
    const gguf::TensorInfo& t = find(name);
    check_shape(t, {static_cast<uint64_t>(n), static_cast<uint64_t>(count)});
    check_computable(t, /*need_dot=*/false);
    std::vector<float> values(static_cast<size_t>(n * count));
    tensor::kernels()[t.type].dequantize(data(t), values.data(), n * count);
    return values;
  }

  // A row table such as the token embedding: rows are dequantized one at a time.
  tensor::MatrixView table(const std::string& name, int64_t row_elems, int64_t n_rows) const {
    const gguf::TensorInfo& t = find(name);
    check_shape(t, {static_cast<uint64_t>(row_elems), static_cast<uint64_t>(n_rows)});
    check_computable(t, /*need_dot=*/false);
    return view(t);
  }

  // A vector of `n` values, converted to float.
  std::vector<float> vector(const std::string& name, int64_t n) const {
    const gguf::TensorInfo& t = find(name);
    check_shape(t, {static_cast<uint64_t>(n)});
    check_computable(t, /*need_dot=*/false);
    std::vector<float> values(static_cast<size_t>(n));
    tensor::kernels()[t.type].dequantize(data(t), values.data(), n);
    return values;
  }

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

  // An optional vector of positive RoPE frequency divisors (empty when absent).
  std::vector<float> rope_divisors(const std::string& name, int64_t n) const {
    if (!has(name)) return {};
    std::vector<float> divisors = vector(name, n);
    for (float f : divisors) {
      if (!(f > 0.0f) || !std::isfinite(f)) {
        throw Error(where_ + ": tensor '" + name + "' holds " + std::to_string(f) +
                    "; RoPE frequency divisors must be positive.");
      }
    }
    return divisors;
  }

 private:
  const gguf::TensorInfo& find(const std::string& name) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) throw Error(where_ + ": tensor '" + name + "' is missing.");
    return *t;
  }

  void check_shape(const gguf::TensorInfo& t, const std::vector<uint64_t>& expected) const {
    if (t.dims != expected) {
      throw Error(where_ + ": tensor '" + t.name + "' has shape " + shape_text(t.dims) + ", expected " +
                  shape_text(expected) + ".");
    }
  }

  void check_computable(const gguf::TensorInfo& t, bool need_dot) const {
    const tensor::KernelTable& table = tensor::kernels();
    const tensor::TypeKernels& k = table[t.type];
    // A dot product also needs the activations converted to the kernel's dot_type.
    const bool can_dot = k.vec_dot != nullptr &&
                         (k.dot_type == tensor::TensorType::F32 || table[k.dot_type].quantize != nullptr);
    const bool ok = k.dequantize != nullptr && (!need_dot || can_dot);
    if (!ok) {
      throw Error(where_ + ": tensor '" + t.name + "' has type " + std::string(tensor::type_name(t.type)) +
                  ", which Sieve cannot compute with.");
    }
    if (!tensor::is_whole_blocks(t.type, t.row_elements())) {
      throw Error(where_ + ": tensor '" + t.name + "' has rows of " + std::to_string(t.row_elements()) +
                  " values, not a whole number of " + std::string(tensor::type_name(t.type)) + " blocks.");
    }
  }

  // The tensor's bytes, from the mapping or the caller's buffers.
  const std::byte* data(const gguf::TensorInfo& t) const {
    if (!source_.bytes) return file_.tensor_data(t).data();
    const std::span<const std::byte> bytes = source_.bytes(t);
    if (bytes.size() != t.size_bytes) throw Error(where_ + ": tensor '" + t.name + "' was not loaded.");
    return bytes.data();
  }

  tensor::MatrixView view(const gguf::TensorInfo& t) const {
    tensor::MatrixView v;
    v.data = data(t);
    v.type = t.type;
    v.row_elems = static_cast<int64_t>(t.row_elements());
    v.n_rows = static_cast<int64_t>(t.n_rows());
    v.row_stride = tensor::bytes_for(t.type, t.row_elements());
    return v;
  }

  const gguf::GgufFile& file_;
  const WeightSource& source_;
  std::string where_;
};

// Rows [first, first + count) of a matrix, as a matrix of their own.
tensor::MatrixView row_range(const tensor::MatrixView& m, int64_t first, int64_t count) {
  tensor::MatrixView v = m;
  v.data = static_cast<const std::byte*>(m.data) + static_cast<size_t>(first) * m.row_stride;
  v.n_rows = count;
  return v;
}

void load_attention(const TensorLoader& load, const HyperParams& hp, const std::string& p, LayerWeights& w) {
  const ArchRecipe& r = hp.recipe;
  if (r.fused_qkv) {
    const tensor::MatrixView qkv = load.matrix(p + "attn_qkv.weight", hp.dim, hp.q_dim() + 2 * hp.kv_dim());
    w.wq = row_range(qkv, 0, hp.q_dim());
    w.wk = row_range(qkv, hp.q_dim(), hp.kv_dim());
    w.wv = row_range(qkv, hp.q_dim() + hp.kv_dim(), hp.kv_dim());
  } else {
    w.wq = load.matrix(p + "attn_q.weight", hp.dim, hp.q_dim());
    w.wk = load.matrix(p + "attn_k.weight", hp.dim, hp.kv_dim());
    w.wv = load.matrix(p + "attn_v.weight", hp.dim, hp.kv_dim());
  }
  if (r.qkv_bias) {
    w.bq = load.vector(p + "attn_q.bias", hp.q_dim());
    w.bk = load.vector(p + "attn_k.bias", hp.kv_dim());
    w.bv = load.vector(p + "attn_v.bias", hp.kv_dim());
  }
  if (r.qk_norm) {
    w.q_norm = load.vector(p + "attn_q_norm.weight", hp.head_dim);
    w.k_norm = load.vector(p + "attn_k_norm.weight", hp.head_dim);
  }
  if (r.attn_sinks) w.attn_sinks = load.vector(p + "attn_sinks.weight", hp.n_heads);
  w.wo = load.matrix(p + "attn_output.weight", hp.q_dim(), hp.dim);
  if (r.attn_output_bias) w.bo = load.vector(p + "attn_output.bias", hp.dim);
  if (r.post_norms) w.attn_post_norm = load.vector(p + "post_attention_norm.weight", hp.dim);
}

void load_experts(const TensorLoader& load, const HyperParams& hp, const std::string& p, bool matrices,
                  LayerWeights& w) {
  w.ffn_router = load.matrix(p + "ffn_gate_inp.weight", hp.dim, hp.n_experts);
  if (hp.recipe.expert_biases) {
    w.router_bias = load.vector(p + "ffn_gate_inp.bias", hp.n_experts);
    w.gate_exps_bias = load.stacked_vector(p + "ffn_gate_exps.bias", hp.n_ff_expert, hp.n_experts);
    w.up_exps_bias = load.stacked_vector(p + "ffn_up_exps.bias", hp.n_ff_expert, hp.n_experts);
    w.down_exps_bias = load.stacked_vector(p + "ffn_down_exps.bias", hp.dim, hp.n_experts);
  }
  if (hp.recipe.shared_expert) {
    w.ffn_gate_shexp = load.matrix(p + "ffn_gate_shexp.weight", hp.dim, hp.n_ff_shared);
    w.ffn_up_shexp = load.matrix(p + "ffn_up_shexp.weight", hp.dim, hp.n_ff_shared);
    w.ffn_down_shexp = load.matrix(p + "ffn_down_shexp.weight", hp.n_ff_shared, hp.dim);
    w.shexp_gate = load.vector(p + "ffn_gate_inp_shexp.weight", hp.dim);
  }
  if (!matrices) return;
  w.ffn_gate_exps = load.experts(p + "ffn_gate_exps.weight", hp.dim, hp.n_ff_expert, hp.n_experts);
  w.ffn_up_exps = load.experts(p + "ffn_up_exps.weight", hp.dim, hp.n_ff_expert, hp.n_experts);
  w.ffn_down_exps = load.experts(p + "ffn_down_exps.weight", hp.n_ff_expert, hp.dim, hp.n_experts);
}

void load_ffn(const TensorLoader& load, const HyperParams& hp, const std::string& p, bool experts,
              LayerWeights& w) {
  if (hp.is_moe()) return load_experts(load, hp, p, experts, w);
  if (hp.recipe.fused_gate_up) {
    const tensor::MatrixView gate_up = load.matrix(p + "ffn_up.weight", hp.dim, 2 * hp.n_ff);
    w.ffn_gate = row_range(gate_up, 0, hp.n_ff);
    w.ffn_up = row_range(gate_up, hp.n_ff, hp.n_ff);
  } else {
    w.ffn_gate = load.matrix(p + "ffn_gate.weight", hp.dim, hp.n_ff);
    w.ffn_up = load.matrix(p + "ffn_up.weight", hp.dim, hp.n_ff);
  }
  w.ffn_down = load.matrix(p + "ffn_down.weight", hp.n_ff, hp.dim);
}

LayerWeights load_layer(const TensorLoader& load, const HyperParams& hp, int64_t layer, const WeightSource& source) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  LayerWeights w;
  w.attn_norm = load.vector(p + "attn_norm.weight", hp.dim);
  load_attention(load, hp, p, w);
  w.ffn_norm = load.vector(p + std::string(hp.recipe.ffn_norm) + ".weight", hp.dim);
  if (hp.recipe.post_norms) w.ffn_post_norm = load.vector(p + "post_ffw_norm.weight", hp.dim);
  if (source.ffn) load_ffn(load, hp, p, source.experts, w);
  return w;
}

}  // namespace

tensor::MatrixView expert_rows(const tensor::MatrixView& stacked, int64_t expert, int64_t n_experts) {
  const int64_t rows = stacked.n_rows / n_experts;
  return row_range(stacked, expert * rows, rows);
}

FfnTensors find_ffn_tensors(const gguf::GgufFile& file, const HyperParams& hp, int64_t layer) {
  const std::string where = file.path().filename().string();
  if (hp.is_moe()) {
    throw Error(where + ": a Mixture-of-Experts model (" + std::to_string(hp.n_experts) +
                " experts per layer) cannot be packed yet; run it in dense or mmap mode.");
  }
  const std::string p = "blk." + std::to_string(layer) + ".";
  const auto dim = static_cast<uint64_t>(hp.dim), n_ff = static_cast<uint64_t>(hp.n_ff);
  const auto require = [&](const std::string& name, const std::vector<uint64_t>& dims) {
    const gguf::TensorInfo* t = file.find_tensor(name);
    if (t == nullptr) throw Error(where + ": tensor '" + name + "' is missing.");
    if (t->dims != dims) {
      throw Error(where + ": tensor '" + name + "' has shape " + shape_text(t->dims) + ", expected " +
                  shape_text(dims) + ".");
    }
    return t;
  };
  FfnTensors f;
  if (hp.recipe.fused_gate_up) {
    f.gate = f.up = require(p + "ffn_up.weight", {dim, 2 * n_ff});
    f.up_first_row = hp.n_ff;
  } else {
    f.gate = require(p + "ffn_gate.weight", {dim, n_ff});
    f.up = require(p + "ffn_up.weight", {dim, n_ff});
  }
  f.down = require(p + "ffn_down.weight", {n_ff, dim});
  return f;
}

uint64_t float_vector_bytes(const HyperParams& hp) {
  const ArchRecipe& r = hp.recipe;
  uint64_t per_layer = 2 * static_cast<uint64_t>(hp.dim);  // attn_norm, ffn_norm
  if (r.qkv_bias) per_layer += static_cast<uint64_t>(hp.q_dim() + 2 * hp.kv_dim());
  if (r.qk_norm) per_layer += 2 * static_cast<uint64_t>(hp.head_dim);
  if (r.attn_sinks) per_layer += static_cast<uint64_t>(hp.n_heads);
  if (r.attn_output_bias) per_layer += static_cast<uint64_t>(hp.dim);
  if (r.expert_biases && hp.is_moe()) {
    per_layer += static_cast<uint64_t>(hp.n_experts * (1 + 2 * hp.n_ff_expert + hp.dim));
  }
  if (r.post_norms) per_layer += 2 * static_cast<uint64_t>(hp.dim);
  if (r.shared_expert && hp.is_moe()) per_layer += static_cast<uint64_t>(hp.dim);  // ffn_gate_inp_shexp
  // output_norm, and at most three RoPE divisor vectors of n_rot / 2
  const auto model_wide = static_cast<uint64_t>(hp.dim + 2 * hp.n_rot);
  return (static_cast<uint64_t>(hp.n_layers) * per_layer + model_wide) * sizeof(float);
}

ModelWeights load_weights(const gguf::GgufFile& file, const HyperParams& hp, const WeightSource& source) {
  const TensorLoader load(file, source);
  ModelWeights w;
  w.token_embd = load.table("token_embd.weight", hp.dim, hp.n_vocab);
  w.layers.reserve(static_cast<size_t>(hp.n_layers));
  for (int64_t l = 0; l < hp.n_layers; ++l) w.layers.push_back(load_layer(load, hp, l, source));
  w.output_norm = load.vector("output_norm.weight", hp.dim);
  w.rope_freqs = load.rope_divisors("rope_freqs.weight", hp.n_rot / 2);
  w.rope_factors_long = load.rope_divisors("rope_factors_long.weight", hp.n_rot / 2);
  w.rope_factors_short = load.rope_divisors("rope_factors_short.weight", hp.n_rot / 2);
  w.output_tied = !load.has("output.weight");
  w.output = w.output_tied ? load.matrix("token_embd.weight", hp.dim, hp.n_vocab)
                           : load.matrix("output.weight", hp.dim, hp.n_vocab);
  return w;
}

}  // namespace sieve::model
