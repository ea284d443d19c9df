#include "synth/synth_vocab.h"

#include <cstdio>
#include <string>
#include <string_view>

#include "gguf/gguf_file.h"
#include "util/error.h"

namespace sieve::synth {
namespace {

// llama.cpp's token attribute numbers (llama_token_type; 1 = normal, of which
// this vocabulary has none).
constexpr int64_t kTokenUnknown = 2, kTokenControl = 3, kTokenByte = 6;

std::string byte_token(int byte) {
  char text[8];
  std::snprintf(text, sizeof text, "<0x%02X>", byte);
  return text;
}

}  // namespace

SynthVocab byte_fallback_vocab() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> types = {kTokenUnknown, kTokenControl, kTokenControl};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(byte_token(b));
    types.push_back(kTokenByte);
  }
  const size_t n = tokens.size();

  SynthVocab vocab;
  vocab.size = n;
  auto add = [&](const char* key, gguf::Value value) {
    vocab.metadata.push_back({key, std::move(value)});
  };
  add("tokenizer.ggml.model", gguf::Value::string("llama"));
  add("tokenizer.ggml.pre", gguf::Value::string("default"));
  add("tokenizer.ggml.tokens", gguf::Value::string_array(std::move(tokens)));
  add("tokenizer.ggml.scores", gguf::Value::f32_array(std::vector<double>(n, 0.0)));
  add("tokenizer.ggml.token_type", gguf::Value::i32_array(std::move(types)));
  add("tokenizer.ggml.bos_token_id", gguf::Value::u32(1));
  add("tokenizer.ggml.eos_token_id", gguf::Value::u32(2));
  add("tokenizer.ggml.unknown_token_id", gguf::Value::u32(0));
  add("tokenizer.ggml.add_bos_token", gguf::Value::boolean(true));
  add("tokenizer.ggml.add_eos_token", gguf::Value::boolean(false));
  return vocab;
}

SynthVocab vocab_from_gguf(const std::filesystem::path& path) {
  const gguf::GgufFile file = gguf::GgufFile::open(path);
  SynthVocab vocab;
  for (const gguf::KeyValue& kv : file.metadata()) {
    if (std::string_view(kv.key).starts_with("tokenizer.")) vocab.metadata.push_back(kv);
  }
  const gguf::Value* tokens = file.find("tokenizer.ggml.tokens");
  const gguf::Array* array = tokens != nullptr ? tokens->as_array() : nullptr;
  if (array == nullptr || array->element_type != gguf::ValueType::STRING || array->size() == 0) {
    throw Error(path.string() + ": no tokenizer.ggml.tokens string array to copy the vocabulary from");
  }
  vocab.size = array->size();
  return vocab;
}

}  // namespace sieve::synth
