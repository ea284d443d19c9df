#include "flash/io/io_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>

#include "flash/io/aligned_buffer.h"
#include "flash_test_util.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using testing_util::TestFile;

constexpr size_t kFileSize = 4 * 1024 * 1024 + 1234;  // a partial last block

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class IoEngineTest : public ::testing::TestWithParam<IoBackend> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == IoBackend::io_uring && !io_uring_available(&why)) GTEST_SKIP() << why;
  }

  std::unique_ptr<IoEngine> engine(const DirectFile& file, uint32_t depth = 16, IoFaults faults = {}) {
    IoOptions options;
    options.backend = GetParam();
    options.queue_depth = depth;
    options.faults = std::move(faults);
    auto e = make_io_engine(file, options);
    EXPECT_EQ(e->backend(), GetParam());
    EXPECT_EQ(e->queue_depth(), depth);
    return e;
  }

  // `count` random aligned reads of 1..max_blocks blocks into `memory`.
  static std::vector<ReadRequest> random_reads(const DirectFile& file, AlignedBuffer& memory, size_t count,
                                               uint32_t max_blocks, uint32_t seed) {
    const uint64_t block = std::max<uint64_t>(4096, file.required_alignment());
    const uint64_t blocks_in_file = align_up(file.size(), block) / block;
    std::mt19937 rng(seed);
    std::vector<ReadRequest> reads(count);
    memory.reserve_discard(count * max_blocks * block);
    for (size_t i = 0; i < count; ++i) {
      const uint64_t first = rng() % blocks_in_file;
      const uint64_t n = 1 + rng() % std::min<uint64_t>(max_blocks, blocks_in_file - first);
      reads[i].offset = first * block;
      reads[i].length = static_cast<uint32_t>(n * block);
      reads[i].dest = memory.data() + i * max_blocks * block;
      reads[i].tag = i;
    }
    return reads;
  }

  static void expect_read(const TestFile& data, const ReadRequest& r) {
    const size_t valid = std::min<uint64_t>(r.length, data.size() - r.offset);
    EXPECT_TRUE(data.holds(r.offset, r.dest, valid)) << "read " << r.tag;
  }
};

TEST_P(IoEngineTest, RandomReadsMatchTheFileAtEveryDepth) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  AlignedBuffer memory;
  for (uint32_t depth : {1u, 2u, 4u, 16u, 64u, 256u}) {
    auto io = engine(file, depth);
    const auto reads = random_reads(file, memory, 300, 8, depth);
    io->wait(io->submit(reads));
    for (const ReadRequest& r : reads) expect_read(data, r);
    const IoStats stats = io->stats();
    EXPECT_GE(stats.reads_issued, reads.size());
    EXPECT_EQ(stats.failed_requests, 0u);
  }
}

TEST_P(IoEngineTest, LargeReadsAndTheLastPartialBlock) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file, 4);
  const uint64_t block = std::max<uint64_t>(4096, file.required_alignment());
  AlignedBuffer whole(align_up(kFileSize, block));
  // The whole file in one request: it runs into the padding of the last block.
  ReadRequest all{0, static_cast<uint32_t>(whole.size()), whole.data(), 7};
  io->wait(io->submit(std::span(&all, 1)));
  EXPECT_TRUE(data.holds(0, whole.data(), kFileSize));
  EXPECT_EQ(io->stats().bytes_read, kFileSize);
}

TEST_P(IoEngineTest, BatchesCanBeWaitedInAnyOrder) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file, 8);
  std::vector<AlignedBuffer> memory(6);
  std::vector<std::vector<ReadRequest>> reads;
  std::vector<IoBatch> batches;
  for (size_t b = 0; b < memory.size(); ++b) {
    reads.push_back(random_reads(file, memory[b], 20, 4, static_cast<uint32_t>(100 + b)));
    batches.push_back(io->submit(reads.back()));
  }
  for (size_t b = memory.size(); b-- > 0;) {  // newest first
    io->wait(batches[b]);
    EXPECT_TRUE(io->poll(batches[b]));  // forgotten: nothing to wait for
    for (const ReadRequest& r : reads[b]) expect_read(data, r);
  }
  EXPECT_FALSE(io->wait_any().valid());
}

TEST_P(IoEngineTest, WaitAnyHandsOutEachFinishedBatchOnce) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file, 4);
  AlignedBuffer memory;
  const auto reads = random_reads(file, memory, 40, 2, 5);
  std::vector<uint64_t> submitted;
  for (const ReadRequest& r : reads) submitted.push_back(io->submit(std::span(&r, 1)).id);
  std::vector<uint64_t> collected;
  for (IoBatch b = io->wait_any(); b.valid(); b = io->wait_any()) {
    EXPECT_TRUE(io->poll(b));
    io->wait(b);
    collected.push_back(b.id);
  }
  std::sort(collected.begin(), collected.end());
  EXPECT_EQ(collected, submitted);
  for (const ReadRequest& r : reads) expect_read(data, r);
}

TEST_P(IoEngineTest, PipelinedBatchesOverlapWithWork) {
  // The streaming pattern: submit layer L+1, use layer L, wait for L+1.
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file, 32);
  AlignedBuffer memory[2];
  std::vector<ReadRequest> reads[2];
  reads[0] = random_reads(file, memory[0], 50, 4, 1);
  IoBatch current = io->submit(reads[0]);
  for (int layer = 0; layer < 8; ++layer) {
    const int next = (layer + 1) % 2;
    reads[next] = random_reads(file, memory[next], 50, 4, static_cast<uint32_t>(layer + 2));
    const IoBatch upcoming = io->submit(reads[next]);
    io->wait(current);
    for (const ReadRequest& r : reads[layer % 2]) expect_read(data, r);
    current = upcoming;
  }
  io->wait_all();
}

TEST_P(IoEngineTest, EmptyAndZeroLengthRequestsCompleteAtOnce) {
  TestFile data(8192);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file);
  const IoBatch empty = io->submit({});
  EXPECT_TRUE(io->poll(empty));
  EXPECT_EQ(io->wait_any().id, empty.id);
  io->wait(empty);
  ReadRequest nothing{0, 0, nullptr, 0};
  io->wait(io->submit(std::span(&nothing, 1)));
  EXPECT_EQ(io->stats().reads_issued, 0u);
}

TEST_P(IoEngineTest, RejectsBadRequestsBeforeQueueingAny) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file);
  AlignedBuffer memory(1 << 20);
  const uint32_t a = std::max<uint32_t>(4096, file.required_alignment());
  const ReadRequest good{0, a, memory.data(), 0};

  const ReadRequest past_end{file.padded_size(), a, memory.data(), 0};
  std::vector<ReadRequest> batch{good, past_end};
  std::string message = error_of([&] { io->submit(batch); });
  EXPECT_NE(message.find(data.path()), std::string::npos) << message;
  EXPECT_NE(message.find("past the end"), std::string::npos) << message;
  EXPECT_NE(message.find("offset " + std::to_string(past_end.offset)), std::string::npos) << message;

  const ReadRequest too_long{align_down(kFileSize, a), 2 * a, memory.data(), 0};
  EXPECT_NE(error_of([&] { io->submit(std::span(&too_long, 1)); }).find("past the end"), std::string::npos);

  const ReadRequest no_dest{0, a, nullptr, 0};
  EXPECT_NE(error_of([&] { io->submit(std::span(&no_dest, 1)); }).find("no destination"), std::string::npos);

  if (file.required_alignment() > 1) {
    for (const ReadRequest& bad : {ReadRequest{1, a, memory.data(), 0}, ReadRequest{0, a + 1, memory.data(), 0},
                                   ReadRequest{0, a, memory.data() + 1, 0}}) {
      message = error_of([&] { io->submit(std::span(&bad, 1)); });
      EXPECT_NE(message.find("not aligned"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(io->stats().reads_issued, 0u);  // the good request of the failed batch was not queued
  EXPECT_FALSE(io->wait_any().valid());
}

TEST_P(IoEngineTest, WaitingForAnUnknownBatchIsAnError) {
  TestFile data(8192);
  const DirectFile file = DirectFile::open(data.path());
  auto io = engine(file);
  EXPECT_THROW(io->wait(IoBatch{}), Error);
  const IoBatch b = io->submit({});
  io->wait(b);
  EXPECT_THROW(io->wait(b), Error);  // already collected
}

TEST_P(IoEngineTest, DestroyingTheEngineWaitsForReadsInFlight) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  AlignedBuffer memory;
  std::vector<ReadRequest> reads;
  {
    auto io = engine(file, 8);
    reads = random_reads(file, memory, 200, 8, 9);
    io->submit(reads);
  }  // no wait: the destructor must drain before the buffers could go away
  for (const ReadRequest& r : reads) expect_read(data, r);
}

TEST_P(IoEngineTest, ShortReadsAreContinued) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  IoFaults faults;
  faults.faults.push_back({0, IoFaultKind::short_read, 4096});
  faults.faults.push_back({1, IoFaultKind::short_read, 8192});
  auto io = engine(file, 1, faults);
  AlignedBuffer memory(65536);
  ReadRequest r{65536, 65536, memory.data(), 0};
  io->wait(io->submit(std::span(&r, 1)));
  EXPECT_TRUE(data.holds(r.offset, memory.data(), r.length));
  const IoStats stats = io->stats();
  EXPECT_EQ(stats.reads_issued, 3u);  // 4096, then 8192, then the remaining 53248
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.bytes_read, 65536u);
}

TEST_P(IoEngineTest, InjectedEioFailsTheBatchNamingFileOffsetAndLength) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  IoFaults faults;
  faults.faults.push_back({0, IoFaultKind::io_error, 0});
  auto io = engine(file, 4, faults);
  AlignedBuffer memory(1 << 20);
  ReadRequest r{12288, 32768, memory.data(), 0};
  const std::string message = error_of([&] { io->wait(io->submit(std::span(&r, 1))); });
  EXPECT_NE(message.find(data.path()), std::string::npos) << message;
  EXPECT_NE(message.find("offset 12288"), std::string::npos) << message;
  EXPECT_NE(message.find("32768 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find(os_error_text(os_io_error_code())), std::string::npos) << message;
  EXPECT_NE(message.find("injected"), std::string::npos) << message;
  EXPECT_EQ(io->stats().failed_requests, 1u);

  // The engine carries on: later batches are unaffected.
  AlignedBuffer more;
  const auto reads = random_reads(file, more, 50, 4, 3);
  io->wait(io->submit(reads));
  for (const ReadRequest& read : reads) expect_read(data, read);
}

TEST_P(IoEngineTest, AFailedReadLetsTheRestOfItsBatchFinish) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  IoFaults faults;
  faults.faults.push_back({17, IoFaultKind::io_error, 0});
  faults.faults.push_back({30, IoFaultKind::end_of_file, 0});
  auto io = engine(file, 8, faults);
  AlignedBuffer memory;
  const auto reads = random_reads(file, memory, 64, 4, 11);
  const IoBatch batch = io->submit(reads);
  const std::string message = error_of([&] { io->wait(batch); });
  EXPECT_NE(message.find("injected"), std::string::npos) << message;
  EXPECT_EQ(io->stats().failed_requests, 2u);
  EXPECT_FALSE(io->wait_any().valid());  // nothing left hanging
}

TEST_P(IoEngineTest, EndOfFileInsideARequestIsAnError) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  IoFaults faults;
  faults.faults.push_back({1, IoFaultKind::end_of_file, 0});  // the file "shrank" under the second read
  faults.faults.push_back({0, IoFaultKind::short_read, 4096});
  auto io = engine(file, 2, faults);
  AlignedBuffer memory(65536);
  ReadRequest r{0, 65536, memory.data(), 0};
  const std::string message = error_of([&] { io->wait(io->submit(std::span(&r, 1))); });
  EXPECT_NE(message.find("ended after 4096"), std::string::npos) << message;
  EXPECT_NE(message.find("65536 bytes at offset 0"), std::string::npos) << message;
}

TEST_P(IoEngineTest, WaitAllReportsTheFirstFailureAndForgetsEverything) {
  TestFile data(kFileSize);
  const DirectFile file = DirectFile::open(data.path());
  IoFaults faults;
  faults.faults.push_back({0, IoFaultKind::io_error, 0});
  auto io = engine(file, 1, faults);
  AlignedBuffer memory;
  const auto reads = random_reads(file, memory, 10, 2, 4);
  io->submit(std::span(reads).first(1));
  io->submit(std::span(reads).subspan(1));
  EXPECT_THROW(io->wait_all(), Error);
  EXPECT_FALSE(io->wait_any().valid());
  for (const ReadRequest& r : std::span(reads).subspan(1)) expect_read(data, r);
}

TEST_P(IoEngineTest, BufferedFallbackReadsUnalignedRanges) {
  TestFile data(100000);
  OpenOptions open;
  open.simulate_direct_refused = true;
  const DirectFile file = DirectFile::open(data.path(), open);
  ASSERT_TRUE(file.is_buffered_fallback());
  auto io = engine(file, 4);
  std::vector<uint8_t> out(5000);
  ReadRequest r{777, 5000, out.data(), 0};
  io->wait(io->submit(std::span(&r, 1)));
  EXPECT_TRUE(data.holds(777, out.data(), out.size()));
  ReadRequest padded{98304, 4096, out.data(), 0};  // the last page, padding included
  io->wait(io->submit(std::span(&padded, 1)));
  EXPECT_TRUE(data.holds(98304, out.data(), 100000 - 98304));
  ReadRequest past{99000, 3401, out.data(), 0};  // one byte past the padding
  EXPECT_THROW(io->submit(std::span(&past, 1)), Error);
}

TEST_P(IoEngineTest, FileOnTmpfs) {
  // /dev/shm refused O_DIRECT before Linux 6.6; either way reads must be right.
  if (!std::filesystem::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm here";
  TestFile data(1 << 20, 3, "/dev/shm");
  const DirectFile file = DirectFile::open(data.path());
  EXPECT_TRUE(file.is_direct() || file.is_buffered_fallback()) << file.describe_cache_mode();
  std::printf("[ info ] tmpfs: %s\n", file.describe_cache_mode().c_str());
  auto io = engine(file, 8);
  AlignedBuffer memory;
  const auto reads = random_reads(file, memory, 100, 4, 8);
  io->wait(io->submit(reads));
  for (const ReadRequest& r : reads) expect_read(data, r);
}

INSTANTIATE_TEST_SUITE_P(Backends, IoEngineTest, ::testing::Values(IoBackend::threads, IoBackend::io_uring),
                         testing_util::backend_name);

TEST(IoEngine, AutomaticPicksAWorkingBackend) {
  TestFile data(8192);
  const DirectFile file = DirectFile::open(data.path());
  auto io = make_io_engine(file);
  EXPECT_EQ(io->queue_depth(), 64u);
  if (io_uring_available()) {
    EXPECT_EQ(io->backend(), IoBackend::io_uring);
  } else {
    EXPECT_EQ(io->backend(), IoBackend::threads);
    EXPECT_FALSE(io->backend_note().empty());
  }
}

TEST(IoEngine, RejectsQueueDepthOutOfRange) {
  TestFile data(8192);
  const DirectFile file = DirectFile::open(data.path());
  IoOptions options;
  options.queue_depth = 0;
  EXPECT_THROW(make_io_engine(file, options), Error);
  options.queue_depth = 5000;
  EXPECT_THROW(make_io_engine(file, options), Error);
}

TEST(IoEngine, BackendNamesRoundTrip) {
  for (IoBackend b : {IoBackend::automatic, IoBackend::io_uring, IoBackend::threads}) {
    EXPECT_EQ(parse_io_backend(to_string(b)), b);
  }
  EXPECT_THROW(parse_io_backend("aio"), Error);
}

}  // namespace
}  // namespace sieve::flash
