#pragma once
// stories260K (../shared) loaded on one thread: the model the chat tests run.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "engine.h"

namespace sieve::test {

inline const std::filesystem::path kStories = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";

// context 0: the engine's default.
inline std::unique_ptr<Engine> load_stories(int64_t context = 0) {
  EngineOptions options;
  options.model_path = kStories;
  options.threads = 1;
  options.context = context;
  return Engine::load(options);
}

}  // namespace sieve::test
