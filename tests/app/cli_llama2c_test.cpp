// `sieve import-llama2c` and `sieve run --stats` as a user runs them, on
// ../shared/models/relu260K, converted by the very command README.md shows:
// the imported model's greedy tokens from BOS are the reference's, `sieve
// run` continues the reference's text and reports its fractions of
// exactly-zero activations; a missing --activation and other bad input get
// one line and a non-zero exit.

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "app/cli_test_util.h"
#include "engine.h"
#include "sampling/sampler.h"
#include "util/json_text.h"

namespace sieve::test {
namespace {

const std::filesystem::path kRelu = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "relu260K";

Json reference() {
  return Json::parse(slurp(std::filesystem::path(SIEVE_SHARED_DIR) / "reference" / "relu260K.greedy.json"));
}

// README.md's command for relu260K ("sieve import-llama2c ../shared/... \"
// and its continuation lines), without "sieve ", reading ../shared from
// SIEVE_SHARED_DIR and writing `out`.
std::string readme_import_command(const std::string& out) {
  const std::string readme = slurp(SIEVE_README);
  const size_t start = readme.find("sieve import-llama2c ../shared/models/relu260K/");
  if (start == std::string::npos) return "";
  std::string command;
  size_t at = start + 6;
  for (;;) {
    const size_t end = readme.find('\n', at);
    std::string line = readme.substr(at, end - at);
    const bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.pop_back();
    command += line;
    if (!continued || end == std::string::npos) break;
    at = end + 1;
  }
  command = std::regex_replace(command, std::regex("\\.\\./shared"), std::string(SIEVE_SHARED_DIR));
  return std::regex_replace(command, std::regex("-o relu260K\\.gguf"), "-o '" + out + "'");
}

std::string import_relu260k(const ScratchDir& dir) {
  const std::string out = dir.file("relu260K.gguf").string();
  const std::string command = readme_import_command(out);
  EXPECT_NE(command.find("--activation"), std::string::npos) << "README.md: " << command;
  const CliResult r = run_sieve(command);
  EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
  EXPECT_NE(r.out.find("llama2.c version 2, dim 64, 4 layers"), std::string::npos) << r.out;
  return out;
}

TEST(CliLlama2c, ReadmesImportOfRelu260KGivesTheReferenceGreedyTokensFromBos) {
  if (!std::filesystem::exists(kRelu)) GTEST_SKIP() << "no " << kRelu;
  ScratchDir dir("llama2c-cli-bos");
  EngineOptions options;
  options.model_path = import_relu260k(dir);
  options.threads = 1;
  const auto engine = Engine::load(options);
  const Json ref = reference();
  ASSERT_EQ(ref.at("start_token").get<int64_t>(), 1);
  std::vector<int32_t> expected;
  for (const Json& id : ref.at("greedy_tokens")) expected.push_back(static_cast<int32_t>(id.get<int64_t>()));
  ASSERT_EQ(expected.size(), 64u);

  sampling::Sampler sampler(sampling::SamplerOptions::greedy(), engine->model().n_vocab);
  std::vector<int32_t> tokens;
  for (int32_t token = 1; tokens.size() < expected.size(); tokens.push_back(token)) {
    token = sampler.sample(engine->decode(token));
  }
  EXPECT_EQ(tokens, expected);
}

TEST(CliLlama2c, ImportedRelu260KContinuesTheReferenceAndReportsItsSparsity) {
  if (!std::filesystem::exists(kRelu)) GTEST_SKIP() << "no " << kRelu;
  ScratchDir dir("llama2c-cli");
  const std::string model = import_relu260k(dir);
  const Json ref = reference();
  // The reference's first 4 tokens are " Once upon a time": as a prompt (with
  // BOS) they make the same 64 forward passes as greedy decoding from BOS.
  const std::string prompt = "Once upon a time";
  const std::string text = ref.at("text").get<std::string>();
  ASSERT_EQ(text.rfind(" " + prompt, 0), 0u);
  const CliResult r = run_sieve("run -m '" + model + "' -p '" + prompt + "' -n 60 --temp 0 -t 1 --stats");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, text.substr(1) + "\n");  // the prompt echoed, the continuation, a line break

  std::smatch row;
  ASSERT_TRUE(std::regex_search(r.err, row, std::regex("\nall +([0-9.]+) +([0-9.]+) +([0-9.]+)\n"))) << r.err;
  const Json& zero = ref.at("fraction_exactly_zero");
  EXPECT_NEAR(std::stod(row[1].str()), zero.at("attn_in_zero").get<double>(), 1e-3) << r.err;
  EXPECT_NEAR(std::stod(row[2].str()), zero.at("ffn_in_zero").get<double>(), 1e-3) << r.err;
  EXPECT_NEAR(std::stod(row[3].str()), zero.at("ffn_gate_zero").get<double>(), 1e-3) << r.err;
  const std::regex layer_row("\n[0-3] +[0-9.]+ +[0-9.]+ +[0-9.]+");
  EXPECT_EQ(std::distance(std::sregex_iterator(r.err.begin(), r.err.end(), layer_row), std::sregex_iterator()), 4)
      << r.err;
}

TEST(CliLlama2c, WithoutActivationTheImportIsRefusedNamingTheFlag) {
  if (!std::filesystem::exists(kRelu)) GTEST_SKIP() << "no " << kRelu;
  ScratchDir dir("llama2c-cli-activation");
  const std::string inputs = "import-llama2c '" + (kRelu / "model_qint80.bin").string() + "' '" +
                             (kRelu / "tok1024.bin").string() + "' -o '" + dir.file("out.gguf").string() + "'";
  const CliResult r = run_sieve(inputs);  // the command README.md used to show
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "sieve import-llama2c: the checkpoint does not record its feed-forward activation: say it with "
            "--activation silu|relu|fatrelu|shifted_relu (see --help)\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));

  const CliResult typo = run_sieve(inputs + " --activation shifted-relu");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err,
            "sieve import-llama2c: --activation: 'shifted-relu' is not one of silu, relu, fatrelu, shifted_relu; "
            "did you mean shifted_relu?\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));
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
                                  dir.file("bad.bin").string() + "' --activation silu" + out);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("sieve import-llama2c: bad.bin: llama2.c header field 'dim'"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));

  const CliResult help = run_sieve("import-llama2c --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--norm-relu-shift"), std::string::npos);
  EXPECT_NE(help.out.find("--activation is required"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace sieve::test
