// Every GGUF file in ../shared parses, and what it declares is consistent.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "gguf/gguf_file.h"
#include "tensor/tensor_type.h"

namespace sieve::gguf {
namespace {

std::vector<std::filesystem::path> shared_gguf_files(const std::string& folder) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = std::filesystem::path(SIEVE_SHARED_DIR) / folder;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".gguf") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void check_consistent(const GgufFile& f) {
  EXPECT_TRUE(f.version() == 2 || f.version() == 3);
  EXPECT_FALSE(f.architecture().empty());
  EXPECT_EQ(f.file_size(), std::filesystem::file_size(f.path()));
  EXPECT_EQ(f.data_offset() % f.alignment(), 0u);
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.has_value());
  EXPECT_GT(tokens->size(), 100u);
  EXPECT_TRUE(f.get_string("tokenizer.ggml.model").has_value());
  for (const TensorInfo& t : f.tensors()) {
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.size_bytes, tensor::bytes_for(t.type, t.n_elements));
    EXPECT_EQ(f.tensor_data(t).size(), t.size_bytes);
    EXPECT_LE(f.tensor_file_offset(t) + t.size_bytes, f.file_size());
    EXPECT_EQ(f.find_tensor(t.name), &t);
  }
}

TEST(GgufSharedFiles, EveryModelParses) {
  const auto files = shared_gguf_files("models");
  if (files.empty()) GTEST_SKIP() << "no " << SIEVE_SHARED_DIR << "/models folder";
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    const GgufFile f = GgufFile::open(path);
    check_consistent(f);
    EXPECT_EQ(f.architecture(), "llama");
    EXPECT_FALSE(f.tensors().empty());
    const auto blocks = f.get_int("llama.block_count");
    ASSERT_TRUE(blocks.has_value());
    EXPECT_NE(f.find_tensor("blk." + std::to_string(*blocks - 1) + ".ffn_down.weight"), nullptr);
    EXPECT_NE(f.find_tensor("token_embd.weight"), nullptr);
  }
}

TEST(GgufSharedFiles, EveryVocabParses) {
  const auto files = shared_gguf_files("vocab");
  if (files.empty()) GTEST_SKIP() << "no " << SIEVE_SHARED_DIR << "/vocab folder";
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    const GgufFile f = GgufFile::open(path);
    check_consistent(f);
    EXPECT_TRUE(f.tensors().empty());
  }
}

TEST(GgufSharedFiles, KnownFactsOfStories260K) {
  const std::filesystem::path path = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const GgufFile f = GgufFile::open(path);
  // From shared/README.md: dim 64, 5 layers, n_ff 172, 8 heads / 4 KV heads, vocab 512, F32.
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens")->size(), 512u);
  const TensorInfo* embd = f.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, tensor::TensorType::F32);
  EXPECT_EQ(embd->dims, (std::vector<uint64_t>{64, 512}));
}

TEST(GgufSharedFiles, QuantizedMixHoldsTheExpectedTypes) {
  const std::filesystem::path path = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "synthA-q4_k_m.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const GgufFile f = GgufFile::open(path);
  bool has_q4k = false, has_q6k = false;
  for (const TensorInfo& t : f.tensors()) {
    has_q4k |= t.type == tensor::TensorType::Q4_K;
    has_q6k |= t.type == tensor::TensorType::Q6_K;
  }
  EXPECT_TRUE(has_q4k);
  EXPECT_TRUE(has_q6k);
}

}  // namespace
}  // namespace sieve::gguf
