#include "flash/io/direct_file.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

#include "flash/io/aligned_buffer.h"
#include "flash_test_util.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using testing_util::TestFile;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DirectFile, OpensAFileOnDiskBypassingTheCache) {
  TestFile data(3 * 4096 + 100);
  DirectFile file = DirectFile::open(data.path());
  EXPECT_EQ(file.path(), data.path());
  EXPECT_EQ(file.size(), data.size());
  // On a disk filesystem O_DIRECT works; a test folder on an old tmpfs falls back.
  if (file.is_direct()) {
    EXPECT_TRUE(is_power_of_two(file.required_alignment()));
    EXPECT_GE(file.required_alignment(), 512u);
    EXPECT_TRUE(file.fallback_reason().empty());
  } else {
    EXPECT_TRUE(file.is_buffered_fallback()) << file.describe_cache_mode();
    EXPECT_EQ(file.required_alignment(), 1u);
    EXPECT_FALSE(file.fallback_reason().empty());
  }
  if (file.logical_block_size() != 0) {
    EXPECT_TRUE(is_power_of_two(file.logical_block_size()));
    EXPECT_GE(file.logical_block_size(), 512u);
    EXPECT_LE(file.logical_block_size(), 65536u);
  }
  std::printf("[ info ] %s: %s, logical block %u, read alignment %u\n", data.path().c_str(),
              file.describe_cache_mode().c_str(), file.logical_block_size(), file.required_alignment());
}

TEST(DirectFile, ReadSomeReadsTheFileAndStopsAtItsEnd) {
  TestFile data(2 * 4096 + 100);
  DirectFile file = DirectFile::open(data.path());
  AlignedBuffer buffer(4 * 4096);
  ReadResult r = file.read_some(4096, 4096, buffer.data());
  ASSERT_EQ(r.os_error, 0);
  ASSERT_EQ(r.bytes, 4096u);
  EXPECT_TRUE(data.holds(4096, buffer.data(), 4096));
  r = file.read_some(8192, 4096, buffer.data());  // the partial last block
  ASSERT_EQ(r.os_error, 0);
  ASSERT_EQ(r.bytes, 100u);
  EXPECT_TRUE(data.holds(8192, buffer.data(), 100));
  r = file.read_some(12288, 4096, buffer.data());
  EXPECT_EQ(r.os_error, 0);
  EXPECT_EQ(r.bytes, 0u);
}

TEST(DirectFile, MissingFileErrorNamesThePathAndTheOsReason) {
  const std::string path = testing_util::unique_path("missing.bin");
  const std::string message = error_of([&] { DirectFile::open(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(os_error_text(ENOENT)), std::string::npos) << message;
}

TEST(DirectFile, RefusesAFolder) {
  const std::string message = error_of([] { DirectFile::open(::testing::TempDir()); });
  EXPECT_FALSE(message.empty());
}

TEST(DirectFile, SimulatedRefusalFallsBackToBufferedReadsWithDroppedPages) {
  TestFile data(10000);
  OpenOptions options;
  options.simulate_direct_refused = true;
  DirectFile file = DirectFile::open(data.path(), options);
  EXPECT_TRUE(file.is_buffered_fallback());
  EXPECT_EQ(file.cache_bypass(), CacheBypass::dropped_after_read);
  EXPECT_EQ(file.required_alignment(), 1u);
  EXPECT_NE(file.fallback_reason().find("simulated"), std::string::npos);
  std::vector<uint8_t> out(333);  // unaligned everything is fine when buffered
  const ReadResult r = file.read_some(1234, 333, out.data());
  ASSERT_EQ(r.bytes, 333u);
  EXPECT_TRUE(data.holds(1234, out.data(), 333));
  file.drop_cached(1234, 333);
}

TEST(DirectFile, PlainBufferedWhenNoBypassIsAsked) {
  TestFile data(5000);
  OpenOptions options;
  options.bypass_cache = false;
  DirectFile file = DirectFile::open(data.path(), options);
  EXPECT_EQ(file.cache_bypass(), CacheBypass::none);
  EXPECT_EQ(file.required_alignment(), 1u);
}

TEST(DirectFile, MoveKeepsTheOpenFile) {
  TestFile data(8192);
  DirectFile a = DirectFile::open(data.path());
  DirectFile b = std::move(a);
  AlignedBuffer buffer(4096);
  const ReadResult r = b.read_some(0, 4096, buffer.data());
  ASSERT_EQ(r.bytes, 4096u);
  EXPECT_TRUE(data.holds(0, buffer.data(), 4096));
}

}  // namespace
}  // namespace sieve::flash
