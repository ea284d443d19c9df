#include "flash/io/aligned_buffer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace sieve::flash {
namespace {

TEST(AlignHelpers, RoundToPowersOfTwo) {
  EXPECT_EQ(align_down(4097, 4096), 4096u);
  EXPECT_EQ(align_down(4095, 4096), 0u);
  EXPECT_EQ(align_up(1, 4096), 4096u);
  EXPECT_EQ(align_up(4096, 4096), 4096u);
  EXPECT_EQ(align_up(0, 512), 0u);
  EXPECT_EQ(align_up((uint64_t{1} << 40) + 1, 1 << 20), (uint64_t{1} << 40) + (1 << 20));
  EXPECT_TRUE(is_power_of_two(1));
  EXPECT_TRUE(is_power_of_two(4096));
  EXPECT_FALSE(is_power_of_two(0));
  EXPECT_FALSE(is_power_of_two(3000));
}

TEST(AlignedBuffer, AddressAndSizeAreAligned) {
  for (size_t alignment : {size_t{512}, size_t{4096}, size_t{65536}}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{(1 << 20) + 3}}) {
      AlignedBuffer buffer(size, alignment);
      EXPECT_TRUE(is_aligned(buffer.data(), alignment)) << size << " @ " << alignment;
      EXPECT_EQ(buffer.size() % alignment, 0u);
      EXPECT_GE(buffer.size(), std::max<size_t>(size, 1));
      EXPECT_LT(buffer.size(), std::max<size_t>(size, 1) + alignment);
      EXPECT_EQ(buffer.alignment(), alignment);
      std::memset(buffer.data(), 0xab, buffer.size());  // all of it is ours
    }
  }
}

TEST(AlignedBuffer, DefaultAlignmentIsAPage) {
  AlignedBuffer buffer(100);
  EXPECT_EQ(buffer.alignment(), kDefaultIoAlignment);
  EXPECT_EQ(buffer.size(), 4096u);
  EXPECT_TRUE(is_aligned(buffer.data(), 4096));
}

TEST(AlignedBuffer, RejectsAlignmentThatIsNotAPowerOfTwo) {
  EXPECT_THROW(AlignedBuffer(4096, 3000), Error);
  EXPECT_THROW(AlignedBuffer(4096, 0), Error);
}

TEST(AlignedBuffer, RefusesImpossibleSizesWithAnError) {
  EXPECT_THROW(AlignedBuffer(SIZE_MAX - 10, 4096), Error);
  EXPECT_THROW(AlignedBuffer(SIZE_MAX / 2, 4096), Error);  // rounds fine, cannot be had
}

TEST(AlignedBuffer, MoveTransfersOwnership) {
  AlignedBuffer a(8192);
  std::byte* p = a.data();
  AlignedBuffer b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.size(), 8192u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  AlignedBuffer c;
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(AlignedBuffer, ReserveDiscardOnlyGrows) {
  AlignedBuffer buffer(4096, 512);
  buffer.reserve_discard(1000);
  EXPECT_EQ(buffer.size(), 4096u);
  buffer.reserve_discard(10000);
  EXPECT_GE(buffer.size(), 10000u);
  EXPECT_EQ(buffer.alignment(), 512u);
  EXPECT_TRUE(is_aligned(buffer.data(), 512));
}

#ifdef __linux__
// The huge pages a mapping holds, from /proc/self/smaps (0 when not found).
uint64_t anon_huge_kib(const void* inside) {
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (f == nullptr) return 0;
  const auto address = reinterpret_cast<uintptr_t>(inside);
  char line[512];
  bool in_range = false;
  uint64_t kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line, "%lx-%lx ", &begin, &end) == 2 && std::strchr(line, '-') < std::strchr(line, ' ')) {
      in_range = address >= begin && address < end;
      continue;
    }
    unsigned long value = 0;
    if (in_range && std::sscanf(line, "AnonHugePages: %lu kB", &value) == 1) kib = value;
  }
  std::fclose(f);
  return kib;
}
#endif

// prefer_huge_pages is advice: the buffer works either way, and where the
// kernel's transparent huge pages follow madvise, filling it takes huge pages.
TEST(AlignedBuffer, PreferHugePagesKeepsTheBufferWorking) {
  AlignedBuffer b(size_t{16} << 20, kHugePageAlignment);
  EXPECT_TRUE(is_aligned(b.data(), kHugePageAlignment));
  b.prefer_huge_pages();
  std::memset(b.data(), 0x5a, b.size());
  EXPECT_EQ(b.data()[b.size() - 1], std::byte{0x5a});
  AlignedBuffer().prefer_huge_pages();  // an empty buffer: nothing to advise
  // Small buffers keep page alignment: rounding them up to 2 MiB would cost memory.
  EXPECT_EQ(huge_page_alignment_for(50'000), kDefaultIoAlignment);
  EXPECT_EQ(huge_page_alignment_for(uint64_t{1} << 30), kHugePageAlignment);
#ifdef __linux__
  std::FILE* mode = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  char text[128] = {};
  if (mode != nullptr) {
    if (std::fgets(text, sizeof text, mode) == nullptr) text[0] = '\0';
    std::fclose(mode);
  }
  if (std::strstr(text, "[madvise]") != nullptr || std::strstr(text, "[always]") != nullptr) {
    EXPECT_GT(anon_huge_kib(b.data()), 0u) << "transparent huge pages: " << text;
  }
#endif
}

}  // namespace
}  // namespace sieve::flash
