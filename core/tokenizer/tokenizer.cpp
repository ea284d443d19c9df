#include "tokenizer/tokenizer.h"

#include <cstdint>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/spm_tokenizer.h"
#include "util/error.h"

namespace sieve::tokenizer {
namespace {

constexpr size_t kMaxTextBytes = (size_t{1} << 31) - 16;  // offsets stay within int32 (+ prefix)

void replace_space_markers(std::string& out, std::string_view text) {
  static constexpr std::string_view kMarker = "\xE2\x96\x81";
  for (size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, kMarker.size(), kMarker) == 0) {
      out += ' ';
      pos += kMarker.size();
    } else {
      out += text[pos++];
    }
  }
}

// "<0x0A>" -> 0x0A; -1 when the text is not of that form.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = text[i];
    const int digit = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                               : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

std::vector<TokenId> Tokenizer::tokenize(std::string_view text, const TokenizeOptions& options) const {
  std::vector<TokenId> out;
  tokenize(text, options, out);
  return out;
}

void Tokenizer::tokenize(std::string_view text, const TokenizeOptions& options,
                         std::vector<TokenId>& out) const {
  if (text.size() > kMaxTextBytes) {
    throw Error("tokenizer: the text is " + std::to_string(text.size()) +
                " bytes; texts of 2 GiB or more are not supported");
  }
  if (options.add_bos && vocab_.bos() != kNoToken) out.push_back(vocab_.bos());
  // SentencePiece: text that starts the input or follows a special token gets
  // the leading space of the add_space_prefix convention.
  bool after_special = true;
  for (const Fragment& fragment : partition_special_tokens(vocab_, text, options.parse_special)) {
    if (fragment.is_text()) {
      tokenize_text(text.substr(fragment.begin, fragment.end - fragment.begin), after_special, out);
      after_special = false;
    } else {
      out.push_back(fragment.token);
      after_special = true;
    }
  }
  if (options.add_eos && vocab_.eos() != kNoToken) out.push_back(vocab_.eos());
}

void Tokenizer::tokenize_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const {
  if (vocab_.model() == VocabModel::Bpe) {
    bpe_tokenize(vocab_, text, out);
    return;
  }
  std::string escaped;
  escaped.reserve(text.size() + text.size() / 2 + 3);
  if (vocab_.add_space_prefix() && after_special) append_spm_escaped(escaped, " ");
  append_spm_escaped(escaped, text);
  spm_tokenize(vocab_, escaped, out);
}

std::string Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (!vocab_.contains(id)) {
    throw Error("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary (" +
                std::to_string(vocab_.size()) + " tokens)");
  }
  const std::string& text = vocab_.text(id);
  std::string piece;
  switch (vocab_.type(id)) {
    case TokenType::Control:
    case TokenType::Unknown:
      if (render_special) piece = text;
      break;
    case TokenType::UserDefined:
      piece = text;
      break;
    case TokenType::Normal:
      if (vocab_.model() == VocabModel::Spm) {
        replace_space_markers(piece, text);
      } else {
        append_raw_bytes(piece, text);
      }
      break;
    case TokenType::Byte:
      if (vocab_.model() == VocabModel::Spm) {
        if (const int byte = parse_byte_token(text); byte >= 0) piece = static_cast<char>(byte);
      }
      break;
    case TokenType::Undefined:
    case TokenType::Unused:
      break;  // never text, as in the reference
  }
  return piece;
}

std::string Tokenizer::detokenize(std::span<const TokenId> ids, const DetokenizeOptions& options) const {
  std::string text;
  bool strip_space = options.at_text_start && vocab_.add_space_prefix();
  for (const TokenId id : ids) {
    std::string piece = token_to_piece(id, options.render_special);
    if (piece.empty()) continue;
    if (strip_space && piece.front() == ' ') piece.erase(0, 1);
    strip_space = false;
    text += piece;
  }
  return text;
}

}  // namespace sieve::tokenizer
