#include "server/request_parsing.h"

#include <nlohmann/json.hpp>

#include "server/api_error.h"

namespace sieve::server {
namespace {

using Json = nlohmann::json;

// Deeper than any real request; refused before parsing, so hostile nesting
// costs a scan, not a tree of a million levels.
constexpr int kMaxNesting = 64;
constexpr size_t kMaxStopStrings = 4;

const char* type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an unknown value";
  }
}

ApiError wrong_type(const std::string& param, const char* expected, const Json& got) {
  return ApiError::bad_param(param, param + ": expected " + expected + ", got " + type_name(got));
}

// The deepest nesting of arrays and objects, counted outside strings.
void check_nesting(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        throw ApiError(400, "the JSON body nests deeper than " + std::to_string(kMaxNesting) + " levels");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

Json parse_body(std::string_view body) {
  if (body.empty()) throw ApiError(400, "the request has no body: expected a JSON object");
  check_nesting(body);
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw ApiError(400, "the body is not valid JSON");
  if (!json.is_object()) throw ApiError(400, std::string("the body must be a JSON object, got ") + type_name(json));
  return json;
}

// The member `name`, or null when absent (OpenAI treats null as "not given").
const Json& member(const Json& body, const char* name) {
  static const Json kNull;  // immutable
  const auto it = body.find(name);
  return it == body.end() ? kNull : *it;
}

std::optional<double> number_in(const Json& body, const char* name, double lo, double hi) {
  const Json& v = member(body, name);
  if (v.is_null()) return std::nullopt;
  if (!v.is_number()) throw wrong_type(name, "a number", v);
  const double x = v.get<double>();
  if (!(x >= lo && x <= hi)) {
    throw ApiError::bad_param(name, std::string(name) + ": " + std::to_string(x) + " is outside [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return x;
}

std::optional<int64_t> integer(const Json& body, const char* name) {
  const Json& v = member(body, name);
  if (v.is_null()) return std::nullopt;
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) throw ApiError::bad_param(name, std::string(name) + ": too large");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  throw wrong_type(name, "an integer", v);
}

std::optional<bool> boolean(const Json& body, const char* name) {
  const Json& v = member(body, name);
  if (v.is_null()) return std::nullopt;
  if (!v.is_boolean()) throw wrong_type(name, "a boolean", v);
  return v.get<bool>();
}

std::vector<std::string> stop_strings(const Json& body) {
  const Json& v = member(body, "stop");
  std::vector<std::string> stops;
  if (v.is_null()) return stops;
  if (v.is_string()) {
    stops.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    if (v.size() > kMaxStopStrings) {
      throw ApiError::bad_param("stop", "stop: at most " + std::to_string(kMaxStopStrings) + " strings");
    }
    for (const Json& s : v) {
      if (!s.is_string()) throw wrong_type("stop", "a string or an array of strings", s);
      stops.push_back(s.get<std::string>());
    }
  } else {
    throw wrong_type("stop", "a string or an array of strings", v);
  }
  for (const std::string& s : stops) {
    if (s.empty()) throw ApiError::bad_param("stop", "stop: an empty stop string would stop at once");
  }
  return stops;
}

// The parameters both endpoints share.
ParsedRequest common_parameters(const Json& body, int64_t context_tokens, const char* max_tokens_name,
                                std::optional<int64_t> default_max_tokens) {
  ParsedRequest parsed;
  const Json& model = member(body, "model");
  if (!model.is_null() && !model.is_string()) throw wrong_type("model", "a string", model);
  parsed.stream = boolean(body, "stream").value_or(false);
  const Json& options = member(body, "stream_options");
  if (!options.is_null()) {
    if (!options.is_object()) throw wrong_type("stream_options", "an object", options);
    parsed.include_usage = boolean(options, "include_usage").value_or(false);
  }
  SamplingParams& s = parsed.completion.sampling;
  s.temperature = number_in(body, "temperature", 0, 2).value_or(1.0);
  s.top_p = number_in(body, "top_p", 0, 1).value_or(1.0);
  // Sieve's sampler lowers repeated tokens only; negative values would raise them.
  s.frequency_penalty = number_in(body, "frequency_penalty", 0, 2).value_or(0.0);
  s.presence_penalty = number_in(body, "presence_penalty", 0, 2).value_or(0.0);
  s.max_tokens = integer(body, max_tokens_name);
  if (!s.max_tokens) s.max_tokens = default_max_tokens;
  if (s.max_tokens && (*s.max_tokens < 1 || *s.max_tokens > context_tokens)) {
    throw ApiError::bad_param(max_tokens_name, std::string(max_tokens_name) + ": " + std::to_string(*s.max_tokens) +
                                                   " is outside [1, " + std::to_string(context_tokens) +
                                                   "], the model's context");
  }
  s.stop = stop_strings(body);
  if (const std::optional<int64_t> seed = integer(body, "seed")) s.seed = static_cast<uint64_t>(*seed);
  if (const std::optional<int64_t> n = integer(body, "n"); n && *n != 1) {
    throw ApiError::bad_param("n", "n: only one choice per request is supported");
  }
  return parsed;
}

// A message's content: a string, or an array of {"type": "text", "text": ...} parts.
std::string message_content(const Json& content, const std::string& param) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw wrong_type(param, "a string or an array of text parts", content);
  std::string text;
  for (const Json& part : content) {
    if (!part.is_object() || member(part, "type") != "text" || !member(part, "text").is_string()) {
      throw ApiError::bad_param(param, param + ": only parts {\"type\": \"text\", \"text\": \"...\"} are supported");
    }
    text += member(part, "text").get<std::string>();
  }
  return text;
}

std::vector<Message> chat_messages(const Json& body) {
  const Json& list = member(body, "messages");
  if (list.is_null()) throw ApiError::bad_param("messages", "messages: required");
  if (!list.is_array()) throw wrong_type("messages", "an array", list);
  if (list.empty()) throw ApiError::bad_param("messages", "messages: at least one message is required");
  std::vector<Message> messages;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string param = "messages[" + std::to_string(i) + "]";
    const Json& m = list[i];
    if (!m.is_object()) throw wrong_type(param, "an object", m);
    const Json& role = member(m, "role");
    if (!role.is_string()) throw wrong_type(param + ".role", "a string", role);
    std::string r = role.get<std::string>();
    if (r == "developer") r = "system";  // OpenAI's newer name for the system role
    if (r != "system" && r != "user" && r != "assistant") {
      throw ApiError::bad_param(param + ".role", param + ".role: '" + role.get<std::string>() +
                                                     "' is not supported (system, developer, user, assistant)");
    }
    messages.push_back({std::move(r), message_content(member(m, "content"), param + ".content")});
  }
  return messages;
}

void refuse_unsupported(const Json& body) {
  if (boolean(body, "logprobs").value_or(false)) {
    throw ApiError::bad_param("logprobs", "logprobs: not supported by this server");
  }
  const Json& tools = member(body, "tools");
  if (!tools.is_null() && !(tools.is_array() && tools.empty())) {
    throw ApiError::bad_param("tools", "tools: tool calls are not supported by this server");
  }
}

}  // namespace

ParsedRequest parse_chat_request(std::string_view body_text, int64_t context_tokens) {
  const Json body = parse_body(body_text);
  const char* max_name = member(body, "max_completion_tokens").is_null() ? "max_tokens" : "max_completion_tokens";
  ParsedRequest parsed = common_parameters(body, context_tokens, max_name, std::nullopt);
  refuse_unsupported(body);
  parsed.completion.kind = CompletionRequest::Kind::chat;
  parsed.completion.messages = chat_messages(body);
  return parsed;
}

ParsedRequest parse_completion_request(std::string_view body_text, int64_t context_tokens) {
  const Json body = parse_body(body_text);
  // OpenAI's legacy completions stop after 16 tokens unless told otherwise.
  ParsedRequest parsed = common_parameters(body, context_tokens, "max_tokens", std::min<int64_t>(16, context_tokens));
  if (member(body, "logprobs").is_number() && member(body, "logprobs") != 0) {
    throw ApiError::bad_param("logprobs", "logprobs: not supported by this server");
  }
  if (boolean(body, "echo").value_or(false)) throw ApiError::bad_param("echo", "echo: not supported by this server");
  const Json& suffix = member(body, "suffix");
  if (!suffix.is_null() && !(suffix.is_string() && suffix.get<std::string>().empty())) {
    throw ApiError::bad_param("suffix", "suffix: not supported by this server");
  }
  const Json& prompt = member(body, "prompt");
  parsed.completion.kind = CompletionRequest::Kind::text;
  if (prompt.is_string()) {
    parsed.completion.prompt = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    parsed.completion.prompt = prompt[0].get<std::string>();
  } else if (prompt.is_null()) {
    throw ApiError::bad_param("prompt", "prompt: required");
  } else {
    throw ApiError::bad_param("prompt", "prompt: expected a string (or an array of one string)");
  }
  if (parsed.completion.prompt.empty()) throw ApiError::bad_param("prompt", "prompt: empty");
  return parsed;
}

}  // namespace sieve::server
