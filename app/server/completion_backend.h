#pragma once
// What the HTTP server asks of whoever runs the model: one narrow interface,
// so `sieve serve` backs it with the engine on the calling thread
// (engine_backend.h) and the desktop app can back it with its inference
// worker thread. The server calls complete() for one request at a time
// (GenerationQueue), from one of its connection threads.

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::server {

struct Message {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// OpenAI's sampling parameters, validated (request_parsing.h).
struct SamplingParams {
  double temperature = 1.0;  // 0: greedy
  double top_p = 1.0;        // 1: off
  double frequency_penalty = 0;  // 0 to 2: lowers a token by this much per time it appeared recently
  double presence_penalty = 0;   // 0 to 2: lowers a token that appeared recently
  std::optional<int64_t> max_tokens;  // none: until the model stops or the context is full
  std::vector<std::string> stop;      // at most 4, none empty
  std::optional<uint64_t> seed;       // none: a fresh random seed per request
};

struct CompletionRequest {
  enum class Kind { chat, text };
  Kind kind = Kind::chat;
  std::vector<Message> messages;  // Kind::chat: formatted with the model's chat template
  std::string prompt;             // Kind::text: continued as is
  SamplingParams sampling;
};

enum class FinishReason { stop, length };

struct CompletionResult {
  std::string text;
  FinishReason finish = FinishReason::stop;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool cancelled = false;  // on_piece returned false (the client left) or the server stops
};

// A request the backend cannot run as asked (a prompt longer than the
// context, a conversation the chat template rejects): the client's fault, a 400.
class RejectedRequest : public std::runtime_error {
 public:
  RejectedRequest(const std::string& message, std::string code)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }  // OpenAI's error code, e.g. "context_length_exceeded"

 private:
  std::string code_;
};

class CompletionBackend {
 public:
  // Receives each newly complete piece of text (valid UTF-8, stop strings
  // already removed); returns false to cancel the generation, which then ends
  // before the next token is computed.
  using PieceSink = std::function<bool(std::string_view piece)>;

  virtual ~CompletionBackend() = default;
  // The model's name as GET /v1/models lists it.
  virtual std::string model_id() const = 0;
  // The context size in tokens: max_tokens above it is refused.
  virtual int64_t context_tokens() const = 0;
  // Why no request can run now (the desktop app has no model loaded), or none.
  // Checked before a generation request is parsed or queued: answered 503
  // (code "model_not_loaded"), and GET /v1/models lists no model.
  virtual std::optional<std::string> unavailable() const { return std::nullopt; }
  // Runs one request. Throws RejectedRequest for a request the model cannot
  // run, ApiError (api_error.h) for an answer of its own (a 503 when the model
  // went away meanwhile), any other exception for a failure of the backend
  // itself (a 500).
  virtual CompletionResult complete(const CompletionRequest& request, const PieceSink& on_piece) = 0;
};

}  // namespace sieve::server
