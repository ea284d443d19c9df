#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tensor/kernels.h"
#include "tensor/ops.h"

namespace sieve::model {

RunState::RunState(const HyperParams& hp, int64_t context, int64_t max_batch)
    : x(static_cast<size_t>(max_batch * hp.dim)),
      xn(x.size()),
      block(x.size()),
      q(static_cast<size_t>(max_batch * hp.q_dim())),
      k(static_cast<size_t>(max_batch * hp.kv_dim())),
      v(k.size()),
      att(q.size()),
      attention(hp.n_heads, hp.q_dim(), context, max_batch),
      rope_cos(static_cast<size_t>(hp.n_rot / 2)),
      rope_sin(rope_cos.size()),
      logits(static_cast<size_t>(hp.n_vocab)) {}

namespace {

// Pair i turns at base^(-2i / n_rot) radians per position, slowed by the
// linear scaling factor and by the pair's own divisor when the file has one.
// YaRN's share of pair i that keeps its original frequency: 1 for the fast
// pairs, 0 for the slow ones (which are slowed by the whole factor), a
// linear ramp between the pairs that turn beta_fast and beta_slow times over
// the original context.
double yarn_kept_share(const HyperParams& hp, const RopeParams& rope, size_t pair) {
  const auto pair_at = [&](double turns) {  // the pair that turns `turns` times over the original context
    const double wavelengths = static_cast<double>(hp.rope_original_context) / (turns * 2.0 * std::numbers::pi);
    return static_cast<double>(hp.n_rot) * std::log(wavelengths) / (2.0 * std::log(rope.freq_base));
  };
  const double low = std::max(0.0, std::floor(pair_at(rope.yarn_beta_fast)));
  const double high = std::min(static_cast<double>(hp.n_rot - 1), std::ceil(pair_at(rope.yarn_beta_slow)));
  const double y = (static_cast<double>(pair) - low) / std::max(0.001, high - low);
  return 1.0 - std::clamp(y, 0.0, 1.0);
}

std::vector<double> inverse_frequencies(const HyperParams& hp, const RopeParams& rope,
                                        const std::vector<float>& divisors) {
  std::vector<double> inv_freq(static_cast<size_t>(hp.n_rot / 2));
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    const double exponent = -2.0 * static_cast<double>(i) / static_cast<double>(hp.n_rot);
    inv_freq[i] = std::pow(rope.freq_base, exponent) / rope.linear_factor;
    if (!divisors.empty()) inv_freq[i] /= divisors[i];
    if (rope.yarn_factor > 0.0) {
      const double kept = yarn_kept_share(hp, rope, i);
      inv_freq[i] *= (1.0 - kept) / rope.yarn_factor + kept;
    }
  }
  return inv_freq;
}

AttentionParams attention_params(const HyperParams& hp, bool windowed) {
  AttentionParams p;
  p.n_heads = hp.n_heads;
  p.n_kv_heads = hp.n_kv_heads;
  p.head_dim = hp.head_dim;
  p.score_scale = hp.recipe.query_scaling == QueryScaling::Scores ? hp.attn_scale : 1.0f;
  p.softcap = hp.attn_softcap;
  p.window = windowed ? hp.sliding_window : 0;
  return p;
}

void soft_cap(float* values, int64_t n, float cap) {
  const float inverse = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) values[i] = cap * std::tanh(values[i] * inverse);
}

}  // namespace

Transformer::Transformer(const HyperParams& hp, const ModelWeights& weights, FeedForward& ffn, ThreadPool& pool,
                         int64_t context, int64_t max_batch)
    : hp_(hp),
      weights_(weights),
      ffn_(ffn),
      pool_(pool),
      max_batch_(max_batch),
      rope_inv_freq_(inverse_frequencies(hp, hp.rope, weights.rope_divisors(hp, context))),
      local_inv_freq_(inverse_frequencies(hp, hp.local_rope, weights.rope_divisors(hp, context))),
      global_attention_(attention_params(hp, false)),
      local_attention_(attention_params(hp, true)),
      cache_(hp.n_layers, context, hp.kv_dim()),
      s_(hp, context, max_batch) {}

const float* Transformer::forward(const int32_t* tokens, int64_t n, int64_t pos) {
  const int64_t dim = hp_.dim;
  embed(tokens, n);
  for (int64_t layer = 0; layer < hp_.n_layers; ++layer) {
    const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
    normalise(w.attn_norm, n);
    if (observer_ != nullptr) {
      observer_->observe(ActivationSite::AttentionInput, static_cast<int>(layer), s_.xn.data(), n, dim);
    }
    attention_block(layer, n, pos);
    add_block(w.attn_post_norm, n);

    normalise(w.ffn_norm, n);
    if (observer_ != nullptr) {
      observer_->observe(ActivationSite::FfnInput, static_cast<int>(layer), s_.xn.data(), n, dim);
    }
    ffn_.forward_batch(static_cast<int>(layer), pos, s_.xn.data(), static_cast<int>(n), s_.block.data());
    add_block(w.ffn_post_norm, n);
  }
  // Only the last token's logits are needed: the others' keys and values are cached.
  const float* last = s_.x.data() + (n - 1) * dim;
  tensor::rmsnorm(s_.xn.data(), last, weights_.output_norm.data(), dim, hp_.rms_eps);
  tensor::matvec(weights_.output, s_.xn.data(), s_.logits.data(), pool_, s_.scratch);
  if (hp_.final_softcap > 0.0f) soft_cap(s_.logits.data(), hp_.n_vocab, hp_.final_softcap);
  return s_.logits.data();
}

void Transformer::embed(const int32_t* tokens, int64_t n) {
  const tensor::MatrixView& table = weights_.token_embd;
  const tensor::DequantizeRowFn dequantize = tensor::kernels()[table.type].dequantize;
  const auto* base = static_cast<const std::byte*>(table.data);
  for (int64_t t = 0; t < n; ++t) {
    float* row = s_.x.data() + t * hp_.dim;
    dequantize(base + static_cast<size_t>(tokens[t]) * table.row_stride, row, hp_.dim);
    if (hp_.embed_scale != 1.0f) {
      for (int64_t i = 0; i < hp_.dim; ++i) row[i] *= hp_.embed_scale;
    }
  }
}

void Transformer::normalise(const std::vector<float>& weight, int64_t n) {
  for (int64_t t = 0; t < n; ++t) {
    float* out = s_.xn.data() + t * hp_.dim;
    tensor::rmsnorm(out, s_.x.data() + t * hp_.dim, weight.data(), hp_.dim, hp_.rms_eps);
    if (hp_.norm_relu) tensor::shifted_relu(out, hp_.dim, hp_.norm_relu_shift);
  }
}

void Transformer::add_block(const std::vector<float>& post_norm, int64_t n) {
  const int64_t dim = hp_.dim;
  if (!post_norm.empty()) {
    for (int64_t t = 0; t < n; ++t) {
      float* row = s_.block.data() + t * dim;
      tensor::rmsnorm(row, row, post_norm.data(), dim, hp_.rms_eps);
    }
  }
  tensor::add(s_.x.data(), s_.block.data(), n * dim);
}

void Transformer::linear(const tensor::MatrixView& w, const float* x, int64_t n, float* y) {
  if (n == 1) {
    tensor::matvec(w, x, y, pool_, s_.scratch);
  } else {
    tensor::matmat(w, x, n, y, pool_, s_.scratch);
  }
}

void Transformer::add_bias(float* y, const std::vector<float>& bias, int64_t n) {
  if (bias.empty()) return;
  const auto width = static_cast<int64_t>(bias.size());
  for (int64_t t = 0; t < n; ++t) tensor::add(y + t * width, bias.data(), width);
}

void Transformer::rope_heads(float* row, int64_t n_heads) {
  for (int64_t h = 0; h < n_heads; ++h) {
    tensor::rope(row + h * hp_.head_dim, hp_.n_rot, s_.rope_cos.data(), s_.rope_sin.data(), hp_.recipe.rope_style);
  }
}

void Transformer::prepare_queries_and_keys(int64_t layer, int64_t n, int64_t pos) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t q_dim = hp_.q_dim(), kv_dim = hp_.kv_dim(), head_dim = hp_.head_dim;
  if (!w.q_norm.empty()) {
    for (int64_t i = 0; i < n * q_dim; i += head_dim) {
      tensor::rmsnorm(s_.q.data() + i, s_.q.data() + i, w.q_norm.data(), head_dim, hp_.rms_eps);
    }
    for (int64_t i = 0; i < n * kv_dim; i += head_dim) {
      tensor::rmsnorm(s_.k.data() + i, s_.k.data() + i, w.k_norm.data(), head_dim, hp_.rms_eps);
    }
  }
  const std::vector<double>& inv_freq = hp_.windowed(layer) ? local_inv_freq_ : rope_inv_freq_;
  for (int64_t t = 0; t < n; ++t) {
    tensor::rope_angles(pos + t, inv_freq.data(), hp_.n_rot / 2, s_.rope_cos.data(), s_.rope_sin.data());
    if (hp_.rope_attn_factor != 1.0f) {
      for (size_t i = 0; i < s_.rope_cos.size(); ++i) {
        s_.rope_cos[i] *= hp_.rope_attn_factor;
        s_.rope_sin[i] *= hp_.rope_attn_factor;
      }
    }
    rope_heads(s_.q.data() + t * q_dim, hp_.n_heads);
    rope_heads(s_.k.data() + t * kv_dim, hp_.n_kv_heads);
  }
  if (hp_.recipe.query_scaling == QueryScaling::Queries) {
    for (int64_t i = 0; i < n * q_dim; ++i) s_.q[static_cast<size_t>(i)] *= hp_.attn_scale;
  }
}

void Transformer::attention_block(int64_t layer, int64_t n, int64_t pos) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  linear(w.wq, s_.xn.data(), n, s_.q.data());
  linear(w.wk, s_.xn.data(), n, s_.k.data());
  linear(w.wv, s_.xn.data(), n, s_.v.data());
  add_bias(s_.q.data(), w.bq, n);
  add_bias(s_.k.data(), w.bk, n);
  add_bias(s_.v.data(), w.bv, n);
  prepare_queries_and_keys(layer, n, pos);
  cache_.store_keys(layer, pos, n, s_.k.data());
  cache_.store_values(layer, pos, n, s_.v.data());
  AttentionParams params = hp_.windowed(layer) ? local_attention_ : global_attention_;
  params.sinks = w.attn_sinks.empty() ? nullptr : w.attn_sinks.data();
  attend(params, cache_, layer, s_.q.data(), pos, n, s_.attention, s_.att.data(), pool_);
  linear(w.wo, s_.att.data(), n, s_.block.data());
  add_bias(s_.block.data(), w.bo, n);
}

}  // namespace sieve::model
