#pragma once
// The bodies the server answers with, in the shapes of OpenAI's API
// (https://platform.openai.com/docs/api-reference): model lists, chat
// completions and their stream chunks, text completions, errors. Compact JSON
// text, one line, so a body is also one SSE data line.

#include <cstdint>
#include <string>
#include <string_view>

#include "server/api_error.h"
#include "server/completion_backend.h"

namespace sieve::server {

// Who answers and when: the parts every object of one response shares.
struct ResponseIdentity {
  std::string id;     // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

std::string error_body(const ApiError& error);
std::string models_body(const std::string& model_id, int64_t created);
// GET /v1/models while no model is loaded (the desktop app's server): an empty list.
std::string no_models_body();
std::string model_body(const std::string& model_id, int64_t created);

const char* finish_reason_name(FinishReason reason);

// POST /v1/chat/completions, stream: false.
std::string chat_completion_body(const ResponseIdentity& who, const CompletionResult& result);
// stream: true — the first chunk (the assistant role), one per piece, the last
// (finish_reason), and with stream_options.include_usage one with the usage.
std::string chat_role_chunk(const ResponseIdentity& who);
std::string chat_piece_chunk(const ResponseIdentity& who, std::string_view piece);
std::string chat_finish_chunk(const ResponseIdentity& who, FinishReason reason);
std::string usage_chunk(const ResponseIdentity& who, const char* object, const CompletionResult& result);

// POST /v1/completions, stream: false and true.
std::string text_completion_body(const ResponseIdentity& who, const CompletionResult& result);
std::string text_piece_chunk(const ResponseIdentity& who, std::string_view piece);
std::string text_finish_chunk(const ResponseIdentity& who, FinishReason reason);

}  // namespace sieve::server
