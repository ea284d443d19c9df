// The replacement of the global operator new behind alloc_counter.h.

#include "core/alloc_counter.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#ifdef _WIN32
#include <malloc.h>  // _aligned_malloc
#endif

#if defined(__GLIBC__) && __has_include(<execinfo.h>)
#include <execinfo.h>
#include <unistd.h>
#define SIEVE_ALLOC_BACKTRACE 1
#endif

namespace {

std::atomic<uint64_t> g_allocations{0};
// Allocations whose stack is still to be printed: set by an AllocationWindow
// from SIEVE_ALLOC_BACKTRACE, counted down by each allocation.
std::atomic<int> g_traces_left{0};

void trace_if_armed() {
#ifdef SIEVE_ALLOC_BACKTRACE
  if (g_traces_left.load(std::memory_order_relaxed) <= 0 || g_traces_left.fetch_sub(1) <= 0) return;
  // backtrace_symbols_fd writes without allocating; backtrace() may allocate
  // once (loading libgcc), which the count keeps from recursing for ever.
  void* frames[64];
  const int n = backtrace(frames, 64);
  static const char kHeader[] = "alloc_counter: an allocation in the window, at:\n";
  (void)!write(STDERR_FILENO, kHeader, sizeof kHeader - 1);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
#endif
}

void* counted(std::size_t n) {
  ++g_allocations;
  trace_if_armed();
  return std::malloc(n == 0 ? 1 : n);
}

void* counted_aligned(std::size_t n, std::size_t alignment) {
  ++g_allocations;
  trace_if_armed();
  if (n == 0) n = 1;
#ifdef _WIN32
  return _aligned_malloc(n, alignment);
#else
  return std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);
#endif
}

void free_aligned(void* p) {
#ifdef _WIN32
  _aligned_free(p);
#else
  std::free(p);
#endif
}

}  // namespace

// Every form is replaced, so that each allocation and its release go through
// the same pair (malloc/free, or the aligned pair): a form left to the
// runtime would allocate with its own operator new and be freed by ours,
// which AddressSanitizer reports as a mismatch.
void* operator new(std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free_aligned(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free_aligned(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free_aligned(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { free_aligned(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { free_aligned(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { free_aligned(p); }

namespace sieve::testing_util {

uint64_t allocations() { return g_allocations.load(); }

AllocationWindow::AllocationWindow() : start_(allocations()) {
  if (const char* traces = std::getenv("SIEVE_ALLOC_BACKTRACE")) g_traces_left = std::max(1, std::atoi(traces));
}

AllocationWindow::~AllocationWindow() { g_traces_left = 0; }

uint64_t AllocationWindow::count() const { return allocations() - start_; }

}  // namespace sieve::testing_util
