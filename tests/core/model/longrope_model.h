#pragma once
// A Phi-3 model with LongRoPE, written by the tests themselves: the shared
// ../shared/models/arch/phi3-q8_0.gguf plus rope_factors_long / _short
// tensors (per-pair frequency divisors), `phi3.rope.scaling.attn_factor` and
// `phi3.rope.scaling.original_context_length`, as converters write Phi-3.5
// and Phi-3-128k files. The same bytes every time, so the reference's logits
// for it can be kept in tests/data/reference (how: README.md there).

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/model/reference_case.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace sieve::test {

// original_context below the engine's context selects the long factors.
inline void write_longrope_phi3(const std::filesystem::path& out, uint32_t original_context) {
  const gguf::GgufFile src = gguf::GgufFile::open(shared_dir() / "models" / "arch" / "phi3-q8_0.gguf");
  gguf::GgufWriter w(out);
  for (const gguf::KeyValue& kv : src.metadata()) w.set(kv.key, kv.value);
  w.set("phi3.rope.scaling.attn_factor", gguf::Value::f32(1.1902f));
  w.set("phi3.rope.scaling.original_context_length", gguf::Value::u32(original_context));
  for (const gguf::TensorInfo& t : src.tensors()) w.add_tensor(t.name, t.type, t.dims);
  const int64_t n_pairs = *src.get_int("phi3.rope.dimension_count") / 2;
  std::vector<float> long_factors(static_cast<size_t>(n_pairs)), short_factors(long_factors.size());
  for (size_t i = 0; i < long_factors.size(); ++i) {
    long_factors[i] = 1.0f + 2.5f * static_cast<float>(i * i) / static_cast<float>(n_pairs);  // slows the slow pairs most
    short_factors[i] = 1.0f + 0.05f * static_cast<float>(i);
  }
  const size_t first_factor = w.add_tensor("rope_factors_long.weight", tensor::TensorType::F32, {static_cast<uint64_t>(n_pairs)});
  w.add_tensor("rope_factors_short.weight", tensor::TensorType::F32, {static_cast<uint64_t>(n_pairs)});
  w.begin_data();
  for (size_t i = 0; i < src.tensors().size(); ++i) w.write_tensor_data(i, src.tensor_data(src.tensors()[i]));
  for (const std::vector<float>* factors : {&long_factors, &short_factors}) {
    w.write_tensor_data(first_factor + (factors == &long_factors ? 0 : 1), std::as_bytes(std::span(*factors)));
  }
  w.finish();
}

}  // namespace sieve::test
