#include "tokenizer_test_util.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "gguf/gguf_file.h"
#include "tokenizer/vocab_gguf.h"

namespace sieve::tokenizer::testing {

std::filesystem::path shared_vocab_dir() { return std::filesystem::path(SIEVE_SHARED_DIR) / "vocab"; }

const Tokenizer* shared_tokenizer(const std::string& name) {
  // Loaded once per test binary: the 100k-token vocabularies take a moment.
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  const auto path = shared_vocab_dir() / ("ggml-vocab-" + name + ".gguf");
  if (!std::filesystem::exists(path)) return nullptr;
  auto tokenizer = std::make_unique<Tokenizer>(load_vocab(gguf::GgufFile::open(path)));
  return cache.emplace(name, std::move(tokenizer)).first->second.get();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> split(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t at = text.find(separator); at != std::string::npos; at = text.find(separator, from)) {
    parts.push_back(text.substr(from, at - from));
    from = at + separator.size();
  }
  parts.push_back(text.substr(from));
  return parts;
}

}  // namespace sieve::tokenizer::testing
