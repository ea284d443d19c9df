#include "tokenizer/special_tokens.h"

#include <bitset>

namespace sieve::tokenizer {
namespace {

// Which byte values occur in a text: a token holding a byte the text lacks
// cannot occur in it, which spares most searches in large vocabularies.
class BytesPresent {
 public:
  explicit BytesPresent(std::string_view text) {
    for (const char c : text) present_.set(static_cast<uint8_t>(c));
  }
  bool may_contain(std::string_view piece) const {
    for (const char c : piece) {
      if (!present_.test(static_cast<uint8_t>(c))) return false;
    }
    return true;
  }

 private:
  std::bitset<256> present_;
};

bool matched_in_text(TokenType type, bool parse_special) {
  if (type == TokenType::UserDefined) return true;
  return parse_special && (type == TokenType::Control || type == TokenType::Unknown);
}

// Replaces each text fragment by its pieces around every occurrence of `token`.
void cut_out(std::string_view text, TokenId token, std::string_view token_text,
             std::vector<Fragment>& fragments, std::vector<Fragment>& scratch) {
  scratch.clear();
  for (const Fragment& fragment : fragments) {
    if (!fragment.is_text()) {
      scratch.push_back(fragment);
      continue;
    }
    const std::string_view region = text.substr(0, fragment.end);
    size_t from = fragment.begin;
    for (size_t match = region.find(token_text, from); match != std::string_view::npos;
         match = region.find(token_text, from)) {
      if (match > from) scratch.push_back({kNoToken, from, match});
      scratch.push_back({token, 0, 0});
      from = match + token_text.size();
    }
    if (from < fragment.end) scratch.push_back({kNoToken, from, fragment.end});
  }
  fragments.swap(scratch);
}

}  // namespace

std::vector<Fragment> partition_special_tokens(const Vocab& vocab, std::string_view text,
                                               bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});
  std::vector<Fragment> scratch;
  const BytesPresent bytes(text);
  for (const TokenId token : vocab.special_tokens()) {
    if (!matched_in_text(vocab.type(token), parse_special)) continue;
    if (!bytes.may_contain(vocab.text(token))) continue;
    cut_out(text, token, vocab.text(token), fragments, scratch);
  }
  return fragments;
}

}  // namespace sieve::tokenizer
