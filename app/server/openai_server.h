#pragma once
// A local HTTP server speaking OpenAI's API over a CompletionBackend:
//   GET  /v1/models, /v1/models/{id}
//   POST /v1/chat/completions   (stream: true answers with server-sent events)
//   POST /v1/completions
// Errors come in OpenAI's JSON shape with their HTTP status (400 bad request,
// 401 wrong or missing API key, 404, 405, 413 body too large, 503 queue full,
// 500). One generation runs at a time; the others wait in a FIFO queue
// (generation_queue.h). A streaming client that disconnects stops its
// generation at the next token (its write fails) and one waiting in the queue
// gives up its place. Slow clients are bounded by read and write timeouts and
// cannot hold the generation: each connection has its own thread.
//
// HTTP is cpp-httplib (Debian libcpp-httplib-dev), kept out of this header so
// the desktop app can include it without it. docs/server.md has the details.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/completion_backend.h"

namespace sieve::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port (bind() returns it)
  std::optional<std::string> api_key;  // set: requests need "Authorization: Bearer KEY"
  size_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  size_t max_waiting = 8;           // generations waiting beyond this get 503
  int threads = 32;                 // connections served at once (waiting ones included)
  std::chrono::seconds read_timeout{10};   // a client silent this long mid-request is dropped
  std::chrono::seconds write_timeout{10};  // a client not reading this long is dropped
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::milliseconds queue_poll{250};  // how often a waiting request checks its client
  // One line per request ("POST /v1/chat/completions 200 stream"); null: quiet.
  std::function<void(const std::string&)> log;
};

// What the server is doing, for a "requests in flight" display.
struct ServerActivity {
  bool generating = false;
  size_t waiting = 0;
};

class OpenAiServer {
 public:
  // `backend` must outlive the server.
  OpenAiServer(CompletionBackend& backend, ServerOptions options);
  ~OpenAiServer();
  OpenAiServer(const OpenAiServer&) = delete;
  OpenAiServer& operator=(const OpenAiServer&) = delete;

  // Binds options.host:options.port; returns the port. Throws
  // std::runtime_error when the address cannot be bound.
  int bind();
  // Serves until stop(); returns then. Call after bind().
  void run();
  // From any thread: stops accepting, cancels the generation in progress at
  // its next token and the requests waiting; run() then returns.
  void stop();

  ServerActivity activity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sieve::server
