#include "server/openai_server.h"

#include <httplib.h>

#include <atomic>
#include <ctime>
#include <random>
#include <stdexcept>

#include "server/api_error.h"
#include "server/generation_queue.h"
#include "server/openai_json.h"
#include "server/request_parsing.h"
#include "server/sse.h"

namespace sieve::server {
namespace {

constexpr const char* kJson = "application/json";

void answer_error(httplib::Response& res, const ApiError& error) {
  res.status = error.status();
  res.set_content(error_body(error), kJson);
}

// The message of an error cpp-httplib answered itself (an empty body).
std::string status_message(int status) {
  switch (status) {
    case 400: return "the request is not valid HTTP";
    case 404: return "no such endpoint; see GET /v1/models, POST /v1/chat/completions, POST /v1/completions";
    case 413: return "the request body is larger than this server accepts";
    case 414: return "the request URI is too long";
    default: return "HTTP error " + std::to_string(status);
  }
}

// Compares without stopping at the first difference, so response times do
// not tell how much of a guessed key was right.
bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

}  // namespace

struct OpenAiServer::Impl {
  Impl(CompletionBackend& b, ServerOptions o)
      : backend(b), options(std::move(o)), queue(options.max_waiting), started(std::time(nullptr)) {}

  CompletionBackend& backend;
  ServerOptions options;
  GenerationQueue queue;
  httplib::Server http;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> requests{0};
  const int64_t started;
  const uint64_t id_salt = std::random_device{}();

  void install_routes();
  httplib::Server::HandlerResponse check_api_key(const httplib::Request& req, httplib::Response& res) const;
  void handle_generation(const httplib::Request& req, httplib::Response& res, CompletionRequest::Kind kind);
  void respond_whole(const ParsedRequest& parsed, GenerationQueue::Ticket ticket, const ResponseIdentity& who,
                     httplib::Response& res);
  void respond_stream(ParsedRequest parsed, GenerationQueue::Ticket ticket, ResponseIdentity who,
                      httplib::Response& res);
  ResponseIdentity identity(CompletionRequest::Kind kind);
};

ResponseIdentity OpenAiServer::Impl::identity(CompletionRequest::Kind kind) {
  char id[40];
  std::snprintf(id, sizeof id, "%s-%016llx%llu", kind == CompletionRequest::Kind::chat ? "chatcmpl" : "cmpl",
                static_cast<unsigned long long>(id_salt), static_cast<unsigned long long>(++requests));
  return {id, static_cast<int64_t>(std::time(nullptr)), backend.model_id()};
}

httplib::Server::HandlerResponse OpenAiServer::Impl::check_api_key(const httplib::Request& req,
                                                                  httplib::Response& res) const {
  using R = httplib::Server::HandlerResponse;
  if (!options.api_key) return R::Unhandled;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.empty()) {
    answer_error(res, ApiError(401, "no API key given: send the header \"Authorization: Bearer KEY\"",
                               "invalid_request_error", std::nullopt, "invalid_api_key"));
    return R::Handled;
  }
  if (header.rfind(prefix, 0) != 0 || !same_secret(header.substr(prefix.size()), *options.api_key)) {
    answer_error(res, ApiError(401, "incorrect API key", "invalid_request_error", std::nullopt, "invalid_api_key"));
    return R::Handled;
  }
  return R::Unhandled;
}

void OpenAiServer::Impl::install_routes() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return check_api_key(req, res);
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(backend.unavailable() ? no_models_body() : models_body(backend.model_id(), started), kJson);
  });
  http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    if (backend.unavailable() || req.matches[1] != backend.model_id()) {
      answer_error(res, ApiError(404, "the model '" + std::string(req.matches[1]) + "' does not exist",
                                 "invalid_request_error", "model", "model_not_found"));
      return;
    }
    res.set_content(model_body(backend.model_id(), started), kJson);
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(req, res, CompletionRequest::Kind::chat);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(req, res, CompletionRequest::Kind::text);
  });
  const auto wrong_method = [](const httplib::Request& req, httplib::Response& res) {
    answer_error(res, ApiError(405, req.method + " is not allowed on " + req.path));
  };
  http.Get("/v1/chat/completions", wrong_method);
  http.Get("/v1/completions", wrong_method);
  http.Post(R"(/v1/models(/.*)?)", wrong_method);
  // Errors cpp-httplib answers itself (404, 413, a malformed request) get a body in OpenAI's shape.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && !res.is_chunked_content_provider_) {
      answer_error(res, ApiError(res.status, status_message(res.status)));
    }
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string what = "internal error";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what += std::string(": ") + e.what();
    } catch (...) {
    }
    answer_error(res, ApiError(500, what, "server_error"));
  });
  if (options.log) {
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      options.log(req.method + " " + req.path + " " + std::to_string(res.status) +
                  (res.get_header_value("Content-Type") == "text/event-stream" ? " stream" : ""));
    });
  }
}

void OpenAiServer::Impl::handle_generation(const httplib::Request& req, httplib::Response& res,
                                           CompletionRequest::Kind kind) {
  try {
    if (const std::optional<std::string> why = backend.unavailable()) {
      throw ApiError(503, *why, "server_error", std::nullopt, "model_not_loaded");
    }
    const int64_t context = backend.context_tokens();
    ParsedRequest parsed = kind == CompletionRequest::Kind::chat ? parse_chat_request(req.body, context)
                                                                 : parse_completion_request(req.body, context);
    std::optional<GenerationQueue::Ticket> ticket = queue.take();
    if (!ticket) {
      throw ApiError(503, "the server is busy: " + std::to_string(options.max_waiting) +
                              " requests are already waiting; retry later",
                     "server_error", std::nullopt, "server_busy");
    }
    ResponseIdentity who = identity(kind);
    if (parsed.stream) {
      respond_stream(std::move(parsed), std::move(*ticket), std::move(who), res);
    } else {
      respond_whole(parsed, std::move(*ticket), who, res);
    }
  } catch (const ApiError& e) {
    answer_error(res, e);
  }
}

// stream: false. The answer is complete before its status is chosen, so a
// prompt longer than the context is a 400 like any other bad request.
void OpenAiServer::Impl::respond_whole(const ParsedRequest& parsed, GenerationQueue::Ticket ticket,
                                       const ResponseIdentity& who, httplib::Response& res) {
  if (!ticket.wait_turn([this] { return !stopping.load(); }, options.queue_poll)) {
    throw ApiError(503, "the server is stopping", "server_error");
  }
  try {
    const CompletionResult result =
        backend.complete(parsed.completion, [this](std::string_view) { return !stopping.load(); });
    if (result.cancelled) throw ApiError(503, "the server is stopping", "server_error");
    const bool chat = parsed.completion.kind == CompletionRequest::Kind::chat;
    res.set_content(chat ? chat_completion_body(who, result) : text_completion_body(who, result), kJson);
  } catch (const RejectedRequest& e) {
    throw ApiError(400, e.what(), "invalid_request_error", std::nullopt, e.code());
  } catch (const ApiError&) {
    throw;
  } catch (const std::exception& e) {
    throw ApiError(500, std::string("generation failed: ") + e.what(), "server_error");
  }
}

// stream: true. The status (200) goes out first; the request then waits for
// its turn, sending comment lines, and streams its pieces as events. A write
// that fails (the client left) cancels the generation before its next token.
// An error found once streaming is an event {"error": {...}} before [DONE].
void OpenAiServer::Impl::respond_stream(ParsedRequest parsed, GenerationQueue::Ticket ticket, ResponseIdentity who,
                                        httplib::Response& res) {
  struct Stream {
    ParsedRequest parsed;
    GenerationQueue::Ticket ticket;
    ResponseIdentity who;
  };
  auto stream = std::make_shared<Stream>(Stream{std::move(parsed), std::move(ticket), std::move(who)});
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [this, stream](size_t, httplib::DataSink& sink) {
    const auto send = [&sink](const std::string& text) { return sink.write(text.data(), text.size()); };
    const bool chat = stream->parsed.completion.kind == CompletionRequest::Kind::chat;
    const ResponseIdentity& who = stream->who;
    bool client_there = stream->ticket.wait_turn(
        [&] { return !stopping.load() && send(sse_comment("waiting for an earlier request")); },
        options.queue_poll);
    if (!client_there) return false;
    if (chat && !send(sse_event(chat_role_chunk(who)))) return false;
    try {
      const CompletionResult result = backend.complete(stream->parsed.completion, [&](std::string_view piece) {
        if (stopping.load()) return false;
        return send(sse_event(chat ? chat_piece_chunk(who, piece) : text_piece_chunk(who, piece)));
      });
      if (result.cancelled) {
        if (options.log) {
          options.log("client left: generation cancelled after " + std::to_string(result.completion_tokens) +
                      " tokens");
        }
        return false;
      }
      if (!send(sse_event(chat ? chat_finish_chunk(who, result.finish) : text_finish_chunk(who, result.finish)))) {
        return false;
      }
      if (stream->parsed.include_usage &&
          !send(sse_event(usage_chunk(who, chat ? "chat.completion.chunk" : "text_completion", result)))) {
        return false;
      }
    } catch (const RejectedRequest& e) {
      send(sse_event(error_body(ApiError(400, e.what(), "invalid_request_error", std::nullopt, e.code()))));
    } catch (const ApiError& e) {
      send(sse_event(error_body(e)));
    } catch (const std::exception& e) {
      send(sse_event(error_body(ApiError(500, std::string("generation failed: ") + e.what(), "server_error"))));
    }
    send(sse_done());
    sink.done();
    return true;
  });
}

OpenAiServer::OpenAiServer(CompletionBackend& backend, ServerOptions options)
    : impl_(std::make_unique<Impl>(backend, std::move(options))) {
  const ServerOptions& o = impl_->options;
  const size_t threads = static_cast<size_t>(std::max(2, o.threads));
  impl_->http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl_->http.set_read_timeout(o.read_timeout.count(), 0);
  impl_->http.set_write_timeout(o.write_timeout.count(), 0);
  impl_->http.set_keep_alive_timeout(o.keep_alive_timeout.count());
  impl_->http.set_payload_max_length(o.max_body_bytes);
  impl_->install_routes();
}

OpenAiServer::~OpenAiServer() { stop(); }

int OpenAiServer::bind() {
  const ServerOptions& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->http.bind_to_any_port(o.host);
    if (port < 0) throw std::runtime_error("cannot listen on " + o.host + " (any port)");
    return port;
  }
  if (!impl_->http.bind_to_port(o.host, o.port)) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (in use, or not an address of this machine?)");
  }
  return o.port;
}

void OpenAiServer::run() {
  if (!impl_->stopping.load()) impl_->http.listen_after_bind();
}

void OpenAiServer::stop() {
  impl_->stopping.store(true);
  impl_->http.stop();
}

ServerActivity OpenAiServer::activity() const {
  return {impl_->queue.running(), impl_->queue.waiting()};
}

}  // namespace sieve::server
