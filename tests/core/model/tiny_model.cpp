#include "core/model/tiny_model.h"

#include <cmath>
#include <cstring>

#include "gguf/gguf_writer.h"
#include "tensor/fp16.h"

namespace sieve::test {
namespace {

using Vec = std::vector<double>;

float random_value(uint64_t& state, float scale) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return (static_cast<float>(state >> 40) / 16777216.0f - 0.5f) * 2.0f * scale;
}

void add_tensor(TinyWeights& w, const std::string& name, std::vector<uint64_t> dims, uint64_t& state, float scale,
                float offset = 0.0f) {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  TinyTensor t{std::move(dims), std::vector<float>(n)};
  for (float& v : t.values) v = offset + random_value(state, scale);
  w[name] = std::move(t);
}

// y = W x for W of GGUF dims [cols, rows].
Vec matvec(const TinyTensor& w, const Vec& x) {
  const size_t cols = w.dims[0], rows = w.dims[1];
  Vec y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) y[r] += static_cast<double>(w.values[r * cols + c]) * x[c];
  }
  return y;
}

Vec rmsnorm(const Vec& x, const TinyTensor& weight, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  Vec out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * scale * weight.values[i];
  return out;
}

void rope(double* head, const TinySpec& s, const TinyWeights& w, int64_t pos) {
  const int64_t half = s.rot() / 2;
  for (int64_t i = 0; i < half; ++i) {
    double angle = static_cast<double>(pos) / s.rope_linear_factor *
                   std::pow(s.rope_base, -2.0 * static_cast<double>(i) / static_cast<double>(s.rot()));
    if (s.rope_freqs) angle /= w.at("rope_freqs.weight").values[static_cast<size_t>(i)];
    double* a = s.neox() ? head + i : head + 2 * i;
    double* b = s.neox() ? head + i + half : head + 2 * i + 1;
    const double x0 = *a, x1 = *b;
    *a = x0 * std::cos(angle) - x1 * std::sin(angle);
    *b = x0 * std::sin(angle) + x1 * std::cos(angle);
  }
}

// The engine keeps keys and values in half precision and rounds queries and
// attention weights to it before multiplying (docs/inference.md).
double half(double x) { return tensor::fp16_to_fp32(tensor::fp32_to_fp16(static_cast<float>(x))); }

double activate(const TinySpec& s, double g) {
  if (s.activation == "relu") return g > 0 ? g : 0;
  if (s.activation == "fatrelu") return g > s.relu_threshold ? g : 0;
  if (s.activation == "shifted_relu") return g - s.relu_shift > 0 ? g - s.relu_shift : 0;
  if (s.activation == "gelu") {  // tanh approximation, on and to half precision as the reference's table
    if (g <= -10) return 0;
    if (g >= 10) return g;
    const double h = half(g);
    return half(0.5 * h * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * h * (1.0 + 0.044715 * h * h))));
  }
  return g / (1.0 + std::exp(-g));
}

}  // namespace

TinyWeights make_tiny_weights(const TinySpec& s) {
  TinyWeights w;
  uint64_t state = s.seed;
  const auto dim = static_cast<uint64_t>(s.dim), ff = static_cast<uint64_t>(s.n_ff);
  const auto q_dim = static_cast<uint64_t>(s.n_heads * s.head_dim());
  const auto kv_dim = static_cast<uint64_t>(s.n_kv_heads * s.head_dim());
  add_tensor(w, "token_embd.weight", {dim, static_cast<uint64_t>(s.n_vocab)}, state, 1.0f);
  for (int64_t l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add_tensor(w, p + "attn_norm.weight", {dim}, state, 0.2f, 1.0f);
    add_tensor(w, p + "attn_q.weight", {dim, q_dim}, state, 0.5f);
    add_tensor(w, p + "attn_k.weight", {dim, kv_dim}, state, 0.5f);
    add_tensor(w, p + "attn_v.weight", {dim, kv_dim}, state, 0.5f);
    if (s.biases()) {
      add_tensor(w, p + "attn_q.bias", {q_dim}, state, 0.3f);
      add_tensor(w, p + "attn_k.bias", {kv_dim}, state, 0.3f);
      add_tensor(w, p + "attn_v.bias", {kv_dim}, state, 0.3f);
    }
    add_tensor(w, p + "attn_output.weight", {q_dim, dim}, state, 0.3f);
    add_tensor(w, p + "ffn_norm.weight", {dim}, state, 0.2f, 1.0f);
    add_tensor(w, p + "ffn_gate.weight", {dim, ff}, state, 0.5f);
    add_tensor(w, p + "ffn_up.weight", {dim, ff}, state, 0.5f);
    add_tensor(w, p + "ffn_down.weight", {ff, dim}, state, 0.3f);
  }
  add_tensor(w, "output_norm.weight", {dim}, state, 0.2f, 1.0f);
  if (s.rope_freqs) add_tensor(w, "rope_freqs.weight", {static_cast<uint64_t>(s.rot() / 2)}, state, 1.5f, 2.5f);
  if (!s.tied_output) add_tensor(w, "output.weight", {dim, static_cast<uint64_t>(s.n_vocab)}, state, 0.5f);
  return w;
}

void write_tiny_model(const std::filesystem::path& path, const TinySpec& s, const TinyWeights& weights) {
  using gguf::Value;
  gguf::GgufWriter writer(path);
  const std::string a = s.arch + ".";
  writer.set("general.architecture", Value::string(s.arch));
  writer.set("general.name", Value::string("tiny-" + s.arch));
  writer.set(a + "context_length", Value::u32(static_cast<uint32_t>(s.context)));
  writer.set(a + "embedding_length", Value::u32(static_cast<uint32_t>(s.dim)));
  writer.set(a + "block_count", Value::u32(static_cast<uint32_t>(s.n_layers)));
  writer.set(a + "feed_forward_length", Value::u32(static_cast<uint32_t>(s.n_ff)));
  writer.set(a + "attention.head_count", Value::u32(static_cast<uint32_t>(s.n_heads)));
  writer.set(a + "attention.head_count_kv", Value::u32(static_cast<uint32_t>(s.n_kv_heads)));
  writer.set(a + "rope.dimension_count", Value::u32(static_cast<uint32_t>(s.rot())));
  writer.set(a + "rope.freq_base", Value::f32(static_cast<float>(s.rope_base)));
  writer.set(a + "attention.layer_norm_rms_epsilon", Value::f32(s.rms_eps));
  if (s.rope_linear_factor != 1.0) {
    writer.set(a + "rope.scaling.type", Value::string("linear"));
    writer.set(a + "rope.scaling.factor", Value::f32(static_cast<float>(s.rope_linear_factor)));
  }
  if (!s.activation.empty()) writer.set("sieve.ffn.activation", Value::string(s.activation));
  if (s.activation == "fatrelu") writer.set("sieve.ffn.relu_threshold", Value::f32(s.relu_threshold));
  if (s.activation == "shifted_relu") writer.set("sieve.ffn.relu_shift", Value::f32(s.relu_shift));
  if (s.norm_relu) {
    writer.set("sieve.norm.relu", Value::boolean(true));
    writer.set("sieve.norm.relu_shift", Value::f32(s.norm_relu_shift));
  }
  std::vector<const TinyTensor*> order;
  for (const auto& [name, t] : weights) {
    writer.add_tensor(name, tensor::TensorType::F32, t.dims);
    order.push_back(&t);
  }
  writer.begin_data();
  for (size_t i = 0; i < order.size(); ++i) {
    const auto* bytes = reinterpret_cast<const std::byte*>(order[i]->values.data());
    writer.write_tensor_data(i, {bytes, order[i]->values.size() * sizeof(float)});
  }
  writer.finish();
}

std::vector<std::vector<double>> naive_forward(const TinySpec& s, const TinyWeights& w,
                                               const std::vector<int32_t>& tokens) {
  const int64_t hd = s.head_dim(), group = s.n_heads / s.n_kv_heads;
  const auto W = [&](const std::string& name) -> const TinyTensor& { return w.at(name); };
  std::vector<std::vector<Vec>> keys(static_cast<size_t>(s.n_layers)), values(keys.size());
  std::vector<std::vector<double>> all_logits;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    const TinyTensor& embd = W("token_embd.weight");
    Vec x(embd.values.begin() + tokens[pos] * s.dim, embd.values.begin() + (tokens[pos] + 1) * s.dim);
    for (int64_t l = 0; l < s.n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      const auto block_input = [&](const char* norm) {
        Vec xn = rmsnorm(x, W(p + norm), s.rms_eps);
        if (s.norm_relu) {
          for (double& v : xn) v = std::max(v - s.norm_relu_shift, 0.0);
        }
        return xn;
      };
      Vec xn = block_input("attn_norm.weight");
      Vec q = matvec(W(p + "attn_q.weight"), xn), k = matvec(W(p + "attn_k.weight"), xn),
          v = matvec(W(p + "attn_v.weight"), xn);
      if (s.biases()) {
        for (size_t i = 0; i < q.size(); ++i) q[i] += W(p + "attn_q.bias").values[i];
        for (size_t i = 0; i < k.size(); ++i) k[i] += W(p + "attn_k.bias").values[i];
        for (size_t i = 0; i < v.size(); ++i) v[i] += W(p + "attn_v.bias").values[i];
      }
      for (int64_t h = 0; h < s.n_heads; ++h) rope(q.data() + h * hd, s, w, static_cast<int64_t>(pos));
      for (int64_t h = 0; h < s.n_kv_heads; ++h) rope(k.data() + h * hd, s, w, static_cast<int64_t>(pos));
      for (double& x : q) x = half(x);
      for (double& x : k) x = half(x);
      for (double& x : v) x = half(x);
      keys[static_cast<size_t>(l)].push_back(k);
      values[static_cast<size_t>(l)].push_back(v);
      Vec att(q.size(), 0.0);
      for (int64_t h = 0; h < s.n_heads; ++h) {
        const int64_t kv = (h / group) * hd;
        Vec scores(pos + 1);
        double max_score = -1e300, sum = 0;
        for (size_t t = 0; t <= pos; ++t) {
          double d = 0;
          for (int64_t i = 0; i < hd; ++i) d += q[h * hd + i] * keys[l][t][kv + i];
          scores[t] = d / std::sqrt(static_cast<double>(hd));
          max_score = std::max(max_score, scores[t]);
        }
        for (double& sc : scores) sum += (sc = std::exp(sc - max_score));
        for (size_t t = 0; t <= pos; ++t) {
          for (int64_t i = 0; i < hd; ++i) att[h * hd + i] += half(scores[t] / sum) * values[l][t][kv + i];
        }
      }
      const Vec o = matvec(W(p + "attn_output.weight"), att);
      for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
      xn = block_input("ffn_norm.weight");
      Vec g = matvec(W(p + "ffn_gate.weight"), xn);
      const Vec u = matvec(W(p + "ffn_up.weight"), xn);
      for (size_t i = 0; i < g.size(); ++i) g[i] = activate(s, g[i]) * u[i];
      const Vec d = matvec(W(p + "ffn_down.weight"), g);
      for (size_t i = 0; i < x.size(); ++i) x[i] += d[i];
    }
    const Vec out = rmsnorm(x, W("output_norm.weight"), s.rms_eps);
    all_logits.push_back(matvec(W(s.tied_output ? "token_embd.weight" : "output.weight"), out));
  }
  return all_logits;
}

}  // namespace sieve::test
