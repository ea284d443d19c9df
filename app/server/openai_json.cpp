#include "server/openai_json.h"

#include <nlohmann/json.hpp>

namespace sieve::server {
namespace {

// Members in the order OpenAI writes them, for people reading the output.
using Json = nlohmann::ordered_json;

// Generated text is valid UTF-8 (the detokenizer holds back split
// characters); replace, never throw, should a model's bytes not be.
std::string text_of(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json optional_text(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

Json usage(const CompletionResult& result) {
  return {{"prompt_tokens", result.prompt_tokens},
          {"completion_tokens", result.completion_tokens},
          {"total_tokens", result.prompt_tokens + result.completion_tokens}};
}

Json envelope(const ResponseIdentity& who, const char* object) {
  return {{"id", who.id}, {"object", object}, {"created", who.created}, {"model", who.model}};
}

Json model_object(const std::string& model_id, int64_t created) {
  return {{"id", model_id}, {"object", "model"}, {"created", created}, {"owned_by", "sieve"}};
}

std::string chat_chunk(const ResponseIdentity& who, Json delta, Json finish_reason) {
  Json chunk = envelope(who, "chat.completion.chunk");
  chunk["choices"] = Json::array({{{"index", 0},
                                   {"delta", std::move(delta)},
                                   {"logprobs", nullptr},
                                   {"finish_reason", std::move(finish_reason)}}});
  return text_of(chunk);
}

std::string text_chunk(const ResponseIdentity& who, std::string_view text, Json finish_reason) {
  Json chunk = envelope(who, "text_completion");
  chunk["choices"] = Json::array(
      {{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", std::move(finish_reason)}}});
  return text_of(chunk);
}

}  // namespace

const char* finish_reason_name(FinishReason reason) { return reason == FinishReason::length ? "length" : "stop"; }

std::string error_body(const ApiError& error) {
  return text_of({{"error",
                   {{"message", error.what()},
                    {"type", error.type()},
                    {"param", optional_text(error.param())},
                    {"code", optional_text(error.code())}}}});
}

std::string models_body(const std::string& model_id, int64_t created) {
  return text_of({{"object", "list"}, {"data", Json::array({model_object(model_id, created)})}});
}

std::string no_models_body() { return text_of({{"object", "list"}, {"data", Json::array()}}); }

std::string model_body(const std::string& model_id, int64_t created) {
  return text_of(model_object(model_id, created));
}

std::string chat_completion_body(const ResponseIdentity& who, const CompletionResult& result) {
  Json body = envelope(who, "chat.completion");
  body["choices"] = Json::array({{{"index", 0},
                                  {"message", {{"role", "assistant"}, {"content", result.text}}},
                                  {"logprobs", nullptr},
                                  {"finish_reason", finish_reason_name(result.finish)}}});
  body["usage"] = usage(result);
  return text_of(body);
}

std::string chat_role_chunk(const ResponseIdentity& who) {
  return chat_chunk(who, {{"role", "assistant"}, {"content", ""}}, nullptr);
}

std::string chat_piece_chunk(const ResponseIdentity& who, std::string_view piece) {
  return chat_chunk(who, {{"content", piece}}, nullptr);
}

std::string chat_finish_chunk(const ResponseIdentity& who, FinishReason reason) {
  return chat_chunk(who, Json::object(), finish_reason_name(reason));
}

std::string usage_chunk(const ResponseIdentity& who, const char* object, const CompletionResult& result) {
  Json chunk = envelope(who, object);
  chunk["choices"] = Json::array();
  chunk["usage"] = usage(result);
  return text_of(chunk);
}

std::string text_completion_body(const ResponseIdentity& who, const CompletionResult& result) {
  Json body = envelope(who, "text_completion");
  body["choices"] = Json::array({{{"text", result.text},
                                  {"index", 0},
                                  {"logprobs", nullptr},
                                  {"finish_reason", finish_reason_name(result.finish)}}});
  body["usage"] = usage(result);
  return text_of(body);
}

std::string text_piece_chunk(const ResponseIdentity& who, std::string_view piece) {
  return text_chunk(who, piece, nullptr);
}

std::string text_finish_chunk(const ResponseIdentity& who, FinishReason reason) {
  return text_chunk(who, "", finish_reason_name(reason));
}

}  // namespace sieve::server
