#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace sieve {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 7, 64, 1000, 12345}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "n=" << n;
    }
  }
}

TEST(ThreadPool, ManyBackToBackCallsComplete) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  for (int call = 0; call < 2000; ++call) {
    pool.parallel_for(100, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  }
  EXPECT_EQ(total.load(), 2000 * 100);
}

// A call returns once its chunks are done, waiting only for the workers that
// joined it; a worker that wakes late (asleep, or descheduled on a busy
// machine) must then run nothing of that call. Every call's chunks are
// counted in its own slot: a late worker running a finished call would add
// to a slot after the call returned. Pauses let the workers fall asleep.
TEST(ThreadPool, LateWorkersNeverRunAFinishedCall) {
  for (int threads : {2, 3, 8}) {
    ThreadPool pool(threads);
    constexpr int kCalls = 3000;
    std::vector<std::atomic<int>> covered(kCalls);
    std::vector<int> at_return(kCalls);
    for (int call = 0; call < kCalls; ++call) {
      const int64_t n = 1 + call % 13;
      pool.parallel_for(n, [&](int64_t b, int64_t e) { covered[static_cast<size_t>(call)].fetch_add(static_cast<int>(e - b)); });
      at_return[static_cast<size_t>(call)] = covered[static_cast<size_t>(call)].load();
      ASSERT_EQ(at_return[static_cast<size_t>(call)], n) << "threads " << threads << ", call " << call;
      if (call % 500 == 499) std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // stragglers, if any, would land now
    for (int call = 0; call < kCalls; ++call) {
      ASSERT_EQ(covered[static_cast<size_t>(call)].load(), at_return[static_cast<size_t>(call)]) << "call " << call;
    }
  }
}

// rest() sends idle workers to sleep at once (the caller is about to block on
// reads); the next call wakes them and still covers every index once.
TEST(ThreadPool, CallsAfterRestStillCoverEveryIndex) {
  ThreadPool pool(3);
  for (int call = 0; call < 500; ++call) {
    pool.rest();
    if (call % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::vector<std::atomic<int>> hits(64);
    pool.parallel_for(64, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (const std::atomic<int>& h : hits) ASSERT_EQ(h.load(), 1) << "call " << call;
  }
}

TEST(ThreadPool, RespectsMinimumChunk) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  pool.parallel_for(10, [&](int64_t, int64_t) { calls.fetch_add(1); }, 16);
  EXPECT_EQ(calls.load(), 1);
}

TEST(ThreadPool, EmptyRangeCallsNothing) {
  ThreadPool pool(2);
  bool called = false;
  pool.parallel_for(0, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace sieve
