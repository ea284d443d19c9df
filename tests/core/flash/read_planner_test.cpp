#include "flash/io/read_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/alloc_counter.h"
#include "flash_test_util.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using testing_util::TestFile;

constexpr uint64_t kMiB = 1 << 20;

PlanOptions options(uint32_t gap = 64 * 1024, uint32_t max_read = 1 << 20, uint32_t alignment = 4096) {
  PlanOptions o;
  o.alignment = alignment;
  o.merge_gap = gap;
  o.max_read = max_read;
  return o;
}

bool is_staged(const ReadRequest& read, const AlignedBuffer& memory) {
  const auto* p = static_cast<const std::byte*>(read.dest);
  return p < memory.data() || p >= memory.data() + memory.size();
}

// Runs a plan against an in-memory "file": each read copies the bytes that
// exist (a read past the end stops there, as the kernel's does).
void execute(const ReadPlan& plan, const std::vector<uint8_t>& file) {
  for (const ReadRequest& r : plan.reads) {
    ASSERT_LT(r.offset, file.size());
    const size_t n = std::min<uint64_t>(r.length, file.size() - r.offset);
    std::memcpy(r.dest, file.data() + r.offset, n);
  }
}

TEST(ReadPlanner, AlignedRequestIsReadStraightIntoItsDestination) {
  ReadPlanner planner(64 * kMiB, 512, options());
  AlignedBuffer dest(16384);
  const ReadRequest want{8192, 16384, dest.data(), 42};
  const ReadPlan& plan = planner.plan(std::span(&want, 1));
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0].offset, 8192u);
  EXPECT_EQ(plan.reads[0].length, 16384u);
  EXPECT_EQ(plan.reads[0].dest, dest.data());
  EXPECT_EQ(plan.reads[0].tag, 42u);
  EXPECT_TRUE(plan.copies.empty());
  EXPECT_EQ(plan.staging_bytes, 0u);
  EXPECT_EQ(plan.direct_bytes, 16384u);
  EXPECT_EQ(plan.read_bytes, plan.requested_bytes);
}

TEST(ReadPlanner, LargeReadsAreSplitIntoChunks) {
  ReadPlanner planner(64 * kMiB, 512, options(0, 1 << 20));
  AlignedBuffer dest(3 * kMiB + kMiB / 2);
  const ReadRequest want{kMiB, static_cast<uint32_t>(dest.size()), dest.data(), 0};
  const ReadPlan& plan = planner.plan(std::span(&want, 1));
  ASSERT_EQ(plan.reads.size(), 4u);
  uint64_t at = kMiB;
  for (const ReadRequest& r : plan.reads) {
    EXPECT_EQ(r.offset, at);
    EXPECT_LE(r.length, kMiB);
    EXPECT_EQ(r.dest, dest.data() + (at - kMiB));
    at += r.length;
  }
  EXPECT_EQ(at, kMiB + dest.size());
  EXPECT_TRUE(plan.copies.empty());
}

TEST(ReadPlanner, UnalignedRequestIsWidenedThroughStaging) {
  ReadPlanner planner(64 * kMiB, 512, options());
  uint8_t dest[50];
  const ReadRequest want{100, 50, dest, 0};
  const ReadPlan& plan = planner.plan(std::span(&want, 1));
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0].offset, 0u);
  EXPECT_EQ(plan.reads[0].length, 4096u);
  EXPECT_TRUE(is_aligned(plan.reads[0].dest, 4096));
  ASSERT_EQ(plan.copies.size(), 1u);
  EXPECT_EQ(plan.copies[0].dest, dest);
  EXPECT_EQ(plan.copies[0].length, 50u);
  EXPECT_EQ(static_cast<const std::byte*>(plan.reads[0].dest) + 100,
            static_cast<const std::byte*>(plan.reads[0].dest) + plan.copies[0].staging_offset);
  EXPECT_EQ(plan.direct_bytes, 0u);
}

TEST(ReadPlanner, MatchingMisalignmentReadsTheMiddleWithoutCopying) {
  ReadPlanner planner(64 * kMiB, 512, options());
  AlignedBuffer memory(32768);
  std::byte* dest = memory.data() + 1000;  // same misalignment as the offset
  const ReadRequest want{1000, 20000, dest, 0};
  const ReadPlan& plan = planner.plan(std::span(&want, 1));
  ASSERT_EQ(plan.reads.size(), 3u);
  const ReadRequest& middle = plan.reads[0];
  EXPECT_EQ(middle.offset, 4096u);
  EXPECT_EQ(middle.length, 20480u - 4096u);
  EXPECT_EQ(middle.dest, dest + (4096 - 1000));
  EXPECT_EQ(plan.direct_bytes, 20480u - 4096u);
  ASSERT_EQ(plan.copies.size(), 2u);  // the partial first and last blocks
  EXPECT_EQ(plan.copies[0].length, 4096u - 1000u);
  EXPECT_EQ(plan.copies[1].length, 21000u - 20480u);
  EXPECT_TRUE(is_staged(plan.reads[1], memory));
  EXPECT_TRUE(is_staged(plan.reads[2], memory));
}

TEST(ReadPlanner, NeighboursWithinTheGapAreMerged) {
  ReadPlanner planner(64 * kMiB, 512, options(64 * 1024));
  uint8_t a[100], b[100];
  const ReadRequest want[] = {{10000, 100, b, 1}, {0, 100, a, 0}};  // unsorted on purpose
  const ReadPlan& plan = planner.plan(want);
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0].offset, 0u);
  EXPECT_EQ(plan.reads[0].length, 12288u);
  EXPECT_EQ(plan.reads[0].tag, 0u);  // the tag of the first range it serves
  ASSERT_EQ(plan.copies.size(), 2u);
  EXPECT_EQ(plan.copies[0].dest, a);
  EXPECT_EQ(plan.copies[0].staging_offset, 0u);
  EXPECT_EQ(plan.copies[1].dest, b);
  EXPECT_EQ(plan.copies[1].staging_offset, 10000u);
}

// Without merging (the expert cache), two neighbouring ranges that share a
// block each land in their own destination by zero-copy: only their partial
// end blocks are staged, however long they are, and the bytes are the file's.
TEST(ReadPlanner, WithoutMergingNeighboursSharingABlockStayZeroCopy) {
  PlanOptions o = options();
  o.merge = false;
  ReadPlanner planner(64 * kMiB, 512, o);
  AlignedBuffer first(65536), second(65536);
  // Both start 1000 bytes into a block, as a stacked tensor's experts do.
  const ReadRequest want[] = {{1000 + 20480, 20480, second.data() + 1000, 1}, {1000, 20480, first.data() + 1000, 0}};
  const ReadPlan& plan = planner.plan(want);
  EXPECT_EQ(plan.direct_bytes, 2u * (20480u - 4096u));
  EXPECT_LE(plan.staging_bytes, 4u * 4096u);
  std::vector<uint8_t> file(64 * 1024);
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<uint8_t>(i * 7 + 3);
  execute(plan, file);
  planner.scatter();
  EXPECT_EQ(std::memcmp(first.data() + 1000, file.data() + 1000, 20480), 0);
  EXPECT_EQ(std::memcmp(second.data() + 1000, file.data() + 1000 + 20480, 20480), 0);
}

TEST(ReadPlanner, NeighboursBeyondTheGapStayApart) {
  ReadPlanner planner(64 * kMiB, 512, options(8192));
  uint8_t a[100], b[100];
  const ReadRequest want[] = {{0, 100, a, 0}, {4096 + 8192 + 4096, 100, b, 1}};
  const ReadPlan& plan = planner.plan(want);
  ASSERT_EQ(plan.reads.size(), 2u);
  EXPECT_EQ(plan.read_bytes, 8192u);
  // Exactly at the gap they merge.
  const ReadRequest close[] = {{0, 100, a, 0}, {4096 + 8192, 100, b, 1}};
  EXPECT_EQ(planner.plan(close).reads.size(), 1u);
}

TEST(ReadPlanner, AdjacentBlocksMergeEvenWithNoGap) {
  ReadPlanner planner(64 * kMiB, 512, options(0));
  uint8_t a[10], b[10];
  const ReadRequest want[] = {{4000, 10, a, 0}, {4100, 10, b, 1}};  // blocks 0 and 1
  const ReadPlan& plan = planner.plan(want);
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0].length, 8192u);
}

TEST(ReadPlanner, OverlappingRangesShareOneRead) {
  ReadPlanner planner(64 * kMiB, 512, options(0));
  std::vector<uint8_t> a(5000), b(5000);
  const ReadRequest want[] = {{1000, 5000, a.data(), 0}, {3000, 5000, b.data(), 1}};
  const ReadPlan& plan = planner.plan(want);
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0].length, 8192u);
  const auto file = testing_util::pattern_bytes(64 * 1024, 5);
  ReadPlanner small(file.size(), 512, options(0));
  execute(small.plan(want), file);
  small.scatter();
  EXPECT_EQ(std::memcmp(a.data(), file.data() + 1000, 5000), 0);
  EXPECT_EQ(std::memcmp(b.data(), file.data() + 3000, 5000), 0);
}

TEST(ReadPlanner, ReadsStopAtTheFilesPaddedEnd) {
  // Reads may pad the last partial block to the file's own alignment, not further.
  ReadPlanner planner(10000, 512, options(0, 1 << 20, 4096));
  uint8_t dest[1000];
  const ReadRequest want{9000, 1000, dest, 0};
  const ReadPlan& plan = planner.plan(std::span(&want, 1));
  ASSERT_EQ(plan.reads.size(), 1u);
  EXPECT_EQ(plan.reads[0].offset, 8192u);
  EXPECT_EQ(plan.reads[0].offset + plan.reads[0].length, 10240u);  // 10000 rounded to 512
}

TEST(ReadPlanner, RejectsRangesPastTheEndOrWithoutDestination) {
  ReadPlanner planner(10000, 512, options());
  uint8_t dest[100];
  const ReadRequest past{9950, 100, dest, 0};
  try {
    planner.plan(std::span(&past, 1), "model.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("model.gguf"), std::string::npos) << message;
    EXPECT_NE(message.find("offset 9950"), std::string::npos) << message;
    EXPECT_NE(message.find("past the end"), std::string::npos) << message;
  }
  const ReadRequest no_dest{0, 100, nullptr, 0};
  EXPECT_THROW(planner.plan(std::span(&no_dest, 1)), Error);
  const ReadRequest huge_offset{~uint64_t{0} - 5, 100, dest, 0};
  EXPECT_THROW(planner.plan(std::span(&huge_offset, 1)), Error);
}

TEST(ReadPlanner, ZeroLengthRangesAreIgnored) {
  ReadPlanner planner(10000, 512, options());
  const ReadRequest nothing{0, 0, nullptr, 0};
  EXPECT_TRUE(planner.plan(std::span(&nothing, 1)).reads.empty());
}

TEST(ReadPlanner, RejectsAlignmentsThatAreNotPowersOfTwo) {
  EXPECT_THROW(ReadPlanner(10000, 512, options(0, 1 << 20, 3000)), Error);
  EXPECT_THROW(ReadPlanner(10000, 600, options()), Error);
}

// Random ranges of every shape: every read is aligned and bounded, and
// executing the plan fills every destination with the right bytes.
// Plans within what reserve() was told allocate nothing, even the first
// (the decode loop's reads; this executable counts every operator new).
TEST(ReadPlanner, ReservedPlansAllocateNothing) {
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    const uint32_t alignment = 1u << (9 + rng() % 4);
    const uint32_t max_read = alignment << (rng() % 6);
    const uint32_t gap = (rng() % 4) * 16384;
    const uint64_t file_size = 1 + rng() % (3 << 20);
    const size_t count = 1 + rng() % 40;
    AlignedBuffer memory(count * (65536 + 2 * 4096) + 4096, 4096);
    std::vector<ReadRequest> wanted(count);
    size_t cursor = 0;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t offset = rng() % file_size;
      const uint64_t length = std::min<uint64_t>(file_size - offset, 1 + rng() % 65536);
      // Half share their offset's misalignment (zero copy), half any other.
      cursor = align_up(cursor, 4096) + (rng() % 2 == 0 ? offset % alignment : rng() % 4096);
      wanted[i] = ReadRequest{offset, static_cast<uint32_t>(length), memory.data() + cursor, i};
      cursor += length;
    }
    ReadPlanner planner(file_size, 512, options(gap, max_read, alignment));
    planner.reserve(count, file_size, file_size + 2 * uint64_t{alignment} * count);
    const sieve::testing_util::AllocationWindow counting;
    const ReadPlan& plan = planner.plan(wanted);
    const uint64_t allocated = counting.count();
    ASSERT_EQ(allocated, 0u) << "round " << round << ": " << count << " ranges, " << plan.reads.size() << " reads";
  }
}

TEST(ReadPlanner, RandomPlansAreAlignedAndDeliverTheRightBytes) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    const uint32_t required = 1u << (9 + rng() % 4);  // 512 .. 4096
    const uint32_t alignment = std::max<uint32_t>(required, 1u << (9 + rng() % 5));
    const uint32_t max_read = alignment << (rng() % 6);
    const uint32_t gap = (rng() % 4) * 16384;
    const size_t file_size = 1 + rng() % (3 << 20);
    const auto file = testing_util::pattern_bytes(file_size, round);
    ReadPlanner planner(file_size, required, options(gap, max_read, alignment));
    ASSERT_EQ(planner.alignment(), alignment);

    const size_t count = 1 + rng() % 40;
    std::vector<uint8_t> memory(count * 70000 + 8192);
    std::vector<ReadRequest> wanted(count);
    size_t cursor = 0;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t offset = rng() % file_size;
      const uint64_t length = std::min<uint64_t>(file_size - offset, 1 + rng() % 65536);
      cursor += rng() % 4096;  // destinations at every misalignment
      wanted[i] = ReadRequest{offset, static_cast<uint32_t>(length), memory.data() + cursor, i};
      cursor += length;
    }
    const ReadPlan& plan = planner.plan(wanted);
    const uint64_t file_limit = align_up(file_size, required);
    for (const ReadRequest& r : plan.reads) {
      ASSERT_EQ(r.offset % alignment, 0u);
      ASSERT_EQ(r.length % required, 0u);
      ASSERT_TRUE(r.length % alignment == 0 || r.offset + r.length == file_limit);
      ASSERT_TRUE(is_aligned(r.dest, required));
      ASSERT_LE(r.length, planner.max_read());
      ASSERT_LE(r.offset + r.length, file_limit);
    }
    uint64_t requested = 0;
    for (const ReadRequest& w : wanted) requested += w.length;
    EXPECT_EQ(plan.requested_bytes, requested);
    // Every wanted byte is read at least once, and the accounting adds up.
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    for (const ReadRequest& w : wanted) spans.emplace_back(w.offset, w.offset + w.length);
    std::sort(spans.begin(), spans.end());
    uint64_t covered = 0, reach = 0;
    for (auto [b, e] : spans) {
      covered += e > std::max(b, reach) ? e - std::max(b, reach) : 0;
      reach = std::max(reach, e);
    }
    uint64_t read_total = 0;
    for (const ReadRequest& r : plan.reads) read_total += r.length;
    EXPECT_EQ(plan.read_bytes, read_total);
    EXPECT_GE(plan.read_bytes, covered);
    EXPECT_LE(plan.direct_bytes, plan.read_bytes);
    execute(plan, file);
    planner.scatter();
    for (const ReadRequest& w : wanted) {
      ASSERT_EQ(std::memcmp(w.dest, file.data() + w.offset, w.length), 0)
          << "round " << round << " range " << w.tag << " offset " << w.offset << " length " << w.length;
    }
  }
}

class ScatterReaderTest : public ::testing::TestWithParam<IoBackend> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == IoBackend::io_uring && !io_uring_available(&why)) GTEST_SKIP() << why;
  }
};

TEST_P(ScatterReaderTest, ArbitraryRangesArriveThroughTheEngine) {
  TestFile data(3 * kMiB + 777);
  const DirectFile file = DirectFile::open(data.path());
  IoOptions io_options;
  io_options.backend = GetParam();
  io_options.queue_depth = 16;
  auto io = make_io_engine(file, io_options);
  // Two readers: one is filled while the other's bytes are checked.
  ScatterReader readers[2] = {ScatterReader(*io, options(16384, 256 * 1024)),
                              ScatterReader(*io, options(16384, 256 * 1024))};
  std::mt19937 rng(77);
  std::vector<uint8_t> memory[2];
  std::vector<ReadRequest> wanted[2];
  auto fill = [&](int which) {
    wanted[which].assign(1 + rng() % 30, ReadRequest{});
    memory[which].assign(wanted[which].size() * 300000, 0);
    size_t cursor = 0;
    for (ReadRequest& w : wanted[which]) {
      w.offset = rng() % data.size();
      w.length = static_cast<uint32_t>(std::min<uint64_t>(data.size() - w.offset, 1 + rng() % 290000));
      cursor += rng() % 8192;
      w.dest = memory[which].data() + cursor;
      cursor += w.length;
    }
    readers[which].submit(wanted[which]);
  };
  fill(0);
  for (int step = 0; step < 20; ++step) {
    const int now = step % 2;
    fill(1 - now);
    readers[now].wait();
    for (const ReadRequest& w : wanted[now]) ASSERT_TRUE(data.holds(w.offset, w.dest, w.length));
  }
  readers[0].wait();
  readers[1].wait();
}

TEST_P(ScatterReaderTest, OneSubmissionAtATime) {
  TestFile data(100000);
  const DirectFile file = DirectFile::open(data.path());
  IoOptions io_options;
  io_options.backend = GetParam();
  auto io = make_io_engine(file, io_options);
  ScatterReader reader(*io);
  std::vector<uint8_t> out(1000);
  const ReadRequest want{5, 1000, out.data(), 0};
  reader.submit(std::span(&want, 1));
  EXPECT_THROW(reader.submit(std::span(&want, 1)), Error);
  reader.wait();
  EXPECT_TRUE(data.holds(5, out.data(), out.size()));
}

TEST_P(ScatterReaderTest, ReadFailureSurfacesFromWait) {
  TestFile data(100000);
  const DirectFile file = DirectFile::open(data.path());
  IoOptions io_options;
  io_options.backend = GetParam();
  io_options.faults.faults.push_back({0, IoFaultKind::io_error, 0});
  auto io = make_io_engine(file, io_options);
  ScatterReader reader(*io);
  std::vector<uint8_t> out(1000);
  const ReadRequest want{5, 1000, out.data(), 0};
  reader.submit(std::span(&want, 1));
  EXPECT_THROW(reader.wait(), Error);
  reader.submit(std::span(&want, 1));  // usable again
  reader.wait();
  EXPECT_TRUE(data.holds(5, out.data(), out.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, ScatterReaderTest,
                         ::testing::Values(IoBackend::threads, IoBackend::io_uring),
                         testing_util::backend_name);

}  // namespace
}  // namespace sieve::flash
