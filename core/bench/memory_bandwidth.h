#pragma once
// Plain memory-read bandwidth, the ceiling for any kernel that streams
// weights: every thread sums its share of a buffer far bigger than the last
// level cache. Kernel throughput is reported as a fraction of this number.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "util/thread_pool.h"

namespace sieve::bench {

// A heap buffer whose start is aligned to a cache line. Its pages are not
// touched until written (see fill_random).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(std::byte* p) const;
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t size_ = 0;
};

// Fills `bytes` bytes with a seeded pseudo-random pattern, split across the
// pool so every thread faults in its own share of the pages.
void fill_random(std::byte* data, size_t bytes, uint64_t seed, ThreadPool& pool);

// Whether sum_words asks for data ahead of its loads (a hint 8 KiB ahead, the
// distance matvec uses). Which reads faster depends on the CPU: on one Xeon
// one core read ~20% slower without it; on a Zen 5 EPYC the hint cost about as
// much. The ceiling is whichever is faster, or kernels would beat it.
enum class ReadHint { Prefetch, None };

// Sums the buffer as 64-bit words (the tail bytes that do not fill a word are
// ignored); a loop the compiler vectorises with the default target flags.
uint64_t sum_words(const std::byte* data, size_t bytes, ReadHint hint = ReadHint::Prefetch);

struct BandwidthResult {
  double best_gbps = 0;  // 1e9 bytes per second, best pass
  double best_seconds = 0;
  ReadHint best_hint = ReadHint::Prefetch;  // how the best pass read
  int passes = 0;        // timed passes (after one warm-up), each read both ways
  uint64_t checksum = 0; // sum of everything read, so the reads cannot be optimised away
};

// Reads the whole buffer with every thread of `pool`: one warm-up pass, then
// `passes` timed passes, each reading it once with and once without the hint
// (ReadHint); the best of them counts.
BandwidthResult measure_read_bandwidth(const std::byte* data, size_t bytes, ThreadPool& pool, int passes);

// "model name" from /proc/cpuinfo when present, otherwise "unknown CPU".
std::string cpu_model_name();

}  // namespace sieve::bench
