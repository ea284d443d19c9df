// llama2.c's tokenizer file and its conversion to GGUF tokenizer metadata.

#include <cctype>
#include <cmath>
#include <cstring>
#include <string_view>

#include "gguf/mapped_file.h"
#include "import/llama2c_vocab.h"
#include "util/error.h"

namespace sieve::importer {
namespace {

// llama2.c's own tokens are a few bytes long; this only rejects nonsense.
constexpr int32_t kMaxTokenLength = 1 << 16;

// tokenizer.ggml.token_type values (tokenizer/vocab.h).
constexpr int64_t kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6;
constexpr int64_t kUnknownId = 0, kBosId = 1, kEosId = 2;

class VocabReader {
 public:
  VocabReader(std::span<const std::byte> bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}

  // `n` bytes at the cursor; `what` says what was expected when they are missing.
  std::span<const std::byte> take(uint64_t n, const std::string& what) {
    if (n > bytes_.size() - position_) {
      throw Error(where_ + ": the tokenizer file ends inside " + what + " (at byte " + std::to_string(position_) +
                  " of " + std::to_string(bytes_.size()) + ").");
    }
    const std::span<const std::byte> out = bytes_.subspan(position_, n);
    position_ += n;
    return out;
  }

  int32_t i32(const std::string& what) {
    int32_t v = 0;
    std::memcpy(&v, take(4, what).data(), 4);
    return v;
  }

  float f32(const std::string& what) {
    float v = 0;
    std::memcpy(&v, take(4, what).data(), 4);
    return v;
  }

  uint64_t remaining() const { return bytes_.size() - position_; }
  const std::string& where() const { return where_; }

 private:
  std::span<const std::byte> bytes_;
  uint64_t position_ = 0;
  std::string where_;
};

bool is_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || !piece.starts_with("<0x") || piece.back() != '>') return false;
  for (char c : piece.substr(3, 2)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// SentencePiece writes word boundaries as "▁" (U+2581); llama2.c's export
// turned them into spaces.
std::string with_sentencepiece_spaces(std::string_view piece) {
  std::string out;
  for (char c : piece) {
    if (c == ' ') {
      out += "\xE2\x96\x81";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Llama2cVocab read_llama2c_vocab(const std::filesystem::path& path, int64_t n_tokens) {
  const gguf::MappedFile file(path);
  VocabReader in(file.bytes(), path.filename().string());
  Llama2cVocab vocab;
  vocab.max_token_length = in.i32("the header (max_token_length)");
  if (vocab.max_token_length < 1 || vocab.max_token_length > kMaxTokenLength) {
    throw Error(in.where() + ": the tokenizer's max_token_length is " + std::to_string(vocab.max_token_length) +
                ", expected 1 to " + std::to_string(kMaxTokenLength) + ".");
  }
  // Each token takes at least 8 bytes: a count beyond that cannot be right,
  // and must not size the vectors below.
  if (n_tokens < 1 || static_cast<uint64_t>(n_tokens) > in.remaining() / 8) {
    throw Error(in.where() + ": the tokenizer file is too short for the model's " + std::to_string(n_tokens) +
                " tokens.");
  }
  vocab.pieces.reserve(static_cast<size_t>(n_tokens));
  vocab.scores.reserve(static_cast<size_t>(n_tokens));
  for (int64_t id = 0; id < n_tokens; ++id) {
    const std::string token = "token " + std::to_string(id);
    const float score = in.f32(token);
    const int32_t length = in.i32(token);
    if (!std::isfinite(score)) throw Error(in.where() + ": the score of " + token + " is not a finite number.");
    if (length < 0 || length > vocab.max_token_length) {
      throw Error(in.where() + ": " + token + " has length " + std::to_string(length) + ", expected 0 to " +
                  std::to_string(vocab.max_token_length) + " (max_token_length).");
    }
    const std::span<const std::byte> text = in.take(static_cast<uint64_t>(length), token);
    vocab.pieces.emplace_back(reinterpret_cast<const char*>(text.data()), text.size());
    vocab.scores.push_back(score);
  }
  if (in.remaining() != 0) {
    throw Error(in.where() + ": " + std::to_string(in.remaining()) + " bytes follow the last of the model's " +
                std::to_string(n_tokens) + " tokens; is this the tokenizer of this model?");
  }
  return vocab;
}

std::vector<gguf::KeyValue> vocab_metadata(const Llama2cVocab& vocab) {
  const size_t n = vocab.pieces.size();
  if (static_cast<int64_t>(n) <= kEosId) throw Error("a llama2.c vocabulary needs at least <unk>, <s> and </s>.");
  std::vector<std::string> tokens(n);
  std::vector<int64_t> types(n, kNormal);
  std::vector<double> scores(vocab.scores.begin(), vocab.scores.end());
  for (size_t id = 0; id < n; ++id) {
    const std::string& piece = vocab.pieces[id];
    if (piece == "\n<s>\n" || piece == "\n</s>\n") {
      tokens[id] = piece.substr(1, piece.size() - 2);
      types[id] = kControl;
    } else if (is_byte_piece(piece)) {
      tokens[id] = piece;
      types[id] = kByte;
    } else {
      tokens[id] = with_sentencepiece_spaces(piece);
      // An empty piece can never be matched; as a control token it is left alone.
      if (piece.empty()) types[id] = kControl;
    }
  }
  types[kUnknownId] = kUnknown;
  types[kBosId] = kControl;
  types[kEosId] = kControl;

  using gguf::Value;
  return {
      {"tokenizer.ggml.model", Value::string("llama")},
      {"tokenizer.ggml.pre", Value::string("default")},
      {"tokenizer.ggml.tokens", Value::string_array(std::move(tokens))},
      {"tokenizer.ggml.scores", Value::f32_array(std::move(scores))},
      {"tokenizer.ggml.token_type", Value::i32_array(std::move(types))},
      {"tokenizer.ggml.bos_token_id", Value::u32(kBosId)},
      {"tokenizer.ggml.eos_token_id", Value::u32(kEosId)},
      {"tokenizer.ggml.unknown_token_id", Value::u32(kUnknownId)},
      {"tokenizer.ggml.add_bos_token", Value::boolean(true)},
      {"tokenizer.ggml.add_eos_token", Value::boolean(false)},
      {"tokenizer.ggml.add_space_prefix", Value::boolean(true)},
  };
}

}  // namespace sieve::importer
