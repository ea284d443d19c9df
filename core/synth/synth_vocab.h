#pragma once
// The tokenizer metadata a synthetic model carries.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "gguf/gguf_value.h"

namespace sieve::synth {

struct SynthVocab {
  std::vector<gguf::KeyValue> metadata;  // every tokenizer.* key, in file order
  uint64_t size = 0;                     // number of tokens
};

// A SentencePiece-style ("llama") vocabulary of <unk>, <s>, </s> and the 256
// byte tokens <0x00>..<0xFF>: 259 tokens, bos 1, eos 2, unk 0. Any UTF-8 text
// tokenizes through the byte fallback.
SynthVocab byte_fallback_vocab();

// Copies every `tokenizer.*` key of a GGUF file (a model or a vocab-only
// file). Throws sieve::Error when the file has no tokenizer.ggml.tokens array.
SynthVocab vocab_from_gguf(const std::filesystem::path& path);

}  // namespace sieve::synth
