#include "desktop/worker_backend.h"

#include <QObject>
#include <algorithm>
#include <climits>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "desktop/inference_worker.h"
#include "server/api_error.h"
#include "server/openai_sampling.h"

namespace sieve::app {
namespace {

const char* const kNoModel = "no model loaded in Sieve: load one in the app first";

GenerationRequest toGenerationRequest(quint64 id, const server::CompletionRequest& request, int64_t context) {
  GenerationRequest g;
  g.id = id;
  if (request.kind == server::CompletionRequest::Kind::text) g.rawPrompt = QString::fromStdString(request.prompt);
  for (const server::Message& m : request.messages) {
    g.messages.append({QString::fromStdString(m.role), QString::fromStdString(m.content)});
  }
  g.sampling = server::sampler_options(request.sampling);
  g.maxTokens = int(std::min<int64_t>(request.sampling.max_tokens.value_or(context), INT_MAX));
  g.allowDropping = false;  // a conversation too long is the client's to shorten: a 400
  return g;
}

[[noreturn]] void rejectTooLong(const server::CompletionRequest& request, const GenerationResult& r) {
  if (request.kind == server::CompletionRequest::Kind::text) {  // the worker says how long the prompt is
    throw server::RejectedRequest(r.error.toStdString(), "context_length_exceeded");
  }
  throw server::RejectedRequest("the conversation does not fit in the model's context of " +
                                    std::to_string(r.context) + " tokens with room for a reply",
                                "context_length_exceeded");
}

}  // namespace

// What the worker's signal handlers (on the worker's thread) hand to the
// connection thread waiting in complete(), and the model it may run.
struct WorkerBackend::Shared {
  std::mutex mutex;
  std::condition_variable changed;
  std::string modelId;  // empty: no model
  int64_t context = 0;
  bool stopping = false;
  quint64 activeId = 0;  // the request complete() waits for; 0: none
  std::deque<std::string> pieces;  // arrived, not yet passed on
  uint64_t arrived = 0;    // pieces of activeId, and how many of them the client has been sent
  uint64_t delivered = 0;
  std::optional<GenerationResult> result;
};

WorkerBackend::WorkerBackend(InferenceWorker& worker) : shared_(std::make_shared<Shared>()), worker_(worker) {
  // No context object: run directly on the worker's thread, holding `shared`
  // (not `this`), so a signal still being delivered while this goes is safe.
  // The worker waits until the client has been sent each piece (or the
  // request was given up), as `sieve serve` does: a client that left has
  // cancelled before the next token is computed. A stuck client holds the
  // worker no longer than the server's write timeout.
  tokens_ = QObject::connect(&worker, &InferenceWorker::tokenGenerated, [shared = shared_](quint64 id, const QString& text) {
    std::unique_lock lock(shared->mutex);
    if (id != shared->activeId) return;  // the chat's, or a request this backend gave up
    shared->pieces.push_back(text.toStdString());
    const uint64_t piece = ++shared->arrived;
    shared->changed.notify_all();
    shared->changed.wait(lock, [&] {
      return shared->delivered >= piece || shared->stopping || shared->activeId != id;
    });
  });
  finished_ = QObject::connect(&worker, &InferenceWorker::generationFinished, [shared = shared_](const GenerationResult& r) {
    const std::lock_guard lock(shared->mutex);
    if (r.id != shared->activeId) return;
    shared->result = r;
    shared->changed.notify_all();
  });
}

WorkerBackend::~WorkerBackend() {
  QObject::disconnect(tokens_);
  QObject::disconnect(finished_);
}

void WorkerBackend::setModel(std::string id, int64_t contextTokens) {
  const std::lock_guard lock(shared_->mutex);
  shared_->modelId = std::move(id);
  shared_->context = shared_->modelId.empty() ? 0 : contextTokens;
}

void WorkerBackend::stop() {
  const std::lock_guard lock(shared_->mutex);
  shared_->stopping = true;
  if (shared_->activeId != 0) worker_.cancelOne(shared_->activeId);
  shared_->changed.notify_all();
}

std::string WorkerBackend::model_id() const {
  const std::lock_guard lock(shared_->mutex);
  return shared_->modelId;
}

int64_t WorkerBackend::context_tokens() const {
  const std::lock_guard lock(shared_->mutex);
  return shared_->context;
}

std::optional<std::string> WorkerBackend::unavailable() const {
  const std::lock_guard lock(shared_->mutex);
  if (shared_->modelId.empty()) return std::string(kNoModel);
  return std::nullopt;
}

server::CompletionResult WorkerBackend::complete(const server::CompletionRequest& request, const PieceSink& on_piece) {
  const bool chat = request.kind == server::CompletionRequest::Kind::chat;
  if (chat && (request.messages.empty() || request.messages.back().role != "user")) {
    throw server::RejectedRequest("messages: the last message must be the user's", "invalid_messages");
  }
  server::CompletionResult out;
  const quint64 id = worker_.newRequestId();
  GenerationRequest generation;
  {
    const std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) {
      out.cancelled = true;
      return out;
    }
    if (shared_->modelId.empty()) throw server::ApiError(503, kNoModel, "server_error", std::nullopt, "model_not_loaded");
    generation = toGenerationRequest(id, request, shared_->context);
    shared_->activeId = id;
    shared_->pieces.clear();
    shared_->arrived = shared_->delivered = 0;
    shared_->result.reset();
  }
  // Queued behind what the worker already has (the chat's replies, a model load), in order.
  QMetaObject::invokeMethod(&worker_, [worker = &worker_, generation] { worker->generate(generation); },
                            Qt::QueuedConnection);

  server::PieceFilter filter(request.sampling.stop, on_piece, [this, id] { worker_.cancelOne(id); });
  GenerationResult result;
  bool serverStopped = false;
  for (;;) {
    std::deque<std::string> ready;
    {
      std::unique_lock lock(shared_->mutex);
      shared_->changed.wait(lock, [&] { return !shared_->pieces.empty() || shared_->result || shared_->stopping; });
      ready.swap(shared_->pieces);
      if (ready.empty()) {  // every piece passed on: the end, or the server stopping
        serverStopped = !shared_->result;
        if (shared_->result) result = *shared_->result;
        shared_->activeId = 0;
        shared_->result.reset();
        shared_->changed.notify_all();  // a worker waiting on a piece goes on
        break;
      }
    }
    for (const std::string& piece : ready) filter.push(piece);  // the client's writes, outside the lock
    const std::lock_guard lock(shared_->mutex);
    shared_->delivered += ready.size();
    shared_->changed.notify_all();
  }
  if (serverStopped) {
    worker_.cancelOne(id);  // stop() did too if it was running; this covers one still queued
    out.text = filter.text();
    out.cancelled = true;
    return out;
  }
  filter.finish();

  using End = GenerationResult::End;
  if (result.end == End::Overflow) rejectTooLong(request, result);
  // The message (or the prompt) alone is too long: nothing ran.
  if (result.end == End::ContextFull && !result.error.isEmpty()) rejectTooLong(request, result);
  if (result.end == End::Error) {
    if (unavailable()) throw server::ApiError(503, kNoModel, "server_error", std::nullopt, "model_not_loaded");
    throw std::runtime_error(result.error.toStdString());
  }
  out.text = filter.text();
  out.prompt_tokens = result.reusedTokens + result.prefilledTokens;
  out.completion_tokens = result.tokens;
  const bool cut = result.end == End::TokenLimit || result.end == End::ContextFull;
  out.finish = cut && !filter.stopped() ? server::FinishReason::length : server::FinishReason::stop;
  // Cancelled by its stop string is a normal end; by the client, the server or the app quitting, not.
  out.cancelled = filter.client_left() || (result.end == End::Cancelled && !filter.stopped());
  return out;
}

}  // namespace sieve::app
