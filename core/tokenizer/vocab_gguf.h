#pragma once
// Reading a vocabulary and chat template from GGUF metadata (tokenizer.ggml.*,
// tokenizer.chat_template).

#include <optional>
#include <string>

#include "gguf/gguf_file.h"
#include "tokenizer/vocab.h"

namespace sieve::tokenizer {

// The tokenizer.ggml.* keys as a VocabSpec. Throws sieve::Error (naming the
// file) when the keys are missing, of the wrong type or inconsistent.
VocabSpec read_vocab_spec(const gguf::GgufFile& file);
// read_vocab_spec + Vocab::build.
Vocab load_vocab(const gguf::GgufFile& file);
// tokenizer.chat_template, when present.
std::optional<std::string> read_chat_template(const gguf::GgufFile& file);

}  // namespace sieve::tokenizer
