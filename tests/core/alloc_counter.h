#pragma once
// Counts every call of the global operator new (all forms, aligned ones
// included) in the test executable that links alloc_counter.cpp: tests that
// the hot paths allocate nothing.
//
// Finding the culprit: run the failing test with SIEVE_ALLOC_BACKTRACE=N in
// the environment and the first N allocations inside an AllocationWindow
// print their call stacks to stderr (glibc; elsewhere the variable does
// nothing).
// Frames show as binary(+offset): `addr2line -Cfe BINARY OFFSET`, or build
// with -g for names.

#include <cstdint>

namespace sieve::testing_util {

// Calls of operator new so far in this process.
uint64_t allocations();

// The allocations made while it is alive (one window at a time).
class AllocationWindow {
 public:
  AllocationWindow();
  ~AllocationWindow();
  AllocationWindow(const AllocationWindow&) = delete;
  AllocationWindow& operator=(const AllocationWindow&) = delete;

  uint64_t count() const;

 private:
  uint64_t start_;
};

}  // namespace sieve::testing_util
