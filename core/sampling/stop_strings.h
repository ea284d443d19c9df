#pragma once
// Stops generation at any of a set of strings, working on the detokenized
// text as it streams out.
//
// Text that might be the start of a stop string is held back until the next
// piece shows whether it is: push("Hel") with stop "Hello" returns "" and
// keeps "Hel"; push("p") then returns "Help". When a stop string completes,
// push() returns the text before it and stopped() turns true; the stop string
// itself is never shown. flush() returns what is still held back once the
// generation ends for another reason.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::sampling {

// The length of the longest suffix of `text` that is a proper prefix of one
// of `markers` (strings, non-empty): text that may become a marker with the
// next piece, so it is held back. Also used by chat/reply_channels.h.
template <typename Markers>
size_t partial_match_length(std::string_view text, const Markers& markers) {
  size_t longest = 0;
  for (std::string_view marker : markers) {
    for (size_t n = std::min(text.size(), marker.size() - 1); n > longest; --n) {
      if (text.substr(text.size() - n) == marker.substr(0, n)) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

class StopStringMatcher {
 public:
  // Empty strings in `stops` are ignored.
  explicit StopStringMatcher(std::vector<std::string> stops);

  // Adds a piece of generated text; returns the text now safe to show.
  // After a stop, further pushes return nothing.
  std::string push(std::string_view piece);
  // The held-back text (nothing after a stop).
  std::string flush();

  bool stopped() const { return stopped_; }
  // The stop string that matched, or "".
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace sieve::sampling
