// Fuzz target: chat templates (the Jinja subset a GGUF's
// tokenizer.chat_template holds: lexer, parser, interpreter) and the messages
// JSON `sieve template -f` reads. Input: a selector byte (bit 0: template or
// JSON), then the text.
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "fuzz/scratch_file.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace sieve::fuzz {
namespace {

using namespace sieve::tokenizer;

void fuzz_template(const std::string& source, bool add_generation_prompt) {
  const std::vector<ChatMessage> messages = {
      {"system", "S"}, {"user", "Hello"}, {"assistant", " Hi "}, {"user", "?"}};
  RenderLimits limits;  // small limits keep each input fast; exceeding one is a TemplateError
  limits.max_steps = 20000;
  limits.max_output_bytes = 1 << 20;
  limits.max_value_bytes = 1 << 20;
  limits.max_list_items = 1 << 14;
  try {
    const std::string out = ChatTemplate::parse(source, limits).render(messages, {add_generation_prompt, "<s>", "</s>"});
    check(out.size() <= limits.max_output_bytes, "output within max_output_bytes");
  } catch (const TemplateError&) {
  }
}

void fuzz_messages_json(const std::string& json) {
  try {
    (void)parse_chat_messages_json(json, "fuzz.json");
  } catch (const Error&) {
  }
}

}  // namespace

void chat_template_body(std::span<const uint8_t> input) {
  if (input.empty()) return;
  const std::string text(reinterpret_cast<const char*>(input.data() + 1), input.size() - 1);
  if (input[0] & 1) {
    fuzz_messages_json(text);
  } else {
    fuzz_template(text, (input[0] & 2) != 0);
  }
}

}  // namespace sieve::fuzz
