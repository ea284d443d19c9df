#pragma once
// Counts every call of the global operator new in the test executable that
// links alloc_counter.cpp (tests that the hot paths allocate nothing).

#include <cstdint>

namespace sieve::sparse::testing_util {

// Calls of operator new (all forms) so far in this process.
uint64_t allocations();

}  // namespace sieve::sparse::testing_util
