#include "tokenizer/vocab.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/byte_level.h"
#include "util/error.h"

namespace sieve::tokenizer {
namespace {

uint64_t merge_key(TokenId left, TokenId right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

TokenType token_type_from_int(int32_t value) {
  if (value >= 0 && value <= static_cast<int32_t>(TokenType::Byte)) return static_cast<TokenType>(value);
  return TokenType::Undefined;
}

// Whether "▁" follows some other character in the token text.
bool has_space_marker_after_text(const std::string& text) {
  static constexpr std::string_view kMarker = "\xE2\x96\x81";
  for (size_t at = text.find(kMarker, 1); at != std::string::npos; at = text.find(kMarker, at + 1)) {
    if (at < kMarker.size() || std::string_view(text).substr(at - kMarker.size(), kMarker.size()) != kMarker) return true;
  }
  return false;
}

// Texts the reference recognises as "end of turn" when the file names none,
// first found first. Harmony's "<|return|>" (gpt-oss) comes before "<|end|>",
// which in that vocabulary ends one message of a turn, not the turn.
constexpr const char* kEndOfTurnTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|return|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
};

}  // namespace

Vocab Vocab::build(VocabSpec spec) {
  if (spec.tokens.empty()) throw Error("tokenizer: the vocabulary has no tokens");
  if (spec.tokens.size() > static_cast<size_t>(INT32_MAX)) {
    throw Error("tokenizer: the vocabulary has more tokens than a token id can count");
  }
  if (!spec.scores.empty() && spec.scores.size() != spec.tokens.size()) {
    throw Error("tokenizer: " + std::to_string(spec.scores.size()) + " token scores for " +
                std::to_string(spec.tokens.size()) + " tokens");
  }
  if (!spec.token_types.empty() && spec.token_types.size() != spec.tokens.size()) {
    throw Error("tokenizer: " + std::to_string(spec.token_types.size()) + " token types for " +
                std::to_string(spec.tokens.size()) + " tokens");
  }

  Vocab vocab;
  vocab.model_ = spec.model;
  vocab.index_tokens(spec);

  if (spec.model == VocabModel::Bpe) {
    const PreTokenizerChoice choice = choose_pre_tokenizer(spec.pre);
    if (!choice.recognized) {
      vocab.warnings_.push_back("tokenizer: unknown pre-tokenizer '" + spec.pre +
                                "'; using the default split, so tokens may differ from the "
                                "model's own tokenizer");
    }
    vocab.pre_tokenizer_ = choice.kind;
    vocab.ignore_merges_ = choice.ignore_merges;
    vocab.add_bos_ = choice.add_bos;
    vocab.index_merges(spec.merges);
  } else {
    vocab.add_bos_ = true;
    vocab.add_space_prefix_ = true;
  }
  vocab.add_bos_ = spec.add_bos.value_or(vocab.add_bos_);
  vocab.add_eos_ = spec.add_eos.value_or(false);
  vocab.add_space_prefix_ = spec.add_space_prefix.value_or(vocab.add_space_prefix_);
  vocab.resolve_special_ids(spec);
  return vocab;
}

void Vocab::index_tokens(VocabSpec& spec) {
  const size_t n = spec.tokens.size();
  texts_ = std::move(spec.tokens);
  scores_ = std::move(spec.scores);
  types_.resize(n, TokenType::Normal);
  for (size_t i = 0; i < spec.token_types.size(); ++i) types_[i] = token_type_from_int(spec.token_types[i]);

  ids_by_text_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // An empty token could never be matched; the reference renames it so.
    if (texts_[i].empty()) texts_[i] = "[EMPTY_" + std::to_string(i) + "]";
    ids_by_text_[texts_[i]] = static_cast<TokenId>(i);  // a repeated text maps to its last id
  }

  spm_spaces_lead_tokens_ = std::none_of(texts_.begin(), texts_.end(), has_space_marker_after_text);

  for (unsigned byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    byte_tokens_[byte] = find(name);
    std::string byte_level;
    append_byte_level(byte_level, std::string(1, static_cast<char>(byte)));
    byte_level_tokens_[byte] = find(byte_level);
  }

  for (size_t i = 0; i < n; ++i) {
    const TokenType type = types_[i];
    if (type == TokenType::Control || type == TokenType::UserDefined || type == TokenType::Unknown) {
      special_tokens_.push_back(static_cast<TokenId>(i));
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [this](TokenId a, TokenId b) {
    return text(a).size() > text(b).size();
  });
}

void Vocab::index_merges(const std::vector<std::string>& merges) {
  merge_ranks_.reserve(merges.size());
  size_t unusable = 0;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string_view merge = merges[rank];
    // "left right": the first space after the first character separates them
    // (a left part may itself be a single space).
    const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
    const TokenId left = space == std::string_view::npos ? kNoToken : find(merge.substr(0, space));
    const TokenId right = space == std::string_view::npos ? kNoToken : find(merge.substr(space + 1));
    if (left == kNoToken || right == kNoToken) {
      ++unusable;
      continue;
    }
    merge_ranks_.emplace(merge_key(left, right), static_cast<int32_t>(rank));  // first rank wins
  }
  if (unusable > 0) {
    warnings_.push_back("tokenizer: " + std::to_string(unusable) +
                        " BPE merges name text that is not a token; they are ignored");
  }
}

TokenId Vocab::checked_id(const char* key, const std::optional<int64_t>& id, TokenId fallback) {
  if (!id) return fallback;
  if (*id >= 0 && static_cast<uint64_t>(*id) < texts_.size()) return static_cast<TokenId>(*id);
  // Converters write 0xFFFFFFFF for "none"; anything else out of range is a broken file.
  if (*id != 0xFFFFFFFFll && *id != -1) {
    warnings_.push_back("tokenizer: " + std::string(key) + " = " + std::to_string(*id) +
                        " is outside the vocabulary (" + std::to_string(texts_.size()) +
                        " tokens); ignored");
  }
  return fallback;
}

void Vocab::resolve_special_ids(const VocabSpec& spec) {
  // SentencePiece vocabularies put <unk>, <s>, </s> first unless told otherwise.
  const bool spm = model_ == VocabModel::Spm;
  const auto default_id = [&](TokenId id) { return spm && contains(id) ? id : kNoToken; };
  bos_ = checked_id("bos_token_id", spec.bos_id, default_id(1));
  eos_ = checked_id("eos_token_id", spec.eos_id, default_id(2));
  unk_ = checked_id("unknown_token_id", spec.unk_id, default_id(0));
  pad_ = checked_id("padding_token_id", spec.pad_id, kNoToken);
  eom_ = checked_id("eom_token_id", spec.eom_id, kNoToken);
  eot_ = checked_id("eot_token_id", spec.eot_id, kNoToken);
  if (eot_ == kNoToken) eot_ = find_end_of_turn();
}

TokenId Vocab::find_end_of_turn() const {
  for (const char* text : kEndOfTurnTexts) {
    if (const TokenId id = find(text); id != kNoToken) return id;
  }
  return kNoToken;
}

TokenId Vocab::find(std::string_view text) const {
  const auto it = ids_by_text_.find(text);
  return it == ids_by_text_.end() ? kNoToken : it->second;
}

int32_t Vocab::merge_rank(TokenId left, TokenId right) const {
  if (left == kNoToken || right == kNoToken) return -1;
  const auto it = merge_ranks_.find(merge_key(left, right));
  return it == merge_ranks_.end() ? -1 : it->second;
}

bool Vocab::is_end_of_generation(TokenId id) const {
  return id != kNoToken && (id == eos_ || id == eot_ || id == eom_);
}

}  // namespace sieve::tokenizer
