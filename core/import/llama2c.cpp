// llama2.c checkpoint + tokenizer -> llama GGUF, streaming the weights.

#include "import/llama2c.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string_view>

#include "gguf/gguf_writer.h"
#include "gguf/mapped_file.h"
#include "import/llama2c_layout.h"
#include "import/llama2c_vocab.h"
#include "util/error.h"

namespace sieve::importer {
namespace {

// Values converted per write: big enough for disk speed, small enough that
// memory use does not depend on the model.
constexpr uint64_t kChunkValues = uint64_t{1} << 16;

constexpr double kRopeBase = 10000.0;  // llama2.c's RoPE
constexpr float kRmsEps = 1e-5f;       // llama2.c's rmsnorm epsilon
constexpr uint32_t kFileTypeAllF32 = 0;

// Reads tensors out of the mapped checkpoint as floats.
class TensorDecoder {
 public:
  TensorDecoder(std::span<const std::byte> file, int64_t group_size, const std::string& where)
      : file_(file), group_size_(static_cast<uint64_t>(std::max<int64_t>(group_size, 1))), where_(where) {}

  // Values [first, first + n) of `t` into `out`; throws sieve::Error for a
  // value that is not finite (a corrupt file, or one of another format).
  void decode(const SourceTensor& t, uint64_t first, uint64_t n, float* out) const {
    const std::byte* base = file_.data() + t.offset;
    if (t.encoding == SourceEncoding::F32) {
      std::memcpy(out, base + first * 4, n * 4);
    } else {
      decode_int8(base, t.count(), first, n, out);
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (!std::isfinite(out[i])) {
        throw Error(where_ + ": value " + std::to_string(first + i) + " of tensor '" + t.name +
                    "' is not a finite number.");
      }
    }
  }

 private:
  // int8 values followed by one float scale per group: value = q * scale.
  void decode_int8(const std::byte* base, uint64_t count, uint64_t first, uint64_t n, float* out) const {
    const auto* q = reinterpret_cast<const int8_t*>(base);
    const std::byte* scales = base + count;
    const uint64_t end = first + n;
    for (uint64_t i = first; i < end;) {
      const uint64_t group = i / group_size_;
      const uint64_t group_end = std::min(end, (group + 1) * group_size_);
      float scale = 0;
      std::memcpy(&scale, scales + group * 4, 4);
      for (; i < group_end; ++i) out[i - first] = static_cast<float>(q[i]) * scale;
    }
  }

  std::span<const std::byte> file_;
  uint64_t group_size_;
  const std::string& where_;
};

void check_activation(const Llama2cActivation& a) {
  constexpr std::array<std::string_view, 4> kNames = {"silu", "relu", "fatrelu", "shifted_relu"};
  if (std::find(kNames.begin(), kNames.end(), a.ffn) == kNames.end()) {
    throw Error("the feed-forward activation '" + a.ffn + "' is not one of silu, relu, fatrelu, shifted_relu.");
  }
  const bool finite = std::isfinite(a.ffn_relu_shift) && std::isfinite(a.ffn_relu_threshold) &&
                      (!a.norm_relu_shift || std::isfinite(*a.norm_relu_shift));
  if (!finite) throw Error("the activation shift and threshold must be finite numbers.");
}

void check_paths(const Llama2cImportOptions& o) {
  std::error_code ignored;
  const auto out = std::filesystem::weakly_canonical(o.output_path, ignored);
  for (const auto& input : {o.model_path, o.tokenizer_path}) {
    if (std::filesystem::weakly_canonical(input, ignored) == out) {
      throw Error(o.output_path.string() + ": the output would overwrite an input file.");
    }
  }
}

void set_model_metadata(gguf::GgufWriter& w, const Llama2cConfig& c, const Llama2cImportOptions& o) {
  using gguf::Value;
  const auto u32 = [](int64_t v) { return Value::u32(static_cast<uint32_t>(v)); };
  w.set("general.architecture", Value::string("llama"));
  w.set("general.name", Value::string(o.name.empty() ? o.model_path.stem().string() : o.name));
  w.set("general.file_type", Value::u32(kFileTypeAllF32));
  w.set("llama.vocab_size", u32(c.vocab_size));
  w.set("llama.context_length", u32(c.seq_len));
  w.set("llama.embedding_length", u32(c.dim));
  w.set("llama.block_count", u32(c.n_layers));
  w.set("llama.feed_forward_length", u32(c.hidden_dim));
  w.set("llama.attention.head_count", u32(c.n_heads));
  w.set("llama.attention.head_count_kv", u32(c.n_kv_heads));
  w.set("llama.rope.dimension_count", u32(c.head_size()));
  w.set("llama.rope.freq_base", Value::f32(static_cast<float>(kRopeBase)));
  w.set("llama.attention.layer_norm_rms_epsilon", Value::f32(kRmsEps));
  w.set("sieve.import.llama2c_version", Value::i32(c.version));
}

void set_activation_metadata(gguf::GgufWriter& w, const Llama2cActivation& a) {
  using gguf::Value;
  w.set("sieve.ffn.activation", Value::string(a.ffn));
  if (a.ffn == "shifted_relu") w.set("sieve.ffn.relu_shift", Value::f32(a.ffn_relu_shift));
  if (a.ffn == "fatrelu") w.set("sieve.ffn.relu_threshold", Value::f32(a.ffn_relu_threshold));
  if (a.norm_relu_shift) {
    w.set("sieve.norm.relu", Value::boolean(true));
    w.set("sieve.norm.relu_shift", Value::f32(*a.norm_relu_shift));
  }
}

uint64_t write_tensors(gguf::GgufWriter& writer, const CheckpointLayout& layout, const TensorDecoder& decoder) {
  std::vector<float> chunk(kChunkValues);
  uint64_t bytes = 0;
  for (size_t index = 0; index < layout.tensors.size(); ++index) {
    const SourceTensor& t = layout.tensors[index];
    const uint64_t count = t.count();
    for (uint64_t first = 0; first < count; first += kChunkValues) {
      const uint64_t n = std::min(kChunkValues, count - first);
      decoder.decode(t, first, n, chunk.data());
      writer.write_tensor_data(index, {reinterpret_cast<const std::byte*>(chunk.data()), n * sizeof(float)});
    }
    bytes += count * sizeof(float);
  }
  return bytes;
}

}  // namespace

Llama2cImportResult import_llama2c(const Llama2cImportOptions& options) {
  check_activation(options.activation);
  check_paths(options);
  const gguf::MappedFile checkpoint(options.model_path);
  const std::string where = options.model_path.filename().string();
  const CheckpointLayout layout = read_checkpoint_layout(checkpoint.bytes(), where);
  const Llama2cVocab vocab = read_llama2c_vocab(options.tokenizer_path, layout.config.vocab_size);

  gguf::GgufWriter writer(options.output_path);
  set_model_metadata(writer, layout.config, options);
  set_activation_metadata(writer, options.activation);
  for (gguf::KeyValue& kv : vocab_metadata(vocab)) writer.set(kv.key, std::move(kv.value));
  for (const SourceTensor& t : layout.tensors) writer.add_tensor(t.name, tensor::TensorType::F32, t.dims);
  writer.begin_data();
  const TensorDecoder decoder(checkpoint.bytes(), layout.config.group_size, where);

  Llama2cImportResult result;
  result.config = layout.config;
  result.tensor_count = layout.tensors.size();
  result.weight_bytes = write_tensors(writer, layout, decoder);
  writer.finish();
  return result;
}

}  // namespace sieve::importer
