#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <string>

#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t begin;   // byte offset in the encoded word
  uint32_t length;  // bytes; 0 once merged away
  TokenId id;       // the token with this text, or kNoToken
};

struct Bigram {
  int32_t rank;
  int32_t left;
  int32_t right;
  uint32_t length;  // bytes of left + right when queued
};

// Lowest rank first; on ties the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Buffers reused across the words of one call.
class BpeSession {
 public:
  explicit BpeSession(const Vocab& vocab) : vocab_(vocab) {}

  void tokenize_word(std::string_view raw_word, std::vector<TokenId>& out) {
    split_into_byte_symbols(raw_word);
    if (vocab_.ignore_merges()) {
      if (const TokenId id = vocab_.find(word_); id != kNoToken) {
        out.push_back(id);
        return;
      }
    }
    queue_.clear();
    for (size_t i = 1; i < symbols_.size(); ++i) try_queue(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
    merge_lowest_ranks();
    for (int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[static_cast<size_t>(i)].next) {
      emit(symbols_[static_cast<size_t>(i)], out);
    }
  }

 private:
  std::string_view text_of(const Symbol& s) const {
    return std::string_view(word_).substr(s.begin, s.length);
  }

  // Writes the word in the byte-level alphabet, one symbol per byte.
  void split_into_byte_symbols(std::string_view raw_word) {
    word_.clear();
    symbols_.clear();
    for (size_t i = 0; i < raw_word.size(); ++i) {
      const auto byte = static_cast<uint8_t>(raw_word[i]);
      const auto begin = static_cast<uint32_t>(word_.size());
      append_utf8(word_, byte_to_codepoint(byte));
      const auto index = static_cast<int32_t>(i);
      symbols_.push_back({index - 1, i + 1 == raw_word.size() ? -1 : index + 1, begin,
                          static_cast<uint32_t>(word_.size()) - begin, vocab_.byte_level_token(byte)});
    }
  }

  void try_queue(int32_t left, int32_t right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols_[static_cast<size_t>(left)];
    const Symbol& r = symbols_[static_cast<size_t>(right)];
    const int32_t rank = vocab_.merge_rank(l.id, r.id);
    if (rank < 0) return;
    queue_.push_back({rank, left, right, l.length + r.length});
    std::push_heap(queue_.begin(), queue_.end(), BigramOrder{});
  }

  void merge_lowest_ranks() {
    while (!queue_.empty()) {
      std::pop_heap(queue_.begin(), queue_.end(), BigramOrder{});
      const Bigram bigram = queue_.back();
      queue_.pop_back();
      Symbol& left = symbols_[static_cast<size_t>(bigram.left)];
      Symbol& right = symbols_[static_cast<size_t>(bigram.right)];
      if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) {
        continue;  // outdated: one side changed since the pair was queued
      }
      left.length += right.length;
      right.length = 0;
      left.id = vocab_.find(text_of(left));
      left.next = right.next;
      if (right.next >= 0) symbols_[static_cast<size_t>(right.next)].prev = bigram.left;
      try_queue(left.prev, bigram.left);
      try_queue(bigram.left, left.next);
    }
  }

  // A symbol that is no token (only with incomplete vocabularies) becomes the
  // tokens of its single bytes, where those exist - as the reference does.
  void emit(const Symbol& symbol, std::vector<TokenId>& out) const {
    if (symbol.id != kNoToken) {
      out.push_back(symbol.id);
      return;
    }
    for (const char c : text_of(symbol)) {
      if (const TokenId id = vocab_.find(std::string_view(&c, 1)); id != kNoToken) out.push_back(id);
    }
  }

  const Vocab& vocab_;
  std::string word_;
  std::vector<Symbol> symbols_;
  std::vector<Bigram> queue_;
};

}  // namespace

void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  std::vector<TextSpan> words;
  pre_tokenize(vocab.pre_tokenizer(), text, words);
  BpeSession session(vocab);
  for (const TextSpan& word : words) {
    session.tokenize_word(text.substr(word.begin, word.end - word.begin), out);
  }
}

}  // namespace sieve::tokenizer
