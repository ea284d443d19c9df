#pragma once
// Resident memory of this process, for the engine's statistics.

#include <cstdint>

namespace sieve::model {

// The process's peak resident set size in bytes (0 where unknown).
uint64_t peak_rss_bytes();

}  // namespace sieve::model
