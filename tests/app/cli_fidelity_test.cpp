// `sieve fidelity` as a user runs it, on stories260K packed with `sieve pack`:
// flash mode is bit-identical to dense, so against dense it must agree at
// every position with KL exactly 0 — whether every layer is pinned or every
// layer is streamed — while only the streamed run reads bytes per token.
// Bad input gets one line and a non-zero exit.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/cli_test_util.h"
#include "engine.h"
#include "engine/pack_backend.h"
#include "flash/pack_file.h"
#include "util/json_text.h"

namespace sieve::test {
namespace {

const std::filesystem::path kText = std::filesystem::path(SIEVE_TEST_DATA_DIR) / "little_stories.txt";

std::string shell_quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

class CliFidelity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir("cli-fidelity");
    const CliResult r = run_sieve("pack " + shell_quoted(shared_model("stories260K.gguf")) + " -o " + shell_quoted(pack()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!std::filesystem::exists(shared_model("stories260K.gguf"))) GTEST_SKIP() << "no shared models";
    ASSERT_TRUE(std::filesystem::exists(pack()));
  }
  static std::filesystem::path pack() { return dir_->file("stories260K.sieve"); }

  static Json fidelity_json(const std::string& options) {
    const CliResult r = run_sieve("fidelity -m " + shell_quoted(pack()) + " --text " + shell_quoted(kText) + " -t 2 --json " +
                                  options);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out);
  }

  static inline ScratchDir* dir_ = nullptr;
};

// The smallest DRAM budget flash mode accepts: every FFN layer streamed.
uint64_t minimum_budget(const std::filesystem::path& pack, int64_t context) {
  const flash::PackFile file = flash::PackFile::open(pack);
  flash::BackendOptions options;
  options.mode = EngineMode::flash;
  options.context = context;
  return flash::plan_pack_memory(file, options, 2).minimum;
}

TEST_F(CliFidelity, FlashAgreesWithDenseEverywhere) {
  const Json v = fidelity_json("--mode flash --ctx 256 -n 300");
  EXPECT_EQ(v.at("mode").get<std::string>(), "flash");
  const int64_t tokens = v.at("tokens").get<int64_t>();
  EXPECT_EQ(tokens, 300);
  EXPECT_EQ(v.at("windows").get<int64_t>(), 2);  // 256 inputs, then BOS + the other 43
  // One prefilled token per window, the rest decoded: every input compared.
  EXPECT_EQ(v.at("positions").get<int64_t>(), tokens - 1);
  EXPECT_EQ(v.at("top1_agreement").get<double>(), 1.0);
  EXPECT_EQ(v.at("first_disagreement").get<int64_t>(), -1);
  EXPECT_EQ(v.at("mean_kl").get<double>(), 0.0);
  EXPECT_EQ(v.at("max_abs_logit_diff").get<double>(), 0.0);
  const double perplexity = v.at("perplexity_reference").get<double>();
  EXPECT_EQ(v.at("perplexity_candidate").get<double>(), perplexity);
  EXPECT_GT(perplexity, 1.0);
  EXPECT_LT(perplexity, 30.0);  // a story model on a simple story
  EXPECT_EQ(v.at("candidate").at("decode_tokens").get<int64_t>(), tokens - 3);  // 2 windows, 1 prefilled each
  EXPECT_EQ(v.at("candidate").at("bytes_read_per_token").get<double>(), 0.0);  // no budget: all pinned
}

TEST_F(CliFidelity, StreamingEveryLayerStillAgreesAndReadsPerToken) {
  const uint64_t budget = minimum_budget(pack(), 128);
  const Json v = fidelity_json("--mode flash --ctx 128 -n 200 --prefill 5 --dram-budget " +
                                      std::to_string(budget));
  EXPECT_EQ(v.at("tokens").get<int64_t>(), 200);
  EXPECT_EQ(v.at("windows").get<int64_t>(), 2);                 // 128 + (1 + 71) inputs of 199
  EXPECT_EQ(v.at("positions").get<int64_t>(), 199 - 2 * 4);     // 4 uncompared prefill positions per window
  EXPECT_EQ(v.at("top1_agreement").get<double>(), 1.0);
  EXPECT_EQ(v.at("mean_kl").get<double>(), 0.0);
  EXPECT_EQ(v.at("max_abs_logit_diff").get<double>(), 0.0);
  EXPECT_EQ(v.at("reference").at("bytes_read_per_token").get<double>(), 0.0);
  // Every decode step streams all 5 FFN layers of the pack.
  const flash::PackFile file = flash::PackFile::open(pack());
  uint64_t ffn_bytes = 0;
  for (int64_t layer = 0; layer < 5; ++layer) {
    const gguf::TensorInfo* bundles = file.gguf().find_tensor("blk." + std::to_string(layer) + ".ffn_bundles");
    ASSERT_NE(bundles, nullptr);
    ffn_bytes += bundles->size_bytes;
  }
  const double per_token = v.at("candidate").at("bytes_read_per_token").get<double>();
  EXPECT_GE(per_token, static_cast<double>(ffn_bytes) * 0.99);
  EXPECT_LE(per_token, static_cast<double>(ffn_bytes) * 1.5);
}

// relu260K's gate-resident predictor at sparsity 0 computes exactly the
// non-zero neurons (the oracle): the same output as dense up to the order of
// the down projection's sums, while most neurons are skipped.
TEST_F(CliFidelity, TheReluOracleFollowsDense) {
  const std::filesystem::path relu = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "relu260K";
  if (!std::filesystem::exists(relu)) GTEST_SKIP() << "no " << relu;
  const std::filesystem::path gguf = dir_->file("relu260K.gguf");
  const std::filesystem::path relu_pack = dir_->file("relu260K.sieve");
  CliResult r = run_sieve("import-llama2c " + shell_quoted(relu / "model_qint80.bin") + " " +
                          shell_quoted(relu / "tok1024.bin") + " -o " + shell_quoted(gguf) +
                          " --activation shifted_relu --relu-shift 0.25 --norm-relu-shift 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_sieve("pack " + shell_quoted(gguf) + " -o " + shell_quoted(relu_pack) + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_sieve("fidelity -m " + shell_quoted(relu_pack) + " --text " + shell_quoted(kText) +
                " -n 130 -t 2 --json --mode sparse --predictor gate --sparsity 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json v = Json::parse(r.out);
  EXPECT_EQ(v.at("windows").get<int64_t>(), 3);  // relu260K's context is 64
  EXPECT_EQ(v.at("top1_agreement").get<double>(), 1.0);
  EXPECT_LT(v.at("mean_kl").get<double>(), 1e-6);
  EXPECT_LT(v.at("max_abs_logit_diff").get<double>(), 0.05);
  EXPECT_NEAR(v.at("perplexity_candidate").get<double>(), v.at("perplexity_reference").get<double>(), 1e-3);
  const Json& sparse = v.at("candidate").at("sparse");
  // About 77% of relu260K's gate activations are zero: well under half of
  // its 4 x 192 neurons are needed per token.
  EXPECT_GT(sparse.at("neurons_predicted_per_token").get<double>(), 0.0);
  EXPECT_LT(sparse.at("neurons_predicted_per_token").get<double>(), 0.5 * 4 * 192);
}

TEST_F(CliFidelity, PrintsATable) {
  const CliResult r = run_sieve("fidelity -m " + shell_quoted(pack()) + " --text " + shell_quoted(kText) +
                                " -n 40 -t 2 --mode flash");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("top-1 agreement   1.0000 (39 of 39)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("KL(dense||flash)  mean 0 nats, max 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("perplexity"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read/token"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(CliFidelity, BadInputGetsOneLineAndANonZeroExit) {
  ScratchDir dir("cli-fidelity-errors");
  const std::string model = " -m " + shell_quoted(pack());
  const auto one_line = [](const CliResult& r, const std::string& expected) {
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  };

  const CliResult missing = run_sieve("fidelity" + model + " --text " + shell_quoted(dir.file("none.txt")));
  EXPECT_EQ(missing.exit_code, 1);
  one_line(missing, "sieve fidelity: " + dir.file("none.txt").string() + ": cannot read the file");

  std::ofstream(dir.file("empty.txt")).flush();
  const CliResult empty = run_sieve("fidelity" + model + " --text " + shell_quoted(dir.file("empty.txt")));
  EXPECT_EQ(empty.exit_code, 1);
  one_line(empty, "empty.txt: the text is empty");

  const CliResult gguf =
      run_sieve("fidelity -m " + shell_quoted(shared_model("stories260K.gguf")) + " --text " + shell_quoted(kText) + " --mode flash");
  EXPECT_EQ(gguf.exit_code, 1);
  one_line(gguf, "sieve pack");

  EXPECT_EQ(run_sieve("fidelity --text " + shell_quoted(kText)).exit_code, 2);                  // no -m
  EXPECT_EQ(run_sieve("fidelity" + model).exit_code, 2);                                  // no --text
  EXPECT_EQ(run_sieve("fidelity" + model + " --text " + shell_quoted(kText) + " -n 1").exit_code, 2);
  EXPECT_EQ(run_sieve("fidelity" + model + " --text " + shell_quoted(kText) + " --mode fast").exit_code, 2);
  EXPECT_EQ(run_sieve("fidelity" + model + " --text " + shell_quoted(kText) + " --prefill 0").exit_code, 2);
  EXPECT_EQ(run_sieve("fidelity" + model + " --text " + shell_quoted(kText) + " extra").exit_code, 2);

  const CliResult help = run_sieve("fidelity --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--text FILE"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace sieve::test
