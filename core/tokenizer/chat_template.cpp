#include "tokenizer/chat_template.h"

#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_parser.h"
#include "util/error.h"
#include "util/json_text.h"

namespace sieve::tokenizer {

ChatTemplate ChatTemplate::parse(std::string_view source, RenderLimits limits) {
  ChatTemplate t;
  t.program_ = std::make_shared<const jinja::StmtList>(jinja::parse_template(source));
  t.limits_ = limits;
  return t;
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages, const ChatTemplateInputs& inputs) const {
  jinja::ValueList list;
  list.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    jinja::ValueMap message;
    message.items = {{"role", jinja::Value(m.role)}, {"content", jinja::Value(m.content)}};
    list.emplace_back(std::move(message));
  }
  jinja::ValueMap variables;
  variables.items = {
      {"messages", jinja::Value(std::move(list))},
      {"add_generation_prompt", jinja::Value(inputs.add_generation_prompt)},
      {"bos_token", jinja::Value(inputs.bos_token)},
      {"eos_token", jinja::Value(inputs.eos_token)},
  };
  return jinja::render_template(*program_, variables, limits_);
}

std::string format_chatml(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

FormattedChat format_chat(const std::optional<std::string>& template_source,
                          std::span<const ChatMessage> messages, const ChatTemplateInputs& inputs) {
  const auto fallback = [&](std::string reason) {
    return FormattedChat{format_chatml(messages, inputs.add_generation_prompt), true, std::move(reason)};
  };
  if (!template_source || template_source->empty()) return fallback("the model has no chat template");
  try {
    const ChatTemplate t = ChatTemplate::parse(*template_source);
    return FormattedChat{t.render(messages, inputs), false, ""};
  } catch (const TemplateError& e) {
    if (e.kind() == TemplateError::Kind::Raised) throw;
    return fallback(std::string("the model's chat template cannot be used (") + e.what() + ")");
  }
}

std::vector<ChatMessage> parse_chat_messages_json(std::string_view json_text, std::string_view source_name) {
  const std::string where(source_name);
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::exception& e) {
    throw Error(where + ": " + json_error_text(e));
  }
  if (!root.is_array()) throw Error(where + ": expected a JSON array of messages [{\"role\": ..., \"content\": ...}]");
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < root.size(); ++i) {
    const Json& item = root[i];
    const std::string what = where + ": message " + std::to_string(i + 1);
    if (!item.is_object()) throw Error(what + " is not an object with \"role\" and \"content\"");
    const auto role = item.find("role");
    const auto content = item.find("content");
    if (role == item.end() || !role->is_string()) throw Error(what + " needs a string \"role\"");
    if (content == item.end() || !content->is_string()) throw Error(what + " needs a string \"content\"");
    for (const auto& [key, value] : item.items()) {
      if (key != "role" && key != "content") throw Error(what + " has an unsupported key \"" + key + "\"");
    }
    messages.push_back({role->get<std::string>(), content->get<std::string>()});
  }
  return messages;
}

}  // namespace sieve::tokenizer
