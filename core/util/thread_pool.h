#pragma once
// A fixed set of worker threads that split index ranges among themselves.
//
// parallel_for(n, fn) calls fn(begin, end) on disjoint chunks covering [0, n)
// and returns when all are done; the calling thread takes a share of the work.
// Workers spin briefly before sleeping so back-to-back calls in the decode loop
// (dozens per token) do not pay a futex wake-up each. One pool serves one
// caller at a time; calls from several threads at once are serialised.
//
// A worker takes part in a call only if it joins before the caller has run
// out of chunks: the caller then closes the call and waits only for the
// workers that joined (they are mid-chunk), never for one still asleep or
// descheduled — on a machine with more runnable threads than cores that wait
// was a whole scheduler time slice, spent spinning.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
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

  // A non-owning reference to fn(begin, end): the callable (usually a lambda
  // capturing by reference) lives on the caller's stack for the whole call,
  // so nothing is copied or allocated, whatever it captures — the decode loop
  // allocates nothing (docs/architecture.md). std::function would allocate for
  // captures larger than two pointers.
  class RangeFn {
   public:
    template <typename F>
      requires(!std::is_same_v<std::remove_cvref_t<F>, RangeFn> && std::is_invocable_v<F&, int64_t, int64_t>)
    RangeFn(F&& fn)  // NOLINT(google-explicit-constructor): lambdas convert implicitly
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
          call_([](void* object, int64_t begin, int64_t end) {
            (*static_cast<std::remove_reference_t<F>*>(object))(begin, end);
          }) {}

    void operator()(int64_t begin, int64_t end) const { call_(object_, begin, end); }

   private:
    void* object_;
    void (*call_)(void* object, int64_t begin, int64_t end);
  };

  // Splits [0, n) into chunks of at least `min_chunk` and runs them in parallel.
  void parallel_for(int64_t n, RangeFn fn, int64_t min_chunk = 1);
  // The caller is about to block (on reads, say) for longer than a spin:
  // idle workers go to sleep now instead of spinning, leaving the cores to
  // the threads that do the I/O. The next parallel_for wakes them.
  void rest() { resting_.store(true, std::memory_order_relaxed); }

 private:
  void worker_loop(int index);
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time

  // Current job, published under mutex_ and announced through generation_.
  std::mutex mutex_;
  std::condition_variable wake_;
  const RangeFn* job_ = nullptr;  // parallel_for's argument, for the call's duration
  int64_t job_n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_chunk_{0};
  // The current call's id (low 31 bits of its generation), a closed bit and
  // the number of workers that joined, in one word so that joining and
  // closing are ordered: a worker joins only an open call of its generation.
  std::atomic<uint64_t> join_{0};
  std::atomic<int> done_{0};  // joined workers that finished their chunks
  std::atomic<bool> resting_{false};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
};

}  // namespace sieve
