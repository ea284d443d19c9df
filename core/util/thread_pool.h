#pragma once
// A fixed set of worker threads that split index ranges among themselves.
//
// parallel_for(n, fn) calls fn(begin, end) on disjoint chunks covering [0, n)
// and returns when all are done; the calling thread takes a share of the work.
// Workers spin briefly before sleeping so back-to-back calls in the decode loop
// (dozens per token) do not pay a futex wake-up each. One pool serves one
// caller at a time; calls from several threads at once are serialised.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sieve {

class ThreadPool {
 public:
  // n_threads counts the caller: 1 means "run everything on the caller".
  // 0 picks std::thread::hardware_concurrency().
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  using RangeFn = std::function<void(int64_t begin, int64_t end)>;
  // Splits [0, n) into chunks of at least `min_chunk` and runs them in parallel.
  void parallel_for(int64_t n, const RangeFn& fn, int64_t min_chunk = 1);

 private:
  void worker_loop(int index);
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time

  // Current job, published under mutex_ and announced through generation_.
  std::mutex mutex_;
  std::condition_variable wake_;
  const RangeFn* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
};

}  // namespace sieve
