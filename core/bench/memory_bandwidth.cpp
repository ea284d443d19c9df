#include "bench/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <new>

namespace sieve::bench {
namespace {

constexpr size_t kCacheLine = 64;
// Threads claim the buffer in pieces of this size (the pool groups several
// consecutive pieces into one chunk, so each thread still streams).
constexpr size_t kPieceBytes = 1 << 20;
// How far ahead sum_words asks for data (the same distance matvec uses).
constexpr size_t kReadPrefetchAhead = 8 * 1024;

// A counter-based generator: word i depends only on (seed, i), so any thread
// can fill any range and the result does not depend on the thread count.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int64_t piece_count(size_t bytes) { return static_cast<int64_t>((bytes + kPieceBytes - 1) / kPieceBytes); }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

AlignedBuffer::AlignedBuffer(size_t bytes)
    : data_(static_cast<std::byte*>(::operator new(std::max<size_t>(bytes, 1), std::align_val_t{kCacheLine}))),
      size_(bytes) {}

void AlignedBuffer::Free::operator()(std::byte* p) const { ::operator delete(p, std::align_val_t{kCacheLine}); }

void fill_random(std::byte* data, size_t bytes, uint64_t seed, ThreadPool& pool) {
  pool.parallel_for(piece_count(bytes), [&](int64_t begin, int64_t end) {
    const size_t first = static_cast<size_t>(begin) * kPieceBytes;
    const size_t last = std::min(bytes, static_cast<size_t>(end) * kPieceBytes);
    for (size_t off = first; off < last; off += 8) {
      const uint64_t word = mix64(seed ^ (off * 0x2545f4914f6cdd1dull));
      std::memcpy(data + off, &word, std::min<size_t>(8, last - off));
    }
  });
}

namespace {

constexpr size_t kLanes = 8;  // eight independent 64-bit sums = one cache line per step

inline void add_line(uint64_t (&acc)[kLanes], const std::byte* line) {
  for (size_t lane = 0; lane < kLanes; ++lane) {
    uint64_t word;
    std::memcpy(&word, line + lane * 8, 8);
    acc[lane] += word;
  }
}

inline void prefetch_line(const std::byte* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 2);
#else
  (void)p;
#endif
}

}  // namespace

uint64_t sum_words(const std::byte* data, size_t bytes, ReadHint hint) {
  // Independent sums leave no loop-carried dependency chain, so the loads
  // (vectorised by the compiler) run as fast as memory delivers them.
  const size_t n_words = bytes / 8;
  const size_t prefetched_words =
      hint == ReadHint::Prefetch && bytes > kReadPrefetchAhead ? (bytes - kReadPrefetchAhead) / 8 : 0;
  uint64_t acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= prefetched_words; i += kLanes) {
    prefetch_line(data + i * 8 + kReadPrefetchAhead);
    add_line(acc, data + i * 8);
  }
  for (; i + kLanes <= n_words; i += kLanes) add_line(acc, data + i * 8);
  for (; i < n_words; ++i) {
    uint64_t word;
    std::memcpy(&word, data + i * 8, 8);
    acc[0] += word;
  }
  uint64_t total = 0;
  for (uint64_t a : acc) total += a;
  return total;
}

BandwidthResult measure_read_bandwidth(const std::byte* data, size_t bytes, ThreadPool& pool, int passes) {
  std::atomic<uint64_t> sink{0};  // keeps the sums alive
  auto read_all = [&](ReadHint hint) {
    pool.parallel_for(piece_count(bytes), [&](int64_t begin, int64_t end) {
      const size_t first = static_cast<size_t>(begin) * kPieceBytes;
      const size_t last = std::min(bytes, static_cast<size_t>(end) * kPieceBytes);
      sink.fetch_add(sum_words(data + first, last - first, hint), std::memory_order_relaxed);
    });
  };
  read_all(ReadHint::Prefetch);  // warm-up: page tables, TLB, frequency ramp
  BandwidthResult result;
  result.passes = std::max(1, passes);
  bool first = true;
  for (int pass = 0; pass < result.passes; ++pass) {
    // Both ways each pass, interleaved, so a noisy moment hits both alike.
    for (ReadHint hint : {ReadHint::Prefetch, ReadHint::None}) {
      const auto start = std::chrono::steady_clock::now();
      read_all(hint);
      const double s = seconds_since(start);
      if (first || s < result.best_seconds) {
        result.best_seconds = s;
        result.best_hint = hint;
        first = false;
      }
    }
  }
  result.best_gbps = static_cast<double>(bytes) / result.best_seconds / 1e9;
  result.checksum = sink.load(std::memory_order_relaxed);
  return result;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start != std::string::npos) return line.substr(start);
  }
  return "unknown CPU";
}


}  // namespace sieve::bench
