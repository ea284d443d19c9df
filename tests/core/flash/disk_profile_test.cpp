#include "flash/io/disk_profile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flash/io/disk_probe.h"
#include "flash_test_util.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

DiskPoint point(uint32_t chunk, uint32_t depth, double mb_per_s) {
  DiskPoint p;
  p.chunk_bytes = chunk;
  p.queue_depth = depth;
  p.mb_per_s = mb_per_s;
  p.iops = mb_per_s * 1e6 / chunk;
  p.mean_latency_us = depth / p.iops * 1e6;
  p.reads = 1000;
  p.seconds = 0.5;
  return p;
}

DiskProfile sample_profile() {
  DiskProfile profile;
  profile.folder = "/data \"ssd\"";
  profile.backend = "io_uring";
  profile.cache_mode = "O_DIRECT";
  profile.file_bytes = 1 << 30;
  profile.points = {point(4096, 1, 40),      point(4096, 16, 400),      point(65536, 1, 300),
                    point(65536, 16, 1900),  point(1 << 20, 1, 1200),   point(1 << 20, 16, 2000)};
  return profile;
}

TEST(DiskProfile, BestAndKnee) {
  const DiskProfile profile = sample_profile();
  ASSERT_NE(profile.best(), nullptr);
  EXPECT_EQ(profile.best()->chunk_bytes, 1u << 20);
  EXPECT_EQ(profile.best()->queue_depth, 16u);
  const DiskPoint* knee = profile.knee(0.9);
  ASSERT_NE(knee, nullptr);
  EXPECT_EQ(knee->chunk_bytes, 65536u);  // 1900 >= 0.9 * 2000 with the smallest chunk
  EXPECT_EQ(knee->queue_depth, 16u);
  EXPECT_EQ(profile.knee(1.0)->chunk_bytes, 1u << 20);
  EXPECT_EQ(DiskProfile{}.best(), nullptr);
  EXPECT_EQ(DiskProfile{}.knee(), nullptr);
}

TEST(DiskProfile, BandwidthBetweenMeasuredPoints) {
  const DiskProfile profile = sample_profile();
  EXPECT_DOUBLE_EQ(profile.mb_per_s_at(65536, 16), 1900);
  EXPECT_DOUBLE_EQ(profile.mb_per_s_at(16384, 16), 400 + (1900 - 400) * 0.5);  // halfway in log2
  EXPECT_DOUBLE_EQ(profile.mb_per_s_at(512, 16), 400);                         // clamped below
  EXPECT_DOUBLE_EQ(profile.mb_per_s_at(8 << 20, 16), 2000);                    // clamped above
  EXPECT_DOUBLE_EQ(profile.mb_per_s_at(65536, 2), 300);    // nearest measured depth: 1
  EXPECT_DOUBLE_EQ(profile.mb_per_s_at(65536, 64), 1900);  // nearest: 16
  EXPECT_EQ(DiskProfile{}.mb_per_s_at(4096, 1), 0);
}

TEST(DiskProfile, SavesAndLoadsAsJson) {
  const DiskProfile profile = sample_profile();
  const std::string path = testing_util::unique_path("profile.json");
  profile.save(path);
  const DiskProfile loaded = DiskProfile::load(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.folder, profile.folder);
  EXPECT_EQ(loaded.backend, profile.backend);
  EXPECT_EQ(loaded.cache_mode, profile.cache_mode);
  EXPECT_EQ(loaded.file_bytes, profile.file_bytes);
  ASSERT_EQ(loaded.points.size(), profile.points.size());
  for (size_t i = 0; i < profile.points.size(); ++i) {
    EXPECT_EQ(loaded.points[i].chunk_bytes, profile.points[i].chunk_bytes);
    EXPECT_EQ(loaded.points[i].queue_depth, profile.points[i].queue_depth);
    EXPECT_DOUBLE_EQ(loaded.points[i].mb_per_s, profile.points[i].mb_per_s);
    EXPECT_DOUBLE_EQ(loaded.points[i].iops, profile.points[i].iops);
    EXPECT_DOUBLE_EQ(loaded.points[i].mean_latency_us, profile.points[i].mean_latency_us);
    EXPECT_EQ(loaded.points[i].reads, profile.points[i].reads);
  }
}

TEST(DiskProfile, LoadErrorsNameTheFile) {
  const std::string path = testing_util::unique_path("bad.json");
  EXPECT_THROW(DiskProfile::load(path), Error);  // missing
  for (const char* text : {"not json", "{\"format\":\"other\"}",
                           "{\"format\":\"sieve-disk-profile\",\"version\":1}",
                           "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":\"x\",\"backend\":\"t\","
                           "\"cache_mode\":\"d\",\"file_bytes\":1,\"points\":[{\"chunk_bytes\":0,"
                           "\"queue_depth\":1,\"mb_per_s\":1,\"iops\":1}]}",
                           // members of the wrong kind: nlohmann's type errors, reported like the rest
                           "[1,2]", "{\"format\":\"sieve-disk-profile\",\"version\":\"1\"}",
                           "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":3,\"backend\":\"t\","
                           "\"cache_mode\":\"d\",\"file_bytes\":1,\"points\":[]}",
                           "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":\"x\",\"backend\":\"t\","
                           "\"cache_mode\":\"d\",\"file_bytes\":1.5,\"points\":[]}",
                           "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":\"x\",\"backend\":\"t\","
                           "\"cache_mode\":\"d\",\"file_bytes\":1,\"points\":5}",
                           "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":\"x\",\"backend\":\"t\","
                           "\"cache_mode\":\"d\",\"file_bytes\":1,\"points\":[7]}"}) {
    std::ofstream(path) << text;
    try {
      DiskProfile::load(path);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(path);
}

// Profiles saved before nlohmann-json wrote round counts as doubles
// ("file_bytes":1e+09); they still load.
TEST(DiskProfile, LoadsCountsWrittenAsWholeDoubles) {
  const DiskProfile profile = DiskProfile::from_json(
      "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":\"/d\",\"backend\":\"threads\","
      "\"cache_mode\":\"O_DIRECT\",\"file_bytes\":1e+09,\"points\":[{\"chunk_bytes\":4096,\"queue_depth\":1,"
      "\"mb_per_s\":40,\"iops\":9765.625,\"mean_latency_us\":102.4,\"reads\":1e+06,\"seconds\":0.5}]}",
      "old.json");
  EXPECT_EQ(profile.file_bytes, 1000000000u);
  ASSERT_EQ(profile.points.size(), 1u);
  EXPECT_EQ(profile.points[0].chunk_bytes, 4096u);
  EXPECT_EQ(profile.points[0].reads, 1000000u);
  EXPECT_DOUBLE_EQ(profile.points[0].mb_per_s, 40);
}

// The saved text: compact, members in a fixed order, counts as integers.
TEST(DiskProfile, SavesCompactJsonWithIntegerCounts) {
  DiskProfile profile;
  profile.folder = "/d";
  profile.backend = "threads";
  profile.cache_mode = "O_DIRECT";
  profile.file_bytes = 1000000000;
  DiskPoint p;
  p.chunk_bytes = 4096;
  p.queue_depth = 1;
  p.mb_per_s = 40;
  p.iops = 9765.625;
  p.mean_latency_us = 102.5;
  p.reads = 1000;
  p.seconds = 0.5;
  profile.points = {p};
  EXPECT_EQ(profile.to_json(),
            "{\"format\":\"sieve-disk-profile\",\"version\":1,\"folder\":\"/d\",\"backend\":\"threads\","
            "\"cache_mode\":\"O_DIRECT\",\"file_bytes\":1000000000,\"points\":[{\"chunk_bytes\":4096,\"queue_depth\":1,"
            "\"mb_per_s\":40.0,\"iops\":9765.625,\"mean_latency_us\":102.5,\"reads\":1000,\"seconds\":0.5}]}\n");
}

ProbeOptions tiny_probe(const std::string& folder) {
  ProbeOptions options;
  options.folder = folder;
  options.file_bytes = 2 << 20;
  options.chunk_sizes = {4096, 65536, 4 << 20};  // the last is larger than the file: skipped
  options.queue_depths = {1, 4};
  options.seconds_per_point = 0.05;
  return options;
}

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = testing_util::unique_path("probe");
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }
  std::string folder_;
};

TEST_F(ProbeTest, MeasuresEveryPointAndRemovesItsFile) {
  for (IoBackend backend : testing_util::testable_backends()) {
    ProbeOptions options = tiny_probe(folder_);
    options.backend = backend;
    std::vector<DiskPoint> seen;
    std::vector<std::string> messages;
    ProbeEvents events;
    events.on_point = [&](const DiskPoint& p) { seen.push_back(p); };
    events.on_message = [&](const std::string& m) { messages.push_back(m); };
    const DiskProfile profile = probe_disk(options, events);
    EXPECT_EQ(profile.backend, to_string(backend));
    EXPECT_EQ(profile.file_bytes, 2u << 20);
    ASSERT_EQ(profile.points.size(), 4u);
    EXPECT_EQ(seen.size(), 4u);
    for (const DiskPoint& p : profile.points) {
      EXPECT_GT(p.reads, 0u);
      EXPECT_GT(p.mb_per_s, 0);
      EXPECT_NEAR(p.mb_per_s, p.iops * p.chunk_bytes / 1e6, 1e-6 * p.mb_per_s);
      EXPECT_GE(p.seconds, 0.05);
    }
    EXPECT_EQ(profile.points[0].chunk_bytes, 4096u);
    EXPECT_EQ(profile.points[1].queue_depth, 4u);
    EXPECT_FALSE(std::filesystem::exists(probe_file_path(folder_)));
    EXPECT_FALSE(messages.empty());
  }
}

TEST_F(ProbeTest, KeepLeavesTheFileAndTheNextRunReusesIt) {
  ProbeOptions options = tiny_probe(folder_);
  options.chunk_sizes = {4096};
  options.queue_depths = {2};
  options.keep_file = true;
  probe_disk(options);
  ASSERT_TRUE(std::filesystem::exists(probe_file_path(folder_)));
  EXPECT_EQ(std::filesystem::file_size(probe_file_path(folder_)), 2u << 20);
  std::vector<std::string> messages;
  ProbeEvents events;
  events.on_message = [&](const std::string& m) { messages.push_back(m); };
  options.keep_file = false;
  probe_disk(options, events);
  ASSERT_FALSE(messages.empty());
  EXPECT_NE(messages[0].find("reusing"), std::string::npos) << messages[0];
  EXPECT_FALSE(std::filesystem::exists(probe_file_path(folder_)));
}

TEST_F(ProbeTest, RejectsBadOptions) {
  ProbeOptions options = tiny_probe(folder_);
  options.chunk_sizes = {5000};
  EXPECT_THROW(probe_disk(options), Error);
  options = tiny_probe(folder_);
  options.queue_depths = {0};
  EXPECT_THROW(probe_disk(options), Error);
  options = tiny_probe(folder_);
  options.seconds_per_point = 0;
  EXPECT_THROW(probe_disk(options), Error);
  options = tiny_probe(folder_);
  options.file_bytes = 1000;
  EXPECT_THROW(probe_disk(options), Error);
  options = tiny_probe(folder_ + "/missing");
  EXPECT_THROW(probe_disk(options), Error);
  EXPECT_FALSE(std::filesystem::exists(probe_file_path(folder_)));
}

}  // namespace
}  // namespace sieve::flash
