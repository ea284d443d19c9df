#pragma once
// EngineOptions' defaults resolved for one model, in one place: the engine
// loads by them, Engine::plan plans by them and auto mode decides by them, so
// the three never disagree on the context, the batch or the thread count.

#include <cstdint>
#include <string>

#include "engine.h"
#include "engine/model_backend.h"
#include "model/hparams.h"

namespace sieve {

// EngineOptions::context = 0: min(the training context, this).
inline constexpr int64_t kDefaultContext = 4096;

// 0: every core.
int resolved_threads(int threads);
// options.context, or min(training context, 4096). Throws sieve::Error
// (prefixed with `where`) for a negative context or one far past training.
int64_t resolved_context(const EngineOptions& options, const model::HyperParams& hp, const std::string& where);
// options.batch within 1..kMaxPrefillBatch (engine.h).
int64_t resolved_batch(const EngineOptions& options);
// What the model's backend gets: mode, budget, tuning, sparse options and the
// resolved context and batch.
flash::BackendOptions backend_options(const EngineOptions& options, const model::HyperParams& hp,
                                      const std::string& where);

}  // namespace sieve
