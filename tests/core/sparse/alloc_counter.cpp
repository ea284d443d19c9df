// The replacement of the global operator new behind alloc_counter.h.

#include "core/sparse/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sieve::sparse::testing_util {

uint64_t allocations() { return g_allocations.load(); }

}  // namespace sieve::sparse::testing_util
