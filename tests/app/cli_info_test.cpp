// Runs the built `sieve info` on the shared models and on broken files.

#include <gtest/gtest.h>

#include "app/cli_test_util.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "flash/pack_writer.h"
#include "gguf/gguf_file.h"

namespace {

using RunResult = sieve::test::ShellResult;
using sieve::test::run_sieve_shell;

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::vector<std::filesystem::path> shared_gguf_files() {
  std::vector<std::filesystem::path> files;
  for (const char* folder : {"models", "vocab"}) {
    const auto dir = std::filesystem::path(SIEVE_SHARED_DIR) / folder;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".gguf") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ScratchFile {
 public:
  explicit ScratchFile(const std::string& bytes) {
    path_ = std::filesystem::temp_directory_path() /
            ("sieve_cli_info_" + std::to_string(std::random_device{}()) + ".gguf");
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(CliInfo, DescribesEverySharedFile) {
  const auto files = shared_gguf_files();
  if (files.empty()) GTEST_SKIP() << "no GGUF files under " << SIEVE_SHARED_DIR;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    const auto file = sieve::gguf::GgufFile::open(path);
    const RunResult r = run_sieve_shell("info " + quoted(path));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("architecture     " + file.architecture() + "\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("tensors:         " + std::to_string(file.tensors().size()) + "\n"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("vocab size"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(file.architecture() + ".context_length"), std::string::npos) << r.output;
  }
}

TEST(CliInfo, MetadataAndTensorListings) {
  const auto path = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const auto file = sieve::gguf::GgufFile::open(path);
  const RunResult r = run_sieve_shell("info --metadata --tensors " + quoted(path));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& kv : file.metadata()) EXPECT_NE(r.output.find("  " + kv.key + " "), std::string::npos) << kv.key;
  for (const auto& t : file.tensors()) EXPECT_NE(r.output.find("  " + t.name + " "), std::string::npos) << t.name;
  EXPECT_NE(r.output.find("64 x 512"), std::string::npos);  // token_embd.weight dims
}

// The codebook and grid types by name in the tensor listing: IQ4_NL, IQ4_XS,
// IQ1_*, IQ2_* and IQ3_* in the shared i-quant files (IQ2_S beside the IQ3
// types), MXFP4 (GGUF id 39) in the gpt-oss experts.
TEST(CliInfo, NamesCodebookTensorTypes) {
  const auto models = std::filesystem::path(SIEVE_SHARED_DIR) / "models";
  const std::pair<const char*, const char*> cases[] = {
      {"synthI-iq4_nl.gguf", "IQ4_NL"}, {"synthI-iq4_xs.gguf", "IQ4_XS"}, {"arch/gpt-oss-mxfp4.gguf", "MXFP4"},
      {"synthI-iq2_xxs.gguf", "IQ2_XXS"}, {"synthI-iq2_xs.gguf", "IQ2_XS"},   {"synthI-iq3_xxs.gguf", "IQ2_S"},
      {"synthI-iq3_s.gguf", "IQ3_S"},   {"synthI-iq3_xxs.gguf", "IQ3_XXS"},
      {"synthI-iq1_s.gguf", "IQ1_S"},   {"synthI-iq1_m.gguf", "IQ1_M"}};
  for (const auto& [file, type] : cases) {
    const auto path = models / file;
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
    const RunResult r = run_sieve_shell("info --tensors " + quoted(path));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(std::string(" ") + type + " "), std::string::npos) << file << "\n" << r.output;
  }
}

// Types Sieve computes but cannot write are named as such in synth's help
// (and are not among its --type choices).
TEST(CliInfo, SynthHelpNamesTheReadOnlyTypes) {
  const RunResult help = run_sieve_shell("synth --help");
  ASSERT_EQ(help.exit_code, 0) << help.output;
  const size_t line = help.output.find("reads and runs but cannot write");
  ASSERT_NE(line, std::string::npos) << help.output;
  for (const char* type : {"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S"}) EXPECT_NE(help.output.find(type, line), std::string::npos) << type;
  EXPECT_EQ(run_sieve_shell("synth -o x.gguf --type iq3_s").exit_code, 2);  // a usage error, nothing written
}

TEST(CliInfo, HelpAndUsageErrors) {
  const RunResult help = run_sieve_shell("info --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage: sieve info"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--tensors"), std::string::npos) << help.output;
  EXPECT_EQ(run_sieve_shell("info").exit_code, 2);
  EXPECT_EQ(run_sieve_shell("info --bogus x.gguf").exit_code, 2);
}

void expect_one_line_error(const std::filesystem::path& path, const std::string& problem) {
  SCOPED_TRACE(path.string());
  const RunResult r = run_sieve_shell("info " + quoted(path), "2>&1 >/dev/null");
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_FALSE(r.output.empty());
  EXPECT_EQ(r.output.find("sieve info: " + path.string() + ": "), 0u) << r.output;
  EXPECT_NE(r.output.find(problem), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(CliInfo, BadFilesGiveOneLineErrors) {
  const ScratchFile garbage("this is not a model at all");
  expect_one_line_error(garbage.path(), "bad magic");
  const ScratchFile empty("");
  expect_one_line_error(empty.path(), "empty");
  const ScratchFile truncated(std::string("GGUF\x03\x00\x00\x00\x01", 9));
  expect_one_line_error(truncated.path(), "truncated");
  expect_one_line_error(std::filesystem::temp_directory_path() / "sieve_no_such_model.gguf", "cannot open");
}

// --plan: the engine's plan for a pack (Engine::plan, as the app's settings
// page shows it), under the mode options; a plain GGUF says it is not packed.
TEST(CliInfo, PlanShowsHowAPackSplitsTheBudget) {
  const auto model = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
  const auto pack = std::filesystem::temp_directory_path() / "sieve_cli_info_plan.sieve";
  sieve::flash::pack_model(model, pack);
  const RunResult all = run_sieve_shell("info --plan --threads 1 --ctx 64 " + quoted(pack));
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("flash mode, 1 thread, a 64-token context:"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("KV cache"), std::string::npos) << all.output;
  const RunResult sparse = run_sieve_shell("info --plan --mode sparse --window 2 " + quoted(pack));
  EXPECT_EQ(sparse.exit_code, 0) << sparse.output;
  EXPECT_NE(sparse.output.find("sparse mode"), std::string::npos) << sparse.output;
  EXPECT_NE(sparse.output.find("neuron stores"), std::string::npos) << sparse.output;
  const RunResult tiny = run_sieve_shell("info --plan --dram-budget 1K " + quoted(pack), "2>&1 >/dev/null");
  EXPECT_EQ(tiny.exit_code, 1);
  EXPECT_NE(tiny.output.find("below this model's minimum"), std::string::npos) << tiny.output;
  const RunResult plain = run_sieve_shell("info --plan " + quoted(model), "2>&1 >/dev/null");
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.output.find("is not packed"), std::string::npos) << plain.output;
  std::filesystem::remove(pack);
}

}  // namespace
