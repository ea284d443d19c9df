#pragma once
// What crosses between the UI thread and the inference worker, by value in
// queued signals.

#include <QList>
#include <QMetaType>
#include <QString>

#include "sampling/sampler.h"

namespace sieve::app {

// Settings that need an engine restart when they change.
struct EngineSettings {
  QString modelPath;
  int threads = 0;      // 0: all cores
  qint64 context = 0;   // 0: min(model's, 4096)
  bool operator==(const EngineSettings&) const = default;
};

struct ChatTurn {
  QString role;  // "system", "user", "assistant"
  QString content;
};

struct GenerationRequest {
  quint64 id = 0;           // from the caller, increasing; names the reply's signals
  QList<ChatTurn> messages; // the whole conversation, ending with the user's message
  sampling::SamplerOptions sampling;
  int maxTokens = 512;
};

struct LoadResult {
  bool ok = false;
  QString error;      // when !ok: one sentence
  QString modelName;
  qint64 context = 0; // the engine's KV-cache size
  EngineSettings settings;
};

struct GenerationResult {
  enum class End { EndOfText, Cancelled, TokenLimit, ContextFull, Error };
  quint64 id = 0;
  End end = End::EndOfText;
  QString error;          // End::Error: why
  int tokens = 0;         // generated
  double tokensPerSecond = 0;
  int droppedMessages = 0;  // oldest messages left out so the prompt fits
};

}  // namespace sieve::app

Q_DECLARE_METATYPE(sieve::app::EngineSettings)
Q_DECLARE_METATYPE(sieve::app::GenerationRequest)
Q_DECLARE_METATYPE(sieve::app::LoadResult)
Q_DECLARE_METATYPE(sieve::app::GenerationResult)
