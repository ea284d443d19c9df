#include "tokenizer/detokenizer.h"

#include "tokenizer/unicode.h"

namespace sieve::tokenizer {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, DetokenizeOptions options)
    : tokenizer_(tokenizer), options_(options) {
  reset();
}

void StreamingDetokenizer::reset() {
  pending_.clear();
  strip_space_ = options_.at_text_start && tokenizer_.vocab().add_space_prefix();
}

std::string StreamingDetokenizer::push(TokenId id) {
  std::string piece = tokenizer_.token_to_piece(id, options_.render_special);
  if (piece.empty()) return {};
  if (strip_space_ && pending_.empty() && piece.front() == ' ') piece.erase(0, 1);
  strip_space_ = false;
  pending_ += piece;
  const size_t held = incomplete_utf8_tail(pending_);
  std::string ready = sanitize_utf8(std::string_view(pending_).substr(0, pending_.size() - held));
  pending_.erase(0, pending_.size() - held);
  return ready;
}

std::string StreamingDetokenizer::finish() {
  std::string rest = sanitize_utf8(pending_);
  pending_.clear();
  return rest;
}

}  // namespace sieve::tokenizer
