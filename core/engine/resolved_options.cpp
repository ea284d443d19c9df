#include "engine/resolved_options.h"

#include <algorithm>
#include <thread>

#include "util/error.h"

namespace sieve {

int resolved_threads(int threads) {
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int64_t resolved_context(const EngineOptions& options, const model::HyperParams& hp, const std::string& where) {
  if (options.context < 0) throw Error(where + ": the context size must be positive.");
  if (options.context == 0) return hp.train_context > 0 ? std::min(hp.train_context, kDefaultContext) : kDefaultContext;
  // Far past the training context the model degrades, and a typo such as
  // 4000000 would reserve gigabytes: refuse both.
  const int64_t limit = std::max<int64_t>(hp.train_context, kDefaultContext) * 4;
  if (options.context > limit) {
    throw Error(where + ": a context of " + std::to_string(options.context) + " tokens is too large (at most " +
                std::to_string(limit) + " for this model).");
  }
  return options.context;
}

int64_t resolved_batch(const EngineOptions& options) { return std::clamp<int64_t>(options.batch, 1, kMaxPrefillBatch); }

flash::BackendOptions backend_options(const EngineOptions& options, const model::HyperParams& hp,
                                      const std::string& where) {
  flash::BackendOptions b;
  b.mode = options.mode;
  b.budget = options.dram_budget;
  b.tuning = options.flash;
  b.tuning.queue_depth = flash::resolved_queue_depth(options.flash.queue_depth, options.mode == EngineMode::sparse);
  b.context = resolved_context(options, hp, where);
  b.batch = resolved_batch(options);
  b.sparse = options.sparse;
  return b;
}

}  // namespace sieve
