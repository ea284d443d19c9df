// `sieve import-llama2c` and `sieve run --stats` as a user runs them, on
// ../shared/models/relu260K: the imported model continues the reference's
// greedy text and reports the reference's fractions of exactly-zero
// activations; bad input gets one line and a non-zero exit.

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <regex>
#include <string>

#include "app/cli_test_util.h"
#include "util/json.h"

namespace sieve::test {
namespace {

const std::filesystem::path kRelu = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "relu260K";
const std::string kReluFlags = " --activation shifted_relu --relu-shift 0.25 --norm-relu-shift 1";

std::string import_relu260k(const ScratchDir& dir) {
  const std::string out = dir.file("relu260K.gguf").string();
  const CliResult r = run_sieve("import-llama2c '" + (kRelu / "model_qint80.bin").string() + "' '" +
                                (kRelu / "tok1024.bin").string() + "' -o '" + out + "'" + kReluFlags);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("llama2.c version 2, dim 64, 4 layers"), std::string::npos) << r.out;
  return out;
}

TEST(CliLlama2c, ImportedRelu260KContinuesTheReferenceAndReportsItsSparsity) {
  if (!std::filesystem::exists(kRelu)) GTEST_SKIP() << "no " << kRelu;
  ScratchDir dir("llama2c-cli");
  const std::string model = import_relu260k(dir);
  const json::Value ref = json::parse(slurp(std::filesystem::path(SIEVE_SHARED_DIR) / "reference" /
                                            "relu260K.greedy.json"));
  // The reference's first 4 tokens are " Once upon a time": as a prompt (with
  // BOS) they make the same 64 forward passes as greedy decoding from BOS.
  const std::string prompt = "Once upon a time";
  const std::string text = ref.at("text").as_string();
  ASSERT_EQ(text.rfind(" " + prompt, 0), 0u);
  const CliResult r = run_sieve("run -m '" + model + "' -p '" + prompt + "' -n 60 --temp 0 -t 1 --stats");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, text.substr(prompt.size() + 1));

  std::smatch row;
  ASSERT_TRUE(std::regex_search(r.err, row, std::regex("\nall +([0-9.]+) +([0-9.]+) +([0-9.]+)\n"))) << r.err;
  const json::Value& zero = ref.at("fraction_exactly_zero");
  EXPECT_NEAR(std::stod(row[1].str()), zero.at("attn_in_zero").as_number(), 1e-3) << r.err;
  EXPECT_NEAR(std::stod(row[2].str()), zero.at("ffn_in_zero").as_number(), 1e-3) << r.err;
  EXPECT_NEAR(std::stod(row[3].str()), zero.at("ffn_gate_zero").as_number(), 1e-3) << r.err;
  const std::regex layer_row("\n[0-3] +[0-9.]+ +[0-9.]+ +[0-9.]+");
  EXPECT_EQ(std::distance(std::sregex_iterator(r.err.begin(), r.err.end(), layer_row), std::sregex_iterator()), 4)
      << r.err;
}

TEST(CliLlama2c, RunWithoutStatsPrintsNoTable) {
  const CliResult r = run_sieve("run -m " + shared_model("stories260K.gguf") + " -p Once -n 4 --temp 0 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("exactly-zero"), std::string::npos) << r.err;
}

TEST(CliLlama2c, BadInputGetsOneLineAndANonZeroExit) {
  ScratchDir dir("llama2c-cli-errors");
  const std::string out = " -o '" + dir.file("out.gguf").string() + "'";
  EXPECT_EQ(run_sieve("import-llama2c").exit_code, 2);
  EXPECT_EQ(run_sieve("import-llama2c a.bin" + out).exit_code, 2);
  EXPECT_EQ(run_sieve("import-llama2c a.bin b.bin").exit_code, 2);  // no -o
  EXPECT_EQ(run_sieve("import-llama2c a.bin b.bin --relu-shift 1" + out).exit_code, 2);
  EXPECT_EQ(run_sieve("import-llama2c a.bin b.bin --activation shifted_relu --relu-shift lots" + out).exit_code, 2);

  std::ofstream(dir.file("bad.bin"), std::ios::binary) << std::string(40, '\x7f');
  const CliResult bad = run_sieve("import-llama2c '" + dir.file("bad.bin").string() + "' '" +
                                  dir.file("bad.bin").string() + "'" + out);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("sieve import-llama2c: bad.bin: llama2.c header field 'dim'"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));

  const CliResult help = run_sieve("import-llama2c --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--norm-relu-shift"), std::string::npos);
}

}  // namespace
}  // namespace sieve::test
