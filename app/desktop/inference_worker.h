#pragma once
// The one object that touches the engine. It lives on its own QThread
// (InferenceThread moves it there); requests arrive as queued slot calls and every
// result leaves as a signal, so the UI thread never waits on inference.
//
// The conversation logic itself (chat template, KV-cache reuse, streaming,
// stop conditions, forgetting old exchanges) is chat::ChatSession's; every
// request replaces the session's messages with the request's, so the session
// is only a cache of what the engine already ran. A request with a raw prompt
// (the local server's /v1/completions) continues that text without the chat
// template (chat/text_continuation.h); the session starts afresh after it.
//
// Cancelling is the exception: cancel() is called directly from any thread
// and sets an atomic the session checks before every token, so a reply stops
// within one token. A load() queued behind a running generation runs as soon
// as it stops — the safe way to restart the engine with new settings
// mid-reply: cancel(), then load().
//
// While a reply streams the worker also reports live statistics (tokens/s,
// resident memory, bytes streamed from flash per token) every few tokens.

#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QThread>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "desktop/inference_types.h"

namespace sieve {
class Engine;
struct EngineStats;
namespace chat {
class ChatSession;
struct ChatReply;
}
}  // namespace sieve

namespace sieve::app {

class InferenceWorker : public QObject {
  Q_OBJECT

 public:
  InferenceWorker();
  ~InferenceWorker() override;

  // Cancels request `id` and every earlier one, running or still queued. Any thread.
  void cancel(quint64 id);
  // Cancels request `id` alone, running or still queued: the app's chat and
  // its local server (worker_backend.h) queue requests on the same worker, so
  // one client stopping its own must not stop the others'. Any thread.
  void cancelOne(quint64 id);
  // A request id no other caller of this worker gets: the chat's and the
  // server's requests share the worker's signals, told apart by id. Any thread.
  quint64 newRequestId() { return nextRequestId_.fetch_add(1) + 1; }

  // The planner's figures for the loaded engine (inference_worker.cpp).
  struct PlanFigures {
    uint64_t ffnBytesPerToken = 0;  // flash: FFN bytes a token needs (pinned + streamed); 0: n/a
    uint64_t engineBytes = 0;       // the engine's own memory (LiveStats::engineBytes)
  };

 public slots:
  void load(const sieve::app::EngineSettings& settings);
  void generate(const sieve::app::GenerationRequest& request);
  void unload();

 signals:
  void loadFinished(const sieve::app::LoadResult& result);
  void tokenGenerated(quint64 requestId, const QString& text);
  // The model's reasoning before its answer (<think>, harmony's analysis:
  // chat/reply_channels.h); not part of the reply.
  void reasoningGenerated(quint64 requestId, const QString& text);
  void generationFinished(const sieve::app::GenerationResult& result);
  // Every kStatsEveryTokens decoded tokens while a reply streams, and once at its end.
  void statsUpdated(const sieve::app::LiveStats& stats);

 public:
  static constexpr int kStatsEveryTokens = 2;

 private:
  // Where the last statistics were taken, for per-token rates over the last few tokens.
  struct StatsMark {
    int64_t decodeTokens = 0;
    double decodeSeconds = 0;
    uint64_t flashBytes = 0;
    uint64_t sparseHits = 0;       // sparse mode: neurons found in DRAM
    uint64_t sparsePredicted = 0;  // ... of those the predictor selected
    uint64_t expertHits = 0;       // flash mode, MoE: chosen experts found in the expert cache
    uint64_t expertsChosen = 0;    // ... of those the routers chose
  };
  void emitStats(quint64 requestId, int64_t replyStartTokens, StatsMark& mark);
  bool cancelled(quint64 id);
  void startRunning(quint64 id);
  void stopRunning();
  void runGeneration(const GenerationRequest& request, GenerationResult& result);
  bool prepareReply(const GenerationRequest& request, GenerationResult& result);
  void prepareContinuation(const GenerationRequest& request);
  void renewSession();
  chat::ChatReply continueText(const QString& prompt, const GenerationRequest& request,
                               const std::function<void(std::string_view)>& onPiece);

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<chat::ChatSession> session_;  // on engine_, so destroyed first
  EngineSettings settings_;           // the running engine's
  PlanFigures plan_;
  static StatsMark markOf(const EngineStats& stats);
  std::atomic<quint64> cancelledUpTo_{0};
  std::atomic<quint64> nextRequestId_{0};
  // The running request's own flag, for the session. Set by cancel() under the
  // mutex, so a late cancel of a finished request never stops the next one.
  std::mutex runningMutex_;
  quint64 runningId_ = 0;  // 0: none
  QSet<quint64> cancelledOnes_;  // cancelOne()'s, until their generate() runs
  std::atomic<bool> cancelRunning_{false};
};

// Owns the worker's thread: starts it, and on destruction cancels, stops and joins.
class InferenceThread {
 public:
  InferenceThread();
  ~InferenceThread();
  InferenceWorker* worker() const { return worker_; }

 private:
  QThread thread_;
  InferenceWorker* worker_;  // deleted on its own thread when the thread finishes
  // Stored (release) by the worker's last act on its thread, its destruction,
  // and loaded (acquire) after QThread::wait(): the hand-over wait() already
  // makes, spelled out where ThreadSanitizer can see it (Qt's own futexes are
  // not instrumented), so what the thread allocated is seen freed in order.
  std::atomic<bool> workerGone_{false};
};

}  // namespace sieve::app
