#pragma once
// What crosses between the UI thread and the inference worker, by value in
// queued signals.

#include <QList>
#include <QMetaType>
#include <QString>
#include <optional>

#include "sampling/sampler.h"

namespace sieve::app {

// Settings that need an engine restart when they change.
struct EngineSettings {
  QString modelPath;
  int threads = 0;        // 0: all cores
  qint64 context = 0;     // 0: min(model's, 4096)
  QString mode = "dense";  // "auto", "dense", "mmap", "flash" or "sparse" (parse_engine_mode)
  quint64 dramBudget = 0;  // auto / flash / sparse: bytes; 0: the default (60% of the memory available)
  int sparseWindow = 4;    // sparse: tokens whose neurons stay in DRAM
  QString sparsePredictor = "gate";  // sparse: "gate" or "lowrank" (sparse::parse_predictor_kind)
  bool operator==(const EngineSettings&) const = default;
};

struct ChatTurn {
  QString role;  // "system", "user", "assistant"
  QString content;
};

struct GenerationRequest {
  quint64 id = 0;           // from the caller, increasing; names the reply's signals
  QList<ChatTurn> messages; // the whole conversation, ending with the user's message
                            // (continueLast: with the assistant reply to continue)
  bool continueLast = false;  // continue that reply (it stopped at a limit) instead of answering
  // Set: no chat turn, but this text continued as it is, without the chat
  // template (the local server's /v1/completions); `messages` is then unused.
  std::optional<QString> rawPrompt;
  sampling::SamplerOptions sampling;
  int maxTokens = 512;
  // False: when the conversation no longer fits, reply with End::Overflow and
  // change nothing, so the user chooses; true: forget the oldest exchanges.
  bool allowDropping = false;
};

struct LoadResult {
  bool ok = false;
  QString error;      // when !ok: one sentence
  QString modelName;
  qint64 context = 0; // the engine's KV-cache size
  EngineSettings settings;
  QString memoryPlan; // flash mode: the DRAM split, several lines; else empty
  QString runMode;    // the mode the engine runs (auto resolved)
  QString modeChoice; // auto: the mode chosen and why, one line; else empty
  QString modeOffer;  // auto: sparse mode offered for a calibrated pack; else empty
};

struct GenerationResult {
  // Overflow: the conversation does not fit the context any more; nothing ran
  // (see GenerationRequest::allowDropping).
  enum class End { EndOfText, Cancelled, TokenLimit, ContextFull, Overflow, Error };
  quint64 id = 0;
  End end = End::EndOfText;
  QString error;          // End::Error: why
  int tokens = 0;         // generated
  double tokensPerSecond = 0;
  int droppedMessages = 0;  // oldest messages left out so the prompt fits (Overflow: that would be)
  qint64 reusedTokens = 0;  // prompt tokens kept in the KV cache (the engine rewound to here)
  qint64 prefilledTokens = 0;
  qint64 context = 0;       // the engine's context, for messages
  qint64 position = 0;      // positions in use after the reply (what the KV cache holds)
};

// The worker's live measurements while a reply streams (every few tokens)
// and once when it ends. Byte counts are for the whole process / engine.
struct LiveStats {
  quint64 requestId = 0;
  qint64 tokens = 0;             // decoded in this reply so far
  double tokensPerSecond = 0;    // over the last few tokens
  quint64 rssBytes = 0;          // resident memory now
  quint64 peakRssBytes = 0;
  quint64 budgetBytes = 0;       // the DRAM budget (0: none)
  // What the engine's own allocations come to: flash / sparse, the planner's
  // total for the budget; dense / mmap, the weights read in (dense) and the
  // KV cache. The process (rssBytes) adds Qt, QML, fonts, the heap...
  quint64 engineBytes = 0;
  double flashBytesPerToken = -1;  // over the last few tokens; < 0: not streaming (dense / mmap)
  double dramHitRate = -1;       // FFN bytes served from DRAM / all FFN bytes a token needs; < 0: n/a
};

}  // namespace sieve::app

Q_DECLARE_METATYPE(sieve::app::EngineSettings)
Q_DECLARE_METATYPE(sieve::app::GenerationRequest)
Q_DECLARE_METATYPE(sieve::app::LoadResult)
Q_DECLARE_METATYPE(sieve::app::GenerationResult)
Q_DECLARE_METATYPE(sieve::app::LiveStats)
