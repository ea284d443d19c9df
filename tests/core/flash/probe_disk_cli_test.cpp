// `sieve probe-disk` end to end, on a tiny file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flash/io/disk_probe.h"
#include "flash/io/disk_profile.h"
#include "flash_test_util.h"

namespace sieve::flash {
namespace {

struct CliRun {
  int exit_code;
  std::string output;
};

CliRun run_cli(const std::string& arguments) {
  const std::string log = testing_util::unique_path("cli.log");
  const std::string command = std::string("\"") + SIEVE_CLI_PATH + "\" " + arguments + " > \"" + log + "\" 2>&1";
#ifdef _WIN32
  // cmd.exe /c drops the first and the last quote of a line that starts with one: quote it whole.
  const int status = std::system(("\"" + command + "\"").c_str());
#else
  const int status = std::system(command.c_str());
#endif
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  in.close();  // Windows cannot delete a file that is still open
  std::filesystem::remove(log);
#ifdef _WIN32
  const int code = status;
#else
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
  return {code, text.str()};
}

class ProbeDiskCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(SIEVE_CLI_PATH)) GTEST_SKIP() << "sieve CLI not built";
    folder_ = testing_util::unique_path("cli");
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!folder_.empty()) std::filesystem::remove_all(folder_, ec);
  }
  std::string folder_;
};

TEST_F(ProbeDiskCli, PrintsTheTableAndSavesTheProfile) {
  const std::string json = folder_ + "/profile.json";
  const CliRun run = run_cli("probe-disk \"" + folder_ +
                          "\" --size 2M --chunks 4K,64K --depths 1,2 --seconds 0.05 --json \"" + json + "\"");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("MB/s"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("best:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("90% of best"), std::string::npos) << run.output;
  const DiskProfile profile = DiskProfile::load(json);
  EXPECT_EQ(profile.points.size(), 4u);
  EXPECT_FALSE(std::filesystem::exists(probe_file_path(folder_)));  // cleaned up
}

TEST_F(ProbeDiskCli, KeepLeavesTheTestFile) {
  const CliRun run = run_cli("probe-disk \"" + folder_ + "\" --size 1M --chunks 4K --depths 1 --seconds 0.02 --keep");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(probe_file_path(folder_)));
}

TEST_F(ProbeDiskCli, BadOptionsAreUsageErrors) {
  EXPECT_EQ(run_cli("probe-disk --depths 1,x").exit_code, 2);
  EXPECT_EQ(run_cli("probe-disk --chunks 4Q").exit_code, 2);
  EXPECT_EQ(run_cli("probe-disk --backend aio").exit_code, 2);
  const CliRun odd = run_cli("probe-disk \"" + folder_ + "\" --size 1M --chunks 5000 --depths 1 --seconds 0.02");
  EXPECT_EQ(odd.exit_code, 1);
  EXPECT_NE(odd.output.find("multiple of 4096"), std::string::npos) << odd.output;
  EXPECT_EQ(run_cli("probe-disk --help").exit_code, 0);
}

}  // namespace
}  // namespace sieve::flash
