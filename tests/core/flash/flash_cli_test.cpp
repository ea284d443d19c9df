// `sieve pack`, `sieve run/logits --mode flash` and `sieve bench` end to end
// on the small shared models.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/flash/pack_test_util.h"
#include "util/json_text.h"

namespace sieve::flash {
namespace {

using namespace testing_util;
namespace fs = std::filesystem;

struct CliRun {
  int exit_code;
  std::string out, err;
};

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

CliRun run_cli(const std::string& arguments) {
  static int counter = 0;
  const fs::path out = temp_folder() / ("cli_" + std::to_string(++counter) + ".out");
  const fs::path err = temp_folder() / ("cli_" + std::to_string(counter) + ".err");
  const std::string command = std::string("\"") + SIEVE_CLI_PATH + "\" " + arguments + " > \"" + out.string() +
                              "\" 2> \"" + err.string() + "\"";
#ifdef _WIN32
  // cmd.exe /c drops the first and the last quote of a line that starts with one: quote it whole.
  const int status = std::system(("\"" + command + "\"").c_str());
#else
  const int status = std::system(command.c_str());
#endif
#ifdef _WIN32
  const int code = status;
#else
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
  return {code, slurp(out), slurp(err)};
}

std::string quoted(const fs::path& p) {
  std::string text = "\"";
  text += p.string();
  text += "\"";
  return text;
}

class FlashCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(SIEVE_CLI_PATH)) GTEST_SKIP() << "sieve CLI not built";
  }
};

TEST_F(FlashCli, PackWritesAVerifiedPackWithProgress) {
  const fs::path out = temp_folder() / "cli_stories.sieve";
  const CliRun r = run_cli("pack " + quoted(shared_model("stories260K")) + " -o " + quoted(out) + " --verify");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("packed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5 layers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("every checksum matches"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("MB/s"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out));

  EXPECT_EQ(run_cli("pack " + quoted(shared_model("stories260K"))).exit_code, 2);  // no -o
  const CliRun again = run_cli("pack " + quoted(out) + " -o " + quoted(temp_folder() / "x.sieve"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already a Sieve pack"), std::string::npos) << again.err;
}

TEST_F(FlashCli, RunInFlashModeWritesTheDenseTextAndPrintsThePlan) {
  EngineOptions o = engine_options(packed("stories260K"), EngineMode::flash, 0, 64);
  const std::string common = " -p \"Once upon a time\" -n 24 --temp 0 -t 2 --ctx 128";
  const CliRun dense = run_cli("run -m " + quoted(shared_model("stories260K")) + common);
  ASSERT_EQ(dense.exit_code, 0) << dense.err;
  o.context = 128;
  const uint64_t minimum = unlimited_plan(o).minimum;
  const CliRun flash = run_cli("run -m " + quoted(packed("stories260K")) + common + " --mode flash --dram-budget " +
                               std::to_string(minimum) + " -v");
  ASSERT_EQ(flash.exit_code, 0) << flash.err;
  EXPECT_EQ(flash.out, dense.out);
  EXPECT_NE(flash.err.find("DRAM budget"), std::string::npos) << flash.err;
  EXPECT_NE(flash.err.find("5 layers streamed"), std::string::npos) << flash.err;
  EXPECT_NE(flash.err.find("flash: streamed"), std::string::npos) << flash.err;

  const CliRun low = run_cli("run -m " + quoted(packed("stories260K")) + common + " --mode flash --dram-budget 1M");
  EXPECT_EQ(low.exit_code, 1);
  EXPECT_NE(low.err.find("below this model's minimum"), std::string::npos) << low.err;
  const CliRun gguf = run_cli("run -m " + quoted(shared_model("stories260K")) + common + " --mode flash");
  EXPECT_EQ(gguf.exit_code, 1);
  EXPECT_NE(gguf.err.find("sieve pack"), std::string::npos) << gguf.err;
  EXPECT_EQ(run_cli("run -m " + quoted(packed("stories260K")) + common + " --mode fast").exit_code, 2);
  EXPECT_EQ(run_cli("run -m " + quoted(packed("stories260K")) + common + " --dram-budget 2G").exit_code, 2);
}

TEST_F(FlashCli, LogitsAgreeAcrossModes) {
  const std::string tokens = " --tokens \"1 400 22 9 310 77\" -t 2";
  const CliRun dense = run_cli("logits -m " + quoted(shared_model("synthA-q4_0")) + tokens);
  ASSERT_EQ(dense.exit_code, 0) << dense.err;
  for (const char* mode : {"mmap", "dense", "flash"}) {
    const CliRun r = run_cli("logits -m " + quoted(packed("synthA-q4_0")) + tokens + " --mode " + mode);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, dense.out) << mode;
  }
}

TEST_F(FlashCli, BenchMeasuresEachModeInAWorkerAndWritesJson) {
  EngineOptions o = engine_options(packed("synthA-q8_0"), EngineMode::flash, 64, 64);
  o.batch = 3;  // the run's --batch: its scratch is part of the plan
  const uint64_t budget = unlimited_plan(o).minimum;  // every layer streamed
  const fs::path json_file = temp_folder() / "bench.json";
  const CliRun r = run_cli("bench -m " + quoted(packed("synthA-q8_0")) + " --budgets " + std::to_string(budget) +
                           " --modes mmap,flash -n 3 -p 4 -t 2 --ctx 64 --batch 3 --json " + quoted(json_file));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("tok/s"), std::string::npos) << r.out;
  const Json all = Json::parse(slurp(json_file));
  EXPECT_NE(all.at("mmap_model").get<std::string>().find("synthA-q8_0"), std::string::npos);
  const Json& runs = all.at("runs");
  ASSERT_EQ(runs.size(), 2u);
  for (const Json& run : runs) {
    ASSERT_FALSE(run.contains("error")) << to_json_text(run);
    EXPECT_EQ(run.at("decode_tokens").get<int64_t>(), 3);
    EXPECT_EQ(run.at("batch").get<int64_t>(), 3);  // the 4-token prompt in steps of 3 and 1
    EXPECT_GT(run.at("decode_tokens_per_second").get<double>(), 0.0);
    EXPECT_GT(run.at("peak_rss_bytes").get<int64_t>(), 0);
    const Json& cg = run.at("cgroup");
    if (cg.at("constrained").get<bool>()) {
      EXPECT_EQ(cg.at("limit_bytes").get<int64_t>(), static_cast<int64_t>(budget + (64u << 20)));
    } else {
      EXPECT_FALSE(cg.at("why").get<std::string>().empty());
    }
  }
  EXPECT_EQ(runs[0].at("mode").get<std::string>(), "mmap");
  EXPECT_EQ(runs[1].at("mode").get<std::string>(), "flash");
  const PackFile pack = PackFile::open(packed("synthA-q8_0"));
  uint64_t per_token = 0;
  for (int64_t l = 0; l < pack.n_layers(); ++l) per_token += pack.layout(l).layer_bytes();
  EXPECT_EQ(runs[1].at("decode_flash_bytes").get<int64_t>(), static_cast<int64_t>(3 * per_token));

  const CliRun bad = run_cli("bench -m " + quoted(packed("synthA-q8_0")) + " --modes warp");
  EXPECT_EQ(bad.exit_code, 2);
  const CliRun bad_batch = run_cli("bench -m " + quoted(packed("synthA-q8_0")) + " --batch 0");
  EXPECT_EQ(bad_batch.exit_code, 2);
  EXPECT_NE(bad_batch.err.find("--batch"), std::string::npos) << bad_batch.err;
}

// Flash mode on a Mixture-of-Experts GGUF (no pack): the expert table, and
// the reference timed under the same limit when it is installed
// (../shared/tools/reference/install puts it in ~/.cache/sieve-reference).
TEST_F(FlashCli, BenchStreamsExpertsAndTimesTheReferenceBesideThem) {
  const fs::path model = fs::path(SIEVE_SHARED_DIR) / "models" / "arch" / "qwen3moe.gguf";
  if (!fs::exists(model)) GTEST_SKIP() << "missing " << model;
  const fs::path json_file = temp_folder() / "bench-experts.json";
  const std::string common = "bench -m " + quoted(model) + " --budgets 4500K --modes flash -n 6 -p 4 -t 2 --ctx 64";
  const CliRun r = run_cli(common + " --json " + quoted(json_file));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("expert streaming per decoded token"), std::string::npos) << r.out;
  const Json run = Json::parse(slurp(json_file)).at("runs").at(0);
  ASSERT_FALSE(run.contains("error")) << to_json_text(run);
  const int64_t chosen = run.at("decode_expert_hits").get<int64_t>() + run.at("decode_expert_misses").get<int64_t>();
  EXPECT_EQ(chosen, 6 * 2 * 4) << "6 tokens, 2 layers, 4 experts each";
  EXPECT_GT(run.at("decode_expert_misses").get<int64_t>(), 0) << "4500K holds fewer than all 32 experts";
  EXPECT_GE(run.at("decode_flash_bytes").get<int64_t>(), run.at("decode_expert_bytes_wanted").get<int64_t>());

  const CliRun missing = run_cli(common + " --reference " + quoted(temp_folder() / "no-such-refbench.mjs"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--reference"), std::string::npos) << missing.err;

  const char* home = std::getenv("HOME");
  const fs::path script = fs::path(home != nullptr ? home : "") / ".cache" / "sieve-reference" / "refbench.mjs";
  if (!fs::exists(script)) return;  // the reference is a measuring tool, installed on demand
  const CliRun both = run_cli(common + " --reference " + quoted(script) + " --json " + quoted(json_file));
  ASSERT_EQ(both.exit_code, 0) << both.err << both.out;
  const Json all = Json::parse(slurp(json_file));
  const Json& runs = all.at("runs");
  ASSERT_EQ(runs.size(), 2u);
  ASSERT_FALSE(runs[1].contains("error")) << to_json_text(runs[1]);
  EXPECT_EQ(runs[1].at("mode").get<std::string>(), "reference");
  EXPECT_GT(runs[1].at("decode_tokens_per_second").get<double>(), 0.0);
  EXPECT_EQ(runs[1].at("cgroup").at("constrained"), runs[0].at("cgroup").at("constrained"));
}

}  // namespace
}  // namespace sieve::flash
