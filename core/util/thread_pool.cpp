#include "util/thread_pool.h"

#include <algorithm>

namespace sieve {
namespace {
// How long an idle worker polls for the next job before sleeping. Decode issues
// a matrix-vector product every few microseconds, so a short spin avoids most
// sleeps; a sleeping pool costs nothing. About 0.1 ms (a pause is ~140 cycles
// on recent x86): longer spins took the cores from the I/O threads and from
// other processes, and since a call no longer waits for a sleeping worker
// (join_), a worker that wakes late only costs that call its share of help.
constexpr int kSpinIterations = 2000;

constexpr uint64_t kJoinedMask = (uint64_t{1} << 31) - 1;
constexpr uint64_t kClosed = uint64_t{1} << 31;
uint64_t join_word(uint64_t generation) { return (generation & kJoinedMask) << 32; }
bool same_call(uint64_t word, uint64_t generation) { return (word >> 32) == (generation & kJoinedMask); }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 0; i + 1 < n_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
  const RangeFn& fn = *job_;
  for (;;) {
    const int64_t begin = next_chunk_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= job_n_) break;
    fn(begin, std::min(begin + chunk_, job_n_));
  }
}

void ThreadPool::parallel_for(int64_t n, RangeFn fn, int64_t min_chunk) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  if (workers_.empty() || n <= min_chunk) {
    fn(0, n);
    return;
  }
  std::lock_guard call_lock(call_mutex_);
  // A few chunks per thread balance uneven rows without much contention.
  const int64_t target_chunks = static_cast<int64_t>(size()) * 4;
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    chunk_ = std::max(min_chunk, (n + target_chunks - 1) / target_chunks);
    next_chunk_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    resting_.store(false, std::memory_order_relaxed);
    join_.store(join_word(generation_.load(std::memory_order_relaxed) + 1), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunks();
  // Every chunk is taken: workers that have not joined yet never will.
  const auto joined = static_cast<int>(join_.fetch_or(kClosed, std::memory_order_acq_rel) & kJoinedMask);
  while (done_.load(std::memory_order_acquire) != joined) cpu_relax();
  job_ = nullptr;
}

void ThreadPool::worker_loop(int /*index*/) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      if (resting_.load(std::memory_order_relaxed)) break;
      cpu_relax();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    {
      std::lock_guard lock(mutex_);  // pairs with the publisher: job fields are visible
      if (stopping_) return;
    }
    // Join the call unless it is closed (the caller ran every chunk) or
    // already followed by another one (then the next turn of the loop sees it).
    uint64_t word = join_.load(std::memory_order_acquire);
    bool joined = false;
    while (!joined && same_call(word, gen) && (word & kClosed) == 0) {
      joined = join_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel, std::memory_order_acquire);
    }
    if (!joined) continue;
    run_chunks();
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

}  // namespace sieve
