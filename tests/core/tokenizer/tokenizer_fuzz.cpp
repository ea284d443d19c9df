// libFuzzer target for the tokenizers, the streaming detokenizer, the chat
// template interpreter and the messages JSON reader. Built only with clang:
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
//       -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address"
//   cmake --build build-fuzz --target tokenizer_fuzz
//   build-fuzz/bin/tokenizer_fuzz -max_total_time=60 -max_len=4096
//
// The first input byte picks what to exercise; the rest is the input. Any
// failure other than the documented exceptions aborts (a finding).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"
#include "util/error.h"

namespace {

using namespace sieve::tokenizer;

struct FuzzVocab {
  std::unique_ptr<Tokenizer> tokenizer;
  bool every_byte_round_trips = false;
};

// The shared vocabularies, loaded once for the whole fuzzing session.
const std::vector<FuzzVocab>& vocabularies() {
  static const std::vector<FuzzVocab> vocabs = [] {
    std::vector<FuzzVocab> v;
    for (const char* name : {"llama-spm", "gpt-2", "deepseek-llm"}) {
      const auto path = std::filesystem::path(SIEVE_SHARED_DIR) / "vocab" / (std::string("ggml-vocab-") + name + ".gguf");
      if (!std::filesystem::exists(path)) continue;
      FuzzVocab f;
      f.tokenizer = std::make_unique<Tokenizer>(load_vocab(sieve::gguf::GgufFile::open(path)));
      f.every_byte_round_trips = std::string(name) != "deepseek-llm";
      v.push_back(std::move(f));
    }
    return v;
  }();
  return vocabs;
}

void check(bool condition) {
  if (!condition) std::abort();
}

void fuzz_tokenize(uint8_t selector, const std::string& text) {
  const auto& vocabs = vocabularies();
  if (vocabs.empty()) return;
  const FuzzVocab& v = vocabs[selector % vocabs.size()];
  const bool parse_special = (selector & 0x10) != 0;
  const std::vector<TokenId> ids = v.tokenizer->tokenize(text, {.add_bos = (selector & 0x20) != 0,
                                                               .add_eos = false,
                                                               .parse_special = parse_special});
  for (const TokenId id : ids) check(v.tokenizer->vocab().contains(id));
  // SentencePiece writes spaces as U+2581, so a U+2581 in the input comes back
  // as a space (as in SentencePiece itself): not a round-trip input.
  const bool spm_marker = v.tokenizer->vocab().model() == VocabModel::Spm &&
                          text.find("\xE2\x96\x81") != std::string::npos;
  if (!parse_special && (selector & 0x20) == 0 && !spm_marker &&
      (v.every_byte_round_trips || sanitize_utf8(text) == text)) {
    check(v.tokenizer->detokenize(ids) == text);
  }
}

void fuzz_detokenize(uint8_t selector, const std::string& data) {
  const auto& vocabs = vocabularies();
  if (vocabs.empty()) return;
  const Tokenizer& t = *vocabs[selector % vocabs.size()].tokenizer;
  StreamingDetokenizer stream(t, {.render_special = (selector & 0x10) != 0, .at_text_start = true});
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    const auto id = static_cast<TokenId>((static_cast<uint8_t>(data[i]) << 8 | static_cast<uint8_t>(data[i + 1])) %
                                         t.vocab().size());
    const std::string chunk = stream.push(id);
    check(sanitize_utf8(chunk) == chunk);
  }
  const std::string rest = stream.finish();
  check(sanitize_utf8(rest) == rest);
}

void fuzz_template(const std::string& source) {
  const std::vector<ChatMessage> messages = {{"system", "S"}, {"user", "Hello"}, {"assistant", " Hi "}, {"user", "?"}};
  RenderLimits limits;
  limits.max_steps = 20000;  // keep each input fast
  limits.max_output_bytes = 1 << 20;
  limits.max_value_bytes = 1 << 20;
  limits.max_list_items = 1 << 14;
  try {
    ChatTemplate::parse(source, limits).render(messages, {true, "<s>", "</s>"});
  } catch (const TemplateError&) {
  }
}

void fuzz_messages_json(const std::string& json) {
  try {
    parse_chat_messages_json(json, "fuzz.json");
  } catch (const sieve::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 4) {
    case 0: fuzz_tokenize(selector >> 2, input); break;
    case 1: fuzz_detokenize(selector >> 2, input); break;
    case 2: fuzz_template(input); break;
    default: fuzz_messages_json(input); break;
  }
  return 0;
}
