#include "core/import/llama2c_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace sieve::test {
namespace {

void put_floats(std::string& out, const std::vector<float>& values) {
  for (float v : values) put_f32(out, v);
}

std::string layer_name(int64_t layer, const char* suffix) {
  return "blk." + std::to_string(layer) + "." + suffix;
}

// Symmetric int8 in groups, as export.py's quantize_q80: scale = max|w| / 127.
// Writes q then the scales, and leaves q x scale in `values`.
void put_int8_groups(std::string& out, std::vector<float>& values, int group_size) {
  std::string q_bytes;
  std::vector<float> scales;
  for (size_t start = 0; start < values.size(); start += static_cast<size_t>(group_size)) {
    const size_t end = std::min(values.size(), start + static_cast<size_t>(group_size));
    float max_abs = 0;
    for (size_t i = start; i < end; ++i) max_abs = std::max(max_abs, std::fabs(values[i]));
    const float scale = max_abs / 127.0f;
    for (size_t i = start; i < end; ++i) {
      const auto q = static_cast<int8_t>(scale > 0 ? std::clamp(std::round(values[i] / scale), -127.0f, 127.0f) : 0.0f);
      q_bytes.push_back(static_cast<char>(q));
      values[i] = static_cast<float>(q) * scale;
    }
    scales.push_back(scale);
  }
  out += q_bytes;
  put_floats(out, scales);
}

void put_header_v1v2(std::string& out, const TinySpec& s, int version, int group_size) {
  put_i32(out, 0x616b3432);
  put_i32(out, version);
  for (int64_t v : {s.dim, s.n_ff, s.n_layers, s.n_heads, s.n_kv_heads, s.n_vocab, s.context}) {
    put_i32(out, static_cast<int32_t>(v));
  }
  out.push_back(s.tied_output ? 1 : 0);
  if (version == 2) put_i32(out, group_size);
  out.resize(256, '\0');
}

std::string legacy_bytes(const TinySpec& s, const TinyWeights& w) {
  std::string out;
  const int64_t vocab = s.tied_output ? s.n_vocab : -s.n_vocab;
  for (int64_t v : {s.dim, s.n_ff, s.n_layers, s.n_heads, s.n_kv_heads, vocab, s.context}) {
    put_i32(out, static_cast<int32_t>(v));
  }
  put_floats(out, w.at("token_embd.weight").values);
  for (const char* name : {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                           "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_down.weight",
                           "ffn_up.weight"}) {
    for (int64_t l = 0; l < s.n_layers; ++l) put_floats(out, w.at(layer_name(l, name)).values);
  }
  put_floats(out, w.at("output_norm.weight").values);
  // freq_cis_real and freq_cis_imag: seq_len x head_size / 2 each, unused.
  const size_t rope_table = static_cast<size_t>(s.context * s.head_dim() / 2);
  put_floats(out, std::vector<float>(2 * rope_table, 0.5f));
  if (!s.tied_output) put_floats(out, w.at("output.weight").values);
  return out;
}

std::string versioned_bytes(const TinySpec& s, TinyWeights& w, int version, int group_size) {
  std::string out;
  put_header_v1v2(out, s, version, group_size);
  for (const char* name : {"attn_norm.weight", "ffn_norm.weight"}) {
    for (int64_t l = 0; l < s.n_layers; ++l) put_floats(out, w.at(layer_name(l, name)).values);
  }
  put_floats(out, w.at("output_norm.weight").values);
  const auto put_matrix = [&](std::vector<float>& values) {
    if (version == 2) {
      put_int8_groups(out, values, group_size);
    } else {
      put_floats(out, values);
    }
  };
  put_matrix(w.at("token_embd.weight").values);
  for (const char* name : {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                           "ffn_gate.weight", "ffn_down.weight", "ffn_up.weight"}) {
    for (int64_t l = 0; l < s.n_layers; ++l) put_matrix(w.at(layer_name(l, name)).values);
  }
  if (!s.tied_output) put_matrix(w.at("output.weight").values);
  return out;
}

}  // namespace

void put_i32(std::string& out, int32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}

void put_f32(std::string& out, float v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}

std::string llama2c_checkpoint_bytes(const TinySpec& spec, TinyWeights& weights, int version, int group_size) {
  return version == 0 ? legacy_bytes(spec, weights) : versioned_bytes(spec, weights, version, group_size);
}

std::string llama2c_tokenizer_bytes(const std::vector<TokenizerEntry>& entries, int32_t max_token_length) {
  int32_t longest = 0;
  for (const TokenizerEntry& e : entries) longest = std::max(longest, static_cast<int32_t>(e.piece.size()));
  std::string out;
  put_i32(out, max_token_length >= 0 ? max_token_length : longest);
  for (const TokenizerEntry& e : entries) {
    put_f32(out, e.score);
    put_i32(out, static_cast<int32_t>(e.piece.size()));
    out += e.piece;
  }
  return out;
}

std::vector<TokenizerEntry> tiny_vocab(int64_t n) {
  std::vector<TokenizerEntry> v = {{"<unk>", 0}, {"\n<s>\n", 0}, {"\n</s>\n", 0}};
  for (int byte : {0x0A, 0x20, 0x41, 0xE2, 0x96, 0x81}) {
    char text[8];
    std::snprintf(text, sizeof text, "<0x%02X>", byte);
    v.push_back({text, 0});
  }
  // Ordered by score, with the pieces SentencePiece merges " the" and " cat" from.
  const char* words[] = {" t", "he", " the", " c", "at", " cat", " a", "s", " sat", " on", " m", " mat",
                         "e",  "t",  "c",    "m",  "o",  "n",    "a", "h"};
  for (size_t i = 0; static_cast<int64_t>(v.size()) < n; ++i) {
    const std::string word = i < std::size(words) ? words[i] : " w" + std::to_string(i);
    v.push_back({word, -static_cast<float>(i)});
  }
  v.resize(static_cast<size_t>(n));
  return v;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace sieve::test
