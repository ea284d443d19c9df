#pragma once
// Request bodies of POST /v1/chat/completions and /v1/completions: JSON text
// to a CompletionRequest, or an ApiError (400) naming the parameter that is
// missing, of the wrong type or out of range. Parameters the server does not
// use (user, logprobs: false, ...) are ignored, as OpenAI-compatible servers
// do; those whose meaning it cannot honour (n > 1, logprobs: true, tools)
// are refused rather than silently dropped.

#include <cstdint>
#include <string_view>

#include "server/completion_backend.h"

namespace sieve::server {

struct ParsedRequest {
  CompletionRequest completion;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage counts
};

// `context_tokens` bounds max_tokens. Throws ApiError.
ParsedRequest parse_chat_request(std::string_view body, int64_t context_tokens);
ParsedRequest parse_completion_request(std::string_view body, int64_t context_tokens);

}  // namespace sieve::server
