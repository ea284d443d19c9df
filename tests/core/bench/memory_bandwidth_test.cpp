// The memory-read ceiling `sieve bench-kernels` divides by: both ways of
// reading (with and without prefetch hints) must sum the same words, and the
// measurement must time both and keep the faster.

#include <gtest/gtest.h>

#include <cstring>

#include "bench/memory_bandwidth.h"

namespace sieve::bench {
namespace {

uint64_t plain_sum(const std::byte* data, size_t bytes) {
  uint64_t total = 0;
  for (size_t off = 0; off + 8 <= bytes; off += 8) {
    uint64_t word;
    std::memcpy(&word, data + off, 8);
    total += word;
  }
  return total;
}

TEST(MemoryBandwidth, SumWordsIsTheSameWithAndWithoutPrefetchHints) {
  ThreadPool pool(2);
  constexpr size_t kBytes = (size_t{3} << 20) + 4100;  // past the hint distance, with a ragged tail
  AlignedBuffer buffer(kBytes);
  fill_random(buffer.data(), kBytes, 7, pool);
  for (size_t bytes : {size_t{0}, size_t{7}, size_t{64}, size_t{8200}, kBytes}) {
    const uint64_t want = plain_sum(buffer.data(), bytes);
    EXPECT_EQ(sum_words(buffer.data(), bytes, ReadHint::Prefetch), want) << bytes << " bytes";
    EXPECT_EQ(sum_words(buffer.data(), bytes, ReadHint::None), want) << bytes << " bytes";
  }
}

TEST(MemoryBandwidth, EveryPassReadsTheBufferBothWays) {
  ThreadPool pool(2);
  constexpr size_t kBytes = size_t{4} << 20;
  AlignedBuffer buffer(kBytes);
  fill_random(buffer.data(), kBytes, 11, pool);
  const uint64_t once = plain_sum(buffer.data(), kBytes);
  const BandwidthResult r = measure_read_bandwidth(buffer.data(), kBytes, pool, 3);
  EXPECT_EQ(r.passes, 3);
  EXPECT_EQ(r.checksum, once * (1 + 2 * 3));  // the warm-up, then each pass with and without hints
  EXPECT_GT(r.best_seconds, 0.0);
  EXPECT_NEAR(r.best_gbps, static_cast<double>(kBytes) / r.best_seconds / 1e9, 1e-9 * r.best_gbps);
}

}  // namespace
}  // namespace sieve::bench
