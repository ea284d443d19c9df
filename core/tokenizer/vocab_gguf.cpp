#include "tokenizer/vocab_gguf.h"

#include "util/error.h"

namespace sieve::tokenizer {
namespace {

std::string file_name(const gguf::GgufFile& file) { return file.path().filename().string(); }

VocabModel model_from_name(const gguf::GgufFile& file, const std::string& name) {
  if (name == "llama") return VocabModel::Spm;
  if (name == "gpt2") return VocabModel::Bpe;
  throw Error(file_name(file) + ": tokenizer.ggml.model is '" + name +
              "'; only 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) are supported");
}

}  // namespace

VocabSpec read_vocab_spec(const gguf::GgufFile& file) {
  VocabSpec spec;
  const std::optional<std::string> model = file.get_string("tokenizer.ggml.model");
  if (!model) throw Error(file_name(file) + ": no tokenizer (tokenizer.ggml.model is missing)");
  spec.model = model_from_name(file, *model);

  auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  if (!tokens || tokens->empty()) {
    throw Error(file_name(file) + ": tokenizer.ggml.tokens is missing or empty");
  }
  spec.tokens = std::move(*tokens);
  if (const auto scores = file.get_float_array("tokenizer.ggml.scores")) {
    spec.scores.assign(scores->begin(), scores->end());
  }
  if (const auto types = file.get_int_array("tokenizer.ggml.token_type")) {
    spec.token_types.reserve(types->size());
    for (const int64_t type : *types) {
      spec.token_types.push_back(type >= INT32_MIN && type <= INT32_MAX ? static_cast<int32_t>(type) : 0);
    }
  }
  if (spec.model == VocabModel::Bpe) {
    auto merges = file.get_string_array("tokenizer.ggml.merges");
    if (!merges) throw Error(file_name(file) + ": a gpt2 tokenizer needs tokenizer.ggml.merges");
    spec.merges = std::move(*merges);
  }
  spec.pre = file.get_string("tokenizer.ggml.pre").value_or("");
  spec.bos_id = file.get_int("tokenizer.ggml.bos_token_id");
  spec.eos_id = file.get_int("tokenizer.ggml.eos_token_id");
  spec.eot_id = file.get_int("tokenizer.ggml.eot_token_id");
  spec.eom_id = file.get_int("tokenizer.ggml.eom_token_id");
  spec.pad_id = file.get_int("tokenizer.ggml.padding_token_id");
  spec.unk_id = file.get_int("tokenizer.ggml.unknown_token_id");
  spec.add_bos = file.get_bool("tokenizer.ggml.add_bos_token");
  spec.add_eos = file.get_bool("tokenizer.ggml.add_eos_token");
  spec.add_space_prefix = file.get_bool("tokenizer.ggml.add_space_prefix");
  return spec;
}

Vocab load_vocab(const gguf::GgufFile& file) {
  try {
    return Vocab::build(read_vocab_spec(file));
  } catch (const Error& e) {
    const std::string message = e.what();
    // Vocab::build names no file; say which one.
    if (message.rfind("tokenizer:", 0) == 0) throw Error(file_name(file) + ": " + message);
    throw;
  }
}

std::optional<std::string> read_chat_template(const gguf::GgufFile& file) {
  return file.get_string("tokenizer.chat_template");
}

}  // namespace sieve::tokenizer
