#pragma once
// Shared helpers for the tokenizer tests: the vocabularies in ../shared/vocab
// and small hand-made vocabularies.

#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace sieve::tokenizer::testing {

std::filesystem::path shared_vocab_dir();
// Loads ../shared/vocab/ggml-vocab-NAME.gguf; nullptr when the folder is missing.
const Tokenizer* shared_tokenizer(const std::string& name);
std::string read_file(const std::filesystem::path& path);
std::vector<std::string> split(const std::string& text, const std::string& separator);

}  // namespace sieve::tokenizer::testing

// Skips the current test when the shared test data is not present.
#define SIEVE_REQUIRE_SHARED_TOKENIZER(var, name)                                       \
  const ::sieve::tokenizer::Tokenizer* var = ::sieve::tokenizer::testing::shared_tokenizer(name); \
  if (var == nullptr) GTEST_SKIP() << "no " << name << " vocabulary under " << SIEVE_SHARED_DIR
