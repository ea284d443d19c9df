#pragma once
// The one object that touches the engine. It lives on its own QThread
// (InferenceThread moves it there); requests arrive as queued slot calls and every
// result leaves as a signal, so the UI thread never waits on inference.
//
// The conversation logic itself (chat template, KV-cache reuse, streaming,
// stop conditions, forgetting old exchanges) is chat::ChatSession's; every
// request replaces the session's messages with the request's, so the session
// is only a cache of what the engine already ran.
//
// Cancelling is the exception: cancel() is called directly from any thread
// and sets an atomic the session checks before every token, so a reply stops
// within one token. A load() queued behind a running generation runs as soon
// as it stops — the safe way to restart the engine with new settings
// mid-reply: cancel(), then load().

#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>
#include <mutex>

#include "desktop/inference_types.h"

namespace sieve {
class Engine;
namespace chat {
class ChatSession;
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

 public slots:
  void load(const sieve::app::EngineSettings& settings);
  void generate(const sieve::app::GenerationRequest& request);
  void unload();

 signals:
  void loadFinished(const sieve::app::LoadResult& result);
  void tokenGenerated(quint64 requestId, const QString& text);
  void generationFinished(const sieve::app::GenerationResult& result);

 private:
  bool cancelled(quint64 id) const { return id <= cancelledUpTo_.load(std::memory_order_relaxed); }
  void startRunning(quint64 id);
  void stopRunning();
  void runGeneration(const GenerationRequest& request, GenerationResult& result);

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<chat::ChatSession> session_;  // on engine_, so destroyed first
  std::atomic<quint64> cancelledUpTo_{0};
  // The running request's own flag, for the session. Set by cancel() under the
  // mutex, so a late cancel of a finished request never stops the next one.
  std::mutex runningMutex_;
  quint64 runningId_ = 0;  // 0: none
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
};

}  // namespace sieve::app
