#pragma once
// Models the reference tests write themselves by adding RoPE scaling to a
// shared architecture file: the same bytes every time, so the reference's
// logits for them can be kept in tests/data/reference (how: README.md there).
//
//   write_longrope_phi3  ../shared/models/arch/phi3-q8_0.gguf plus LongRoPE:
//                        rope_factors_long / _short tensors (per-pair
//                        frequency divisors), `phi3.rope.scaling.attn_factor`
//                        and `phi3.rope.scaling.original_context_length`, as
//                        converters write Phi-3.5 and Phi-3-128k files
//   write_yarn_qwen3     ../shared/models/arch/qwen3.gguf with
//                        `rope.scaling.type` yarn, factor 4, original context 1024

#include <cstring>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "core/model/reference_case.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace sieve::test {

// Copies a shared architecture file with keys added (`add_keys`) and F32
// vectors appended as tensors.
inline void write_with_extras(const std::filesystem::path& source, const std::filesystem::path& out,
                              const std::function<void(gguf::GgufWriter&)>& add_keys,
                              const std::vector<std::pair<std::string, std::vector<float>>>& vectors = {}) {
  const gguf::GgufFile src = gguf::GgufFile::open(source);
  gguf::GgufWriter w(out);
  for (const gguf::KeyValue& kv : src.metadata()) w.set(kv.key, kv.value);
  add_keys(w);
  for (const gguf::TensorInfo& t : src.tensors()) w.add_tensor(t.name, t.type, t.dims);
  for (const auto& [name, values] : vectors) w.add_tensor(name, tensor::TensorType::F32, {values.size()});
  w.begin_data();
  for (size_t i = 0; i < src.tensors().size(); ++i) w.write_tensor_data(i, src.tensor_data(src.tensors()[i]));
  for (size_t v = 0; v < vectors.size(); ++v) {
    w.write_tensor_data(src.tensors().size() + v, std::as_bytes(std::span(vectors[v].second)));
  }
  w.finish();
}

// original_context below the engine's context selects the long factors.
inline void write_longrope_phi3(const std::filesystem::path& out, uint32_t original_context) {
  const std::filesystem::path source = shared_dir() / "models" / "arch" / "phi3-q8_0.gguf";
  const int64_t n_pairs = *gguf::GgufFile::open(source).get_int("phi3.rope.dimension_count") / 2;
  std::vector<float> long_factors(static_cast<size_t>(n_pairs)), short_factors(long_factors.size());
  for (size_t i = 0; i < long_factors.size(); ++i) {
    long_factors[i] = 1.0f + 2.5f * static_cast<float>(i * i) / static_cast<float>(n_pairs);  // slows the slow pairs most
    short_factors[i] = 1.0f + 0.05f * static_cast<float>(i);
  }
  write_with_extras(
      source, out,
      [&](gguf::GgufWriter& w) {
        w.set("phi3.rope.scaling.attn_factor", gguf::Value::f32(1.1902f));
        w.set("phi3.rope.scaling.original_context_length", gguf::Value::u32(original_context));
      },
      {{"rope_factors_long.weight", long_factors}, {"rope_factors_short.weight", short_factors}});
}

inline void write_yarn_qwen3(const std::filesystem::path& out) {
  write_with_extras(shared_dir() / "models" / "arch" / "qwen3.gguf", out, [](gguf::GgufWriter& w) {
    w.set("qwen3.rope.scaling.type", gguf::Value::string("yarn"));
    w.set("qwen3.rope.scaling.factor", gguf::Value::f32(4.0f));
    w.set("qwen3.rope.scaling.original_context_length", gguf::Value::u32(1024));
  });
}

}  // namespace sieve::test
