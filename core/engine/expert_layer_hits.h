#pragma once
// Flash mode on a Mixture-of-Experts model, per layer: the chosen experts the
// expert cache held and those it read. Shared by the backend and the public
// API (engine.h), so the engine hands them on as they are.

#include <cstdint>

namespace sieve {

struct ExpertLayerHits {
  uint64_t hits = 0;
  uint64_t misses = 0;
};

}  // namespace sieve
