#pragma once
// Writes llama2.c checkpoints and tokenizer files for tests, from the tiny
// random models of tests/core/model/tiny_model.h, following the formats as
// llama2.c's export.py writes them (independently of core/import).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/model/tiny_model.h"

namespace sieve::test {

// The raw bytes of a checkpoint of `version` 0, 1 or 2 holding `weights`
// (the classifier is separate unless spec.tied_output). Version 2 quantizes
// every matrix to int8 in groups of `group_size`, and replaces the values in
// `weights` by what the file really holds (q x scale) so that callers compare
// against those.
std::string llama2c_checkpoint_bytes(const TinySpec& spec, TinyWeights& weights, int version,
                                     int group_size = 8);

struct TokenizerEntry {
  std::string piece;
  float score = 0.0f;
};
// A tokenizer file: max_token_length (the longest piece unless given), then the entries.
std::string llama2c_tokenizer_bytes(const std::vector<TokenizerEntry>& entries, int32_t max_token_length = -1);
// n tokens as llama2.c exports a SentencePiece vocabulary: <unk>, "\n<s>\n",
// "\n</s>\n", byte tokens <0x00>.., then words with leading spaces.
std::vector<TokenizerEntry> tiny_vocab(int64_t n);

void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// Little-endian int32 / float32 appended to a byte string.
void put_i32(std::string& out, int32_t v);
void put_f32(std::string& out, float v);

}  // namespace sieve::test
