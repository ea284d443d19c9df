#pragma once
// Streaming detokenization: fed generated token ids one at a time, returns the
// text that is complete so far. A UTF-8 character split across tokens (byte
// tokens <0xE2><0x96><0x81>, or byte-level BPE pieces) is held back until its
// last byte arrives, so every returned string is valid UTF-8 and can be shown
// at once.

#include <string>

#include "tokenizer/tokenizer.h"

namespace sieve::tokenizer {

class StreamingDetokenizer {
 public:
  // `tokenizer` must outlive this object.
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, DetokenizeOptions options = {});

  // The newly complete text after `id` (often empty while a character is
  // incomplete). Bytes that can never form a character come out as U+FFFD.
  // Throws sieve::Error for an id outside the vocabulary.
  std::string push(TokenId id);
  // At the end of the stream: whatever is still held back, as U+FFFD.
  std::string finish();
  // Back to the state of a new stream.
  void reset();

 private:
  const Tokenizer& tokenizer_;
  DetokenizeOptions options_;
  bool strip_space_ = false;
  std::string pending_;  // bytes of an incomplete character
};

}  // namespace sieve::tokenizer
