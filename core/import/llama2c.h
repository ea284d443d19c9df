#pragma once
// Importing llama2.c checkpoints (the run.c / runq.c formats) into a llama
// GGUF that Sieve runs like any other model.
//
//   importer::Llama2cImportOptions o;
//   o.model_path = "stories15M.bin";
//   o.tokenizer_path = "tokenizer.bin";
//   o.output_path = "stories15M.gguf";
//   importer::import_llama2c(o);
//
// Checkpoint formats (all little-endian):
//   version 0  the original run.c file: 7 int32 config values (a negative
//              vocab_size means the classifier is stored after the other
//              weights), then float32 weights in run.c's order, including the
//              RoPE tables run.c skips;
//   version 1  uint32 magic "ak42", int32 version, the 7 config values, uint8
//              shared_classifier, zero padding to byte 256, float32 weights;
//   version 2  the same header plus int32 group_size; float32 norms, then every
//              matrix as int8 values followed by one float32 scale per group.
// The tokenizer file: int32 max_token_length, then per token float32 score,
// int32 length and the bytes.
//
// The GGUF stores every weight as F32 (an int8 value times its scale is exact
// in float), a SentencePiece ("llama") vocabulary with BOS 1, EOS 2 and
// unknown 0, and Sieve's activation keys (docs/inference.md). A checkpoint
// does not record which activation it was trained with: the caller says so
// in Llama2cActivation. Every header field and length is validated against
// the file size before anything is read; problems raise sieve::Error naming
// the file and the field.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sieve::importer {

struct Llama2cConfig {
  int version = 0;  // 0, 1 or 2
  int64_t dim = 0;
  int64_t hidden_dim = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t vocab_size = 0;
  int64_t seq_len = 0;
  bool shared_classifier = true;  // the output matrix is the token embedding
  int64_t group_size = 0;         // version 2: values per int8 scale

  int64_t head_size() const { return dim / n_heads; }
  int64_t kv_dim() const { return n_kv_heads * head_size(); }
};

// Reads and validates a checkpoint's header and checks that the file is
// exactly as long as the weights it describes. Throws sieve::Error.
Llama2cConfig read_llama2c_config(const std::filesystem::path& path);

struct Llama2cVocab {
  int32_t max_token_length = 0;
  std::vector<std::string> pieces;  // bytes as stored (" " for SentencePiece's "▁")
  std::vector<float> scores;
};

// Reads a tokenizer file that must hold exactly `n_tokens` tokens (the
// checkpoint's vocab_size). Throws sieve::Error.
Llama2cVocab read_llama2c_vocab(const std::filesystem::path& path, int64_t n_tokens);

// The feed-forward variant the checkpoint was trained with.
struct Llama2cActivation {
  std::string ffn = "silu";         // sieve.ffn.activation: silu, relu, fatrelu or shifted_relu
  float ffn_relu_shift = 0.0f;      // shifted_relu: max(g - shift, 0)
  float ffn_relu_threshold = 0.0f;  // fatrelu: g > threshold ? g : 0
  // Set: the normalised inputs of attention and of the feed-forward block
  // become max(x - shift, 0) (sieve.norm.relu).
  std::optional<float> norm_relu_shift;
};

struct Llama2cImportOptions {
  std::filesystem::path model_path;
  std::filesystem::path tokenizer_path;
  std::filesystem::path output_path;
  std::string name;  // general.name; empty: the model file's stem
  Llama2cActivation activation;
};

struct Llama2cImportResult {
  Llama2cConfig config;
  size_t tensor_count = 0;
  uint64_t weight_bytes = 0;  // F32 tensor bytes written
};

// Converts the checkpoint and tokenizer into a GGUF at output_path (written
// to "<output>.partial" and renamed when complete). Weights are streamed: the
// memory used does not grow with the model. Throws sieve::Error, also for a
// weight that is not a finite number.
Llama2cImportResult import_llama2c(const Llama2cImportOptions& options);

}  // namespace sieve::importer
