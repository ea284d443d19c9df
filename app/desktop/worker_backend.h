#pragma once
// The local server's CompletionBackend in the desktop app (server/completion_backend.h):
// the app's own loaded model, run by its InferenceWorker. The server's
// connection threads never touch the engine: complete() queues a
// GenerationRequest on the worker (behind whatever the chat already queued
// there, in order), then waits for the worker's pieces, which its signals hand
// over through a mutex, and passes them to the client from the connection
// thread; the worker goes on to the next token once the piece was sent. A
// client that leaves (its write fails) cancels its request alone
// (InferenceWorker::cancelOne): the engine stops before its next token.
//
// Chat completions go through the worker's chat path, so the model's chat
// template, its end of turn and the KV cache reuse are the chat's own
// (chat::ChatSession). Text completions (/v1/completions) are requests with a
// raw prompt: the worker continues the text as it is, without the template
// (chat/text_continuation.h, as `sieve serve` does), and cancels the same way.

#include <QMetaObject>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/completion_backend.h"

namespace sieve::app {

class InferenceWorker;

class WorkerBackend : public server::CompletionBackend {
 public:
  // `worker` must outlive the backend.
  explicit WorkerBackend(InferenceWorker& worker);
  ~WorkerBackend() override;
  WorkerBackend(const WorkerBackend&) = delete;
  WorkerBackend& operator=(const WorkerBackend&) = delete;

  // The model the app has loaded (its id as GET /v1/models lists it, its
  // context); an empty id: none, and requests get 503. Any thread.
  void setModel(std::string id, int64_t contextTokens);
  // Ends the request in progress as cancelled (its generation stops at its
  // next token) and every later one at once. Any thread; the server is stopping.
  void stop();

  std::string model_id() const override;
  int64_t context_tokens() const override;
  std::optional<std::string> unavailable() const override;
  server::CompletionResult complete(const server::CompletionRequest& request, const PieceSink& on_piece) override;

 private:
  struct Shared;  // with the worker's signal handlers, which may run after this is gone
  std::shared_ptr<Shared> shared_;
  InferenceWorker& worker_;
  QMetaObject::Connection tokens_;
  QMetaObject::Connection finished_;
};

}  // namespace sieve::app
