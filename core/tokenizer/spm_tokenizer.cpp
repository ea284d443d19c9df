#include "tokenizer/spm_tokenizer.h"

#include <queue>

#include "tokenizer/unicode.h"

namespace sieve::tokenizer {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581

// A run of text in the chain of symbols; merged symbols absorb their right
// neighbour, which is left with length 0.
struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t begin;   // byte offset in the text
  uint32_t length;  // bytes; 0 once merged away
};

// A candidate merge of two neighbours, ranked by the score of the token it makes.
struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t length;  // bytes of left + right when queued (stale if either changed)
};

// Highest score first; on ties the leftmost pair, as the reference does.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// Buffers reused across the pieces of one call.
class SpmSession {
 public:
  explicit SpmSession(const Vocab& vocab) : vocab_(vocab) {}

  void tokenize(std::string_view text, std::vector<TokenId>& out) {
    text_ = text;
    symbols_.clear();
    queue_ = {};
    split_into_characters();
    for (size_t i = 1; i < symbols_.size(); ++i) try_queue(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
    merge_best_pairs();
    for (int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[static_cast<size_t>(i)].next) {
      emit(symbols_[static_cast<size_t>(i)], out);
    }
  }

 private:
  void split_into_characters() {
    symbols_.reserve(text_.size());
    for (size_t offset = 0; offset < text_.size();) {
      const size_t length = decode_utf8(text_, offset).length;
      const auto index = static_cast<int32_t>(symbols_.size());
      offset += length;
      symbols_.push_back({index - 1, offset == text_.size() ? -1 : index + 1,
                          static_cast<uint32_t>(offset - length), static_cast<uint32_t>(length)});
    }
  }

  void try_queue(int32_t left, int32_t right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols_[static_cast<size_t>(left)];
    const Symbol& r = symbols_[static_cast<size_t>(right)];
    const TokenId id = vocab_.find(text_.substr(l.begin, l.length + r.length));
    if (id == kNoToken) return;
    queue_.push({vocab_.score(id), left, right, l.length + r.length});
  }

  void merge_best_pairs() {
    while (!queue_.empty()) {
      const Bigram bigram = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[static_cast<size_t>(bigram.left)];
      Symbol& right = symbols_[static_cast<size_t>(bigram.right)];
      if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) {
        continue;  // one side changed since the pair was queued
      }
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[static_cast<size_t>(right.next)].prev = bigram.left;
      try_queue(left.prev, bigram.left);
      try_queue(bigram.left, left.next);
    }
  }

  // A finished symbol is a token, or its bytes become byte tokens.
  void emit(const Symbol& symbol, std::vector<TokenId>& out) const {
    const std::string_view piece = text_.substr(symbol.begin, symbol.length);
    if (const TokenId id = vocab_.find(piece); id != kNoToken) {
      out.push_back(id);
      return;
    }
    for (const char c : piece) {
      TokenId id = vocab_.byte_token(static_cast<uint8_t>(c));
      if (id == kNoToken) id = vocab_.find(std::string_view(&c, 1));
      if (id == kNoToken) id = vocab_.unk();
      if (id != kNoToken) out.push_back(id);
    }
  }

  const Vocab& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
};

}  // namespace

// Where a "▁" follows another character, a new piece may start: when no token
// has "▁" after another character (Vocab::spm_spaces_lead_tokens), no merge
// can cross that point, so each piece merges on its own - same result, far
// smaller queues.
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  SpmSession session(vocab);
  if (!vocab.spm_spaces_lead_tokens()) {
    session.tokenize(text, out);
    return;
  }
  size_t piece_start = 0;
  for (size_t at = text.find(kSpaceMarker, 1); at != std::string_view::npos; at = text.find(kSpaceMarker, at + 1)) {
    const size_t n = kSpaceMarker.size();
    const bool after_space = at >= n && text.compare(at - n, n, kSpaceMarker) == 0;
    if (after_space) continue;  // inside a run of spaces
    session.tokenize(text.substr(piece_start, at - piece_start), out);
    piece_start = at;
  }
  session.tokenize(text.substr(piece_start), out);
}

void append_spm_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == ' ') {
      out.append(kSpaceMarker);
    } else {
      out += c;
    }
  }
}

}  // namespace sieve::tokenizer
