#include "tokenizer/pre_tokenizer.h"

#include <span>

#include "tokenizer/pre_tokenizer_scanners.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer {
namespace {

using detail::ScanChar;
using detail::Scanner;

struct NamedChoice {
  const char* name;
  PreTokenizerKind kind;
  bool ignore_merges;
  bool add_bos;
};

// tokenizer.ggml.pre values the reference implementation knows, mapped to the
// split each of them uses (only families whose regexes we implement).
constexpr NamedChoice kKnownNames[] = {
    {"default", PreTokenizerKind::Default, false, false},
    {"gpt-2", PreTokenizerKind::Gpt2, false, false},
    {"gpt2", PreTokenizerKind::Gpt2, false, false},
    {"phi-2", PreTokenizerKind::Gpt2, false, false},
    {"mpt", PreTokenizerKind::Gpt2, false, false},
    {"olmo", PreTokenizerKind::Gpt2, false, false},
    {"jais", PreTokenizerKind::Gpt2, false, false},
    {"jina-es", PreTokenizerKind::Gpt2, false, false},
    {"jina-de", PreTokenizerKind::Gpt2, false, false},
    {"jina-v1-en", PreTokenizerKind::Gpt2, false, false},
    {"jina-v2-es", PreTokenizerKind::Gpt2, false, false},
    {"jina-v2-de", PreTokenizerKind::Gpt2, false, false},
    {"jina-v2-code", PreTokenizerKind::Gpt2, false, false},
    {"roberta-bpe", PreTokenizerKind::Gpt2, false, false},
    {"gigachat", PreTokenizerKind::Gpt2, false, false},
    {"exaone4", PreTokenizerKind::Gpt2, false, false},
    {"trillion", PreTokenizerKind::Gpt2, false, false},
    {"llama3", PreTokenizerKind::Llama3, true, true},
    {"llama-v3", PreTokenizerKind::Llama3, true, true},
    {"llama-bpe", PreTokenizerKind::Llama3, true, true},
    {"falcon3", PreTokenizerKind::Llama3, true, true},
    {"pixtral", PreTokenizerKind::Llama3, true, true},
    {"dbrx", PreTokenizerKind::Llama3, false, false},
    {"smaug-bpe", PreTokenizerKind::Llama3, false, false},
    {"chatglm-bpe", PreTokenizerKind::Llama3, false, false},
    {"glm4", PreTokenizerKind::Llama3, false, false},
    {"qwen2", PreTokenizerKind::Qwen2, false, false},
    {"deepseek-r1-qwen", PreTokenizerKind::Qwen2, false, false},
    {"stablelm2", PreTokenizerKind::Qwen2, false, false},
    {"megrez", PreTokenizerKind::Qwen2, false, false},
    {"hunyuan", PreTokenizerKind::Qwen2, false, false},
    {"deepseek-llm", PreTokenizerKind::DeepseekLlm, false, false},
    {"deepseek-coder", PreTokenizerKind::DeepseekCoder, false, false},
    {"falcon", PreTokenizerKind::Falcon, false, false},
    {"starcoder", PreTokenizerKind::Starcoder, false, false},
    {"refact", PreTokenizerKind::Starcoder, false, false},
    {"command-r", PreTokenizerKind::Starcoder, false, false},
    {"smollm", PreTokenizerKind::Starcoder, false, false},
    {"codeshell", PreTokenizerKind::Starcoder, false, false},
    {"exaone", PreTokenizerKind::Starcoder, false, false},
    {"minerva-7b", PreTokenizerKind::Starcoder, false, false},
};

// The regexes of each split, applied in order.
std::span<const Scanner> passes_of(PreTokenizerKind kind) {
  using namespace detail;
  static constexpr Scanner kDefault[] = {scan_punctuation_run, scan_gpt2, scan_numbers,
                                         scan_three_ascii_digits};
  static constexpr Scanner kGpt2[] = {scan_gpt2};
  static constexpr Scanner kLlama3[] = {scan_llama3};
  static constexpr Scanner kQwen2[] = {scan_qwen2};
  static constexpr Scanner kDeepseekLlm[] = {scan_line_break,      scan_space_cased_letters,
                                             scan_space_ascii_punctuation, scan_trailing_spaces,
                                             scan_cjk,             scan_numbers};
  static constexpr Scanner kDeepseekCoder[] = {scan_line_break, scan_space_letters,
                                               scan_space_punctuation, scan_cjk, scan_one_number};
  static constexpr Scanner kFalcon[] = {scan_punctuation_run_with_backtick, scan_gpt2,
                                        scan_three_ascii_digits};
  static constexpr Scanner kStarcoder[] = {scan_one_number, scan_gpt2};
  switch (kind) {
    case PreTokenizerKind::Gpt2: return kGpt2;
    case PreTokenizerKind::Llama3: return kLlama3;
    case PreTokenizerKind::Qwen2: return kQwen2;
    case PreTokenizerKind::DeepseekLlm: return kDeepseekLlm;
    case PreTokenizerKind::DeepseekCoder: return kDeepseekCoder;
    case PreTokenizerKind::Falcon: return kFalcon;
    case PreTokenizerKind::Starcoder: return kStarcoder;
    case PreTokenizerKind::Default: break;
  }
  return kDefault;
}

uint8_t scan_flags(uint32_t codepoint) {
  uint8_t flags = 0;
  switch (category_of(codepoint)) {
    case Category::Letter: flags |= detail::kLetter; break;
    case Category::Number: flags |= detail::kNumber; break;
    case Category::Punctuation: flags |= detail::kPunctuation; break;
    default: break;
  }
  if (is_whitespace(codepoint)) flags |= detail::kSpace;
  return flags;
}

// A piece of the text in code point indexes.
struct CodepointSpan {
  size_t begin;
  size_t end;
};

// One regex pass: every match and every stretch between matches becomes a piece.
void apply_pass(Scanner scanner, const std::vector<ScanChar>& chars,
                const std::vector<CodepointSpan>& pieces, std::vector<CodepointSpan>& out) {
  out.clear();
  for (const CodepointSpan& piece : pieces) {
    size_t unmatched_from = piece.begin;
    for (size_t pos = piece.begin; pos < piece.end;) {
      const size_t length = scanner(chars.data(), pos, piece.end);
      if (length == 0) {
        ++pos;
        continue;
      }
      if (unmatched_from < pos) out.push_back({unmatched_from, pos});
      out.push_back({pos, pos + length});
      pos += length;
      unmatched_from = pos;
    }
    if (unmatched_from < piece.end) out.push_back({unmatched_from, piece.end});
  }
}

}  // namespace

PreTokenizerChoice choose_pre_tokenizer(std::string_view name) {
  if (name.empty()) return {};
  for (const NamedChoice& known : kKnownNames) {
    if (name == known.name) return {known.kind, true, known.ignore_merges, known.add_bos};
  }
  PreTokenizerChoice unknown;
  unknown.recognized = false;
  return unknown;
}

const char* pre_tokenizer_name(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::Default: return "default";
    case PreTokenizerKind::Gpt2: return "gpt-2";
    case PreTokenizerKind::Llama3: return "llama-bpe";
    case PreTokenizerKind::Qwen2: return "qwen2";
    case PreTokenizerKind::DeepseekLlm: return "deepseek-llm";
    case PreTokenizerKind::DeepseekCoder: return "deepseek-coder";
    case PreTokenizerKind::Falcon: return "falcon";
    case PreTokenizerKind::Starcoder: return "starcoder";
  }
  return "default";
}

void pre_tokenize(PreTokenizerKind kind, std::string_view text, std::vector<TextSpan>& words) {
  words.clear();
  if (text.empty()) return;

  std::vector<ScanChar> chars;
  std::vector<size_t> byte_offsets;  // of each code point, plus the end
  chars.reserve(text.size());
  byte_offsets.reserve(text.size() + 1);
  for (size_t pos = 0; pos < text.size();) {
    const DecodedCodepoint decoded = decode_utf8(text, pos);
    chars.push_back({decoded.codepoint, scan_flags(decoded.codepoint)});
    byte_offsets.push_back(pos);
    pos += decoded.length;
  }
  byte_offsets.push_back(text.size());

  std::vector<CodepointSpan> pieces{{0, chars.size()}};
  std::vector<CodepointSpan> next;
  for (Scanner scanner : passes_of(kind)) {
    apply_pass(scanner, chars, pieces, next);
    pieces.swap(next);
  }
  words.reserve(pieces.size());
  for (const CodepointSpan& piece : pieces) {
    words.push_back({byte_offsets[piece.begin], byte_offsets[piece.end]});
  }
}

}  // namespace sieve::tokenizer
