// Fuzz target: the tokenizers and the streaming detokenizer over the shared
// vocabularies (SentencePiece llama, GPT-2 byte-level BPE, DeepSeek BPE).
// Moved here from tests/core/tokenizer/tokenizer_fuzz.cpp; its template and
// messages-JSON parts are now chat_template_fuzz.cpp.
//
// Input: a selector byte (bit 0: tokenize or detokenize; bits 1-2: the
// vocabulary; bit 4: special tokens; bit 5: BOS), then text (tokenize) or
// big-endian u16 token ids (detokenize).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "fuzz/scratch_file.h"
#include "gguf/gguf_file.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"

namespace sieve::fuzz {
namespace {

using namespace sieve::tokenizer;

struct FuzzVocab {
  std::unique_ptr<Tokenizer> tokenizer;
  bool every_byte_round_trips = false;
};

// The shared vocabularies, loaded once per process (read-only afterwards).
const std::vector<FuzzVocab>& vocabularies() {
  static const std::vector<FuzzVocab> vocabs = [] {
    std::vector<FuzzVocab> v;
    for (const char* name : {"llama-spm", "gpt-2", "deepseek-llm"}) {
      const auto path = std::filesystem::path(SIEVE_SHARED_DIR) / "vocab" / (std::string("ggml-vocab-") + name + ".gguf");
      if (!std::filesystem::exists(path)) continue;
      FuzzVocab f;
      f.tokenizer = std::make_unique<Tokenizer>(load_vocab(gguf::GgufFile::open(path)));
      f.every_byte_round_trips = std::string(name) != "deepseek-llm";
      v.push_back(std::move(f));
    }
    return v;
  }();
  return vocabs;
}

void fuzz_tokenize(const FuzzVocab& v, uint8_t selector, const std::string& text) {
  const bool parse_special = (selector & 0x10) != 0;
  const bool add_bos = (selector & 0x20) != 0;
  const std::vector<TokenId> ids =
      v.tokenizer->tokenize(text, {.add_bos = add_bos, .add_eos = false, .parse_special = parse_special});
  for (const TokenId id : ids) check(v.tokenizer->vocab().contains(id), "token ids are in the vocabulary");
  // SentencePiece writes spaces as U+2581, so a U+2581 in the input comes back
  // as a space (as in SentencePiece itself): not a round-trip input.
  const bool spm_marker =
      v.tokenizer->vocab().model() == VocabModel::Spm && text.find("\xE2\x96\x81") != std::string::npos;
  if (!parse_special && !add_bos && !spm_marker && (v.every_byte_round_trips || sanitize_utf8(text) == text)) {
    check(v.tokenizer->detokenize(ids) == text, "detokenize(tokenize(text)) == text");
  }
}

void fuzz_detokenize(const FuzzVocab& v, uint8_t selector, const std::string& data) {
  const Tokenizer& t = *v.tokenizer;
  StreamingDetokenizer stream(t, {.render_special = (selector & 0x10) != 0, .at_text_start = true});
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    const auto id = static_cast<TokenId>((static_cast<uint8_t>(data[i]) << 8 | static_cast<uint8_t>(data[i + 1])) %
                                         t.vocab().size());
    const std::string chunk = stream.push(id);
    check(sanitize_utf8(chunk) == chunk, "streamed chunks are valid UTF-8");
  }
  const std::string rest = stream.finish();
  check(sanitize_utf8(rest) == rest, "the streamed tail is valid UTF-8");
}

}  // namespace

void tokenizer_body(std::span<const uint8_t> input) {
  const auto& vocabs = vocabularies();
  if (input.empty() || vocabs.empty()) return;
  const uint8_t selector = input[0];
  const std::string text(reinterpret_cast<const char*>(input.data() + 1), input.size() - 1);
  const FuzzVocab& vocab = vocabs[(selector >> 1 & 3) % vocabs.size()];
  if (selector & 1) {
    fuzz_detokenize(vocab, selector, text);
  } else {
    fuzz_tokenize(vocab, selector, text);
  }
}

}  // namespace sieve::fuzz
