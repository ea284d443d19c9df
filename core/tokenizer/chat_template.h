#pragma once
// Chat templates: turning a conversation into the prompt text a model was
// trained on, using the Jinja template the model ships in
// tokenizer.chat_template.
//
// The template runs in a small interpreter for the subset of Jinja that chat
// templates use (see jinja_parser.h), with the variables Hugging Face passes:
// messages (a list of {role, content}), add_generation_prompt, bos_token and
// eos_token. When a model has no template, or its template cannot be parsed or
// rendered by this interpreter, format_chat() falls back to ChatML and says
// so; a template that rejects the conversation itself (raise_exception, e.g.
// "System role not supported") is an error, not a fallback.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace sieve::tokenizer {

namespace jinja {
struct Stmt;
}

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" (any string is passed through)
  std::string content;
};

struct ChatTemplateInputs {
  bool add_generation_prompt = true;  // end with the header of an assistant turn
  std::string bos_token;              // the text of the vocabulary's BOS token
  std::string eos_token;              // the text of the vocabulary's EOS token
};

using TemplateError = jinja::TemplateError;
using RenderLimits = jinja::RenderLimits;

class ChatTemplate {
 public:
  // Throws TemplateError (kind Syntax, or Limit for absurd nesting) naming the line.
  static ChatTemplate parse(std::string_view source, RenderLimits limits = {});

  // Throws TemplateError: Raised when the template calls raise_exception,
  // Runtime or Limit when rendering fails.
  std::string render(std::span<const ChatMessage> messages, const ChatTemplateInputs& inputs) const;

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<jinja::Stmt>>> program_;
  RenderLimits limits_;
};

// The ChatML format: "<|im_start|>{role}\n{content}<|im_end|>\n" per message,
// then "<|im_start|>assistant\n" when a generation prompt is asked for.
std::string format_chatml(std::span<const ChatMessage> messages, bool add_generation_prompt);

struct FormattedChat {
  std::string prompt;
  bool used_fallback = false;  // true: ChatML was used instead of the model's template
  std::string fallback_reason;  // why, in one sentence, when used_fallback
};

// Formats with `template_source` (the model's tokenizer.chat_template), or
// ChatML when it is absent, empty, or unusable here (reported in the result).
// Throws TemplateError (kind Raised) when the template rejects the messages.
FormattedChat format_chat(const std::optional<std::string>& template_source,
                          std::span<const ChatMessage> messages, const ChatTemplateInputs& inputs);

// Reads messages from JSON text: [{"role": "...", "content": "..."}, ...].
// Throws sieve::Error naming `source_name` and the problem.
std::vector<ChatMessage> parse_chat_messages_json(std::string_view json_text, std::string_view source_name);

}  // namespace sieve::tokenizer
