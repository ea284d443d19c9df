#pragma once
// Byte-level BPE pre-tokenization: the regex split, chosen by
// tokenizer.ggml.pre, that cuts text into words before merges run.
//
// The reference applies a list of regexes one after another, each splitting
// the pieces the previous one produced (a match and the text between matches
// both become pieces). Here every regex is a hand-written scanner over code
// points with Unicode categories; the scanners reproduce the regexes'
// leftmost-alternative, greedy-with-backtracking semantics exactly.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::tokenizer {

enum class PreTokenizerKind : uint8_t {
  Default,        // "default" and anything unrecognised
  Gpt2,           // "gpt-2", "mpt", "olmo", "phi-2", ...
  Llama3,         // "llama-bpe", "llama3", "dbrx", "smaug-bpe", ...
  Qwen2,          // "qwen2", "stablelm2", ...: llama3 with single digits
  DeepseekLlm,    // "deepseek-llm"
  DeepseekCoder,  // "deepseek-coder"
  Falcon,         // "falcon"
  Starcoder,      // "starcoder", "refact", "command-r", "smollm", ...
};

struct PreTokenizerChoice {
  PreTokenizerKind kind = PreTokenizerKind::Default;
  bool recognized = true;      // false: unknown name, Default used
  bool ignore_merges = false;  // llama3 family: whole-token words skip merging
  bool add_bos = false;        // the family's default for add_bos_token
};

// Maps a tokenizer.ggml.pre value to its split; "" means "default".
PreTokenizerChoice choose_pre_tokenizer(std::string_view name);
const char* pre_tokenizer_name(PreTokenizerKind kind);

// A piece of the input: byte offsets [begin, end).
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
};

// Splits `text` (any bytes; malformed UTF-8 bytes count as U+FFFD symbols) into
// words covering it completely and in order. `words` is cleared first.
void pre_tokenize(PreTokenizerKind kind, std::string_view text, std::vector<TextSpan>& words);

}  // namespace sieve::tokenizer
