#pragma once
// The one object that touches the engine. It lives on its own QThread
// (start() moves it there); requests arrive as queued slot calls and every
// result leaves as a signal, so the UI thread never waits on inference.
//
// Cancelling is the exception: cancel() is called directly from any thread
// and sets an atomic the generation loop checks before every token, so a
// reply stops within one token. A load() queued behind a running generation
// runs as soon as it stops — the safe way to restart the engine with new
// settings mid-reply: cancel(), then load().

#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "desktop/inference_types.h"

namespace sieve {
class Engine;
}

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
  std::vector<int32_t> fittingPrompt(QList<ChatTurn>& messages, int room, int& dropped) const;
  std::vector<int32_t> tokenizeConversation(const QList<ChatTurn>& messages) const;
  std::span<const float> runNewTokens(const std::vector<int32_t>& prompt);
  void runGeneration(const GenerationRequest& request, GenerationResult& result);

  std::unique_ptr<Engine> engine_;
  std::optional<std::string> chatTemplate_;
  std::string bosText_, eosText_, endOfTurn_;
  std::vector<int32_t> cached_;  // the tokens in the engine's KV cache, from position 0
  std::atomic<quint64> cancelledUpTo_{0};
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
