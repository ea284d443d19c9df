// `sieve run/logits --mode sparse` and `sieve bench --modes flash,sparse
// --window LIST` as a user runs them, on a small synthetic ReLU pack; and the
// usage errors of the sparse options.

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "app/cli_test_util.h"
#include "core/sparse/sparse_test_util.h"
#include "flash/io/aligned_buffer.h"
#include "flash/io/direct_file.h"
#include "util/json_text.h"

namespace sieve::sparse {
namespace {

using namespace testing_util;
using test::run_sieve;

const SynthModel kCliModel{"cli-relu-f16", "f16", 128, 2, 512, 0.9};

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

class SparseCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(SIEVE_CLI_PATH)) GTEST_SKIP() << "sieve CLI not built";
  }
};

TEST_F(SparseCli, RunVerbosePrintsThePlanAndThePerTokenFigures) {
  const std::string pack = quoted(synth_pack(kCliModel));
  const test::CliResult dense = run_sieve("run -m " + pack + " -p hello -n 8 --temp 0 -t 2");
  ASSERT_EQ(dense.exit_code, 0) << dense.err;
  const test::CliResult r = run_sieve("run -m " + pack + " -p hello -n 8 --temp 0 -t 2 --mode sparse --window 2 -v");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, dense.out);  // the oracle predictor: the same greedy text
  EXPECT_NE(r.err.find("sparse mode plans"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("neuron stores"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("window 2 tokens"), std::string::npos) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("sparse: per token ([0-9]+) neurons predicted, ([0-9]+) loaded, "
                                                     "([0-9]+) in DRAM .*; ([0-9.]+) MB read per token, ([0-9.]+)% of")))
      << r.err;
  EXPECT_GT(std::stod(m[1].str()), 0.0);
  EXPECT_LT(std::stod(m[5].str()), 100.0);
}

TEST_F(SparseCli, LogitsInSparseModeFollowDense) {
  const std::string pack = quoted(synth_pack(kCliModel));
  const std::string tokens = " --tokens '1 17 200 31 5 99' --top 3 -t 2";
  const test::CliResult dense = run_sieve("logits -m " + pack + tokens);
  const test::CliResult sparse = run_sieve("logits -m " + pack + tokens + " --mode sparse --window 1 --no-pin-hot");
  ASSERT_EQ(dense.exit_code, 0) << dense.err;
  ASSERT_EQ(sparse.exit_code, 0) << sparse.err;
  // Each line is one position's best logits: the same ids in the same order.
  std::istringstream a(dense.out), b(sparse.out);
  std::string la, lb;
  int lines = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    ++lines;
    const Json ja = Json::parse(la), jb = Json::parse(lb);
    const Json& ta = ja.at("top");
    const Json& tb = jb.at("top");
    ASSERT_EQ(ta.size(), tb.size());
    for (size_t i = 0; i < ta.size(); ++i) {
      EXPECT_EQ(to_json_text(ta[i][0]), to_json_text(tb[i][0])) << la << "\n" << lb;
      const double a = ta[i][1].get<double>();
      EXPECT_NEAR(a, tb[i][1].get<double>(), 1e-3 * std::max(1.0, std::abs(a)));
    }
  }
  EXPECT_EQ(lines, 6);
  EXPECT_NE(run_sieve("chat -m " + pack + " --help").out.find("--predictor"), std::string::npos);
}

TEST_F(SparseCli, BenchComparesModesAndSweepsTheWindow) {
  const std::string pack = quoted(synth_pack(kCliModel));
  const auto json_file = temp_folder() / "bench.json";
  const test::CliResult r = run_sieve("bench -m " + pack + " --modes flash,sparse --window 0,2 --budgets 64M -n 4 -p 4 -t 2 "
                                      "--no-limit --json " + quoted(json_file));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("sparse k=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sparse k=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sparse mode per decoded token"), std::string::npos) << r.out;
  const Json all = Json::parse(test::slurp(json_file));
  const Json& runs = all.at("runs");
  ASSERT_EQ(runs.size(), 3u);
  for (size_t i = 1; i < 3; ++i) {
    const Json& run = runs[i];
    ASSERT_FALSE(run.contains("error")) << to_json_text(run);
    EXPECT_EQ(run.at("mode").get<std::string>(), "sparse");
    EXPECT_EQ(run.at("window").get<double>(), i == 1 ? 0 : 2);
    EXPECT_EQ(run.at("decode_sparse_tokens").get<double>(), 4);
    EXPECT_GT(run.at("decode_sparse_neurons_predicted").get<double>(), 0);
    EXPECT_GT(run.at("decode_sparse_bytes").get<double>(), 0);
  }
  // A wider window keeps more neurons: no more reads than with window 0.
  EXPECT_LE(runs[2].at("decode_sparse_neurons_loaded").get<double>(),
            runs[1].at("decode_sparse_neurons_loaded").get<double>());
}

// `sieve pack --neuron-units q8_0` on a quantized model: the extra section
// and its cost are printed and verified; sparse mode reads per-neuron units
// unless told --no-neuron-units; bad types and float FFNs are refused.
TEST_F(SparseCli, PackWithNeuronUnitsAndRunOnThem) {
  const auto folder = temp_folder();
  const test::CliResult synth = run_sieve("synth --dim 256 --layers 2 --ff 512 --heads 4 --kv-heads 2 --type q4_k "
                                          "--activation relu-threshold --sparsity 0.9 -t 2 -o " + quoted(folder / "cli-q4k.gguf"));
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  const std::string gguf = quoted(folder / "cli-q4k.gguf"), pack = quoted(folder / "cli-q4k-units.sieve");
  const test::CliResult packed = run_sieve("pack " + gguf + " -o " + pack + " --neuron-units q8_0 --verify -q");
  ASSERT_EQ(packed.exit_code, 0) << packed.err;
  EXPECT_NE(packed.out.find("per-neuron units (down columns Q8_0)"), std::string::npos) << packed.out;
  EXPECT_NE(packed.out.find("every checksum matches"), std::string::npos) << packed.out;
  const std::string run = "run -m " + pack + " -p hello -n 4 --temp 0 -t 2 --mode sparse -v";
  const test::CliResult units = run_sieve(run);
  ASSERT_EQ(units.exit_code, 0) << units.err;
  EXPECT_NE(units.err.find("per neuron (a per-neuron unit"), std::string::npos) << units.err;
  const test::CliResult clusters = run_sieve(run + " --no-neuron-units");
  ASSERT_EQ(clusters.exit_code, 0) << clusters.err;
  EXPECT_NE(clusters.err.find("per cluster of 256 neurons"), std::string::npos) << clusters.err;

  const test::CliResult bogus = run_sieve("pack " + gguf + " -o " + quoted(folder / "x.sieve") + " --neuron-units q9");
  EXPECT_EQ(bogus.exit_code, 2) << bogus.err;
  ASSERT_EQ(run_sieve("synth --dim 64 --layers 1 --ff 128 --heads 2 --kv-heads 2 --type f16 -t 1 -o " +
                      quoted(folder / "cli-f16.gguf")).exit_code, 0);
  const test::CliResult f16 =
      run_sieve("pack " + quoted(folder / "cli-f16.gguf") + " -o " + quoted(folder / "y.sieve") + " --neuron-units q8_0 -q");
  EXPECT_EQ(f16.exit_code, 1) << f16.err;
  EXPECT_NE(f16.err.find("per-neuron units already"), std::string::npos) << f16.err;
  EXPECT_FALSE(std::filesystem::exists(folder / "y.sieve"));
  EXPECT_EQ(run_sieve("run -m " + pack + " -p hi -n 1 --mode flash --no-neuron-units").exit_code, 2);
}

// Units of whole pages with padding (dim 1024: Q4_K up rows of 576 B and F16
// columns of 2 KiB, 2624 B used of 4 KiB) are read and stored as their used
// bytes rounded to the file's direct-I/O alignment when it is under a page
// (3 KiB at 512 B), the plan included; --whole-unit-reads keeps whole pages.
// The greedy text is the same either way: the kernel sees the same bytes.
TEST_F(SparseCli, UnitsAreReadToTheDisksAlignment) {
  const auto folder = temp_folder();
  const std::string gguf = quoted(folder / "cli-q4k-1024.gguf"), pack = quoted(folder / "cli-q4k-1024.sieve");
  const test::CliResult synth = run_sieve("synth --dim 1024 --layers 1 --ff 512 --heads 8 --kv-heads 4 --type q4_k "
                                          "--activation relu-threshold --sparsity 0.9 -t 2 -o " + gguf);
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  const test::CliResult packed = run_sieve("pack " + gguf + " -o " + pack + " --neuron-units f16 -q");
  ASSERT_EQ(packed.exit_code, 0) << packed.err;
  const uint32_t alignment = flash::DirectFile::open((folder / "cli-q4k-1024.sieve").string()).required_alignment();
  const bool sectors = alignment >= 512 && alignment < 4096;
  const uint64_t sector_bytes = sectors ? flash::align_up(2624, alignment) : 4096;  // 3072 at 512 B
  const std::string sector_text =
      sector_bytes % 1024 == 0 ? std::to_string(sector_bytes / 1024) + " KiB" : std::to_string(sector_bytes) + " B";
  const std::string run = "run -m " + pack + " -p hello -n 6 --temp 0 -t 2 --mode sparse --dram-budget 64M -v";
  const test::CliResult read_to_sectors = run_sieve(run), whole = run_sieve(run + " --whole-unit-reads");
  ASSERT_EQ(read_to_sectors.exit_code, 0) << read_to_sectors.err;
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_NE(read_to_sectors.err.find("reads: " + sector_text + " per neuron"), std::string::npos) << read_to_sectors.err;
  EXPECT_NE(whole.err.find("reads: 4 KiB per neuron"), std::string::npos) << whole.err;
  EXPECT_EQ(read_to_sectors.out, whole.out);
}

TEST_F(SparseCli, BadSparseOptionsAreUsageErrors) {
  const std::string pack = quoted(synth_pack(kCliModel));
  const std::string run = "run -m " + pack + " -p hi -n 1 ";
  for (const char* bad : {"--window 2", "--mode flash --predictor lowrank", "--mode sparse --window -1",
                                 "--mode sparse --window two", "--mode sparse --predictor guess",
                                 "--mode sparse --gate-copy q9_9", "--mode sparse --sparsity 1.5",
                                 "--mode sparse --predictor lowrank --sparsity 0.5", "--mode dense --dram-budget 1G"}) {
    const test::CliResult r = run_sieve(run + std::string(bad));
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << bad << ": " << r.err;
  }
  const test::CliResult copy = run_sieve(run + "--mode sparse --gate-copy q9_9");
  EXPECT_NE(copy.err.find("expected auto, exact or a tensor type"), std::string::npos) << copy.err;
  for (const char* good : {"auto", "exact", "q8_0"}) {
    const test::CliResult r = run_sieve(run + "--mode sparse --gate-copy " + std::string(good));
    EXPECT_EQ(r.exit_code, 0) << good << ": " << r.err;
  }
  EXPECT_EQ(run_sieve("bench -m " + pack + " --modes flash --window 2").exit_code, 2);
  EXPECT_EQ(run_sieve("bench -m " + pack + " --modes sparse --window 1,x").exit_code, 2);
  // A plain GGUF cannot run sparse: one line naming the file.
  const test::CliResult gguf = run_sieve("run -m '" + test::shared_model("stories260K.gguf") + "' -p hi --mode sparse");
  EXPECT_EQ(gguf.exit_code, 1);
  EXPECT_NE(gguf.err.find("stories260K.gguf: sparse mode needs a Sieve pack"), std::string::npos) << gguf.err;
}

}  // namespace
}  // namespace sieve::sparse
