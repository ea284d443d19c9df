// `--mode auto`: the decision (dense / flash / mmap, sparse only offered),
// the facts read from real model files, the engine resolving it, the default
// budget, and the budget text a person types.

#include "engine/auto_mode.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine.h"
#include "flash/pack_writer.h"
#include "flash/planner.h"
#include "util/byte_size.h"
#include "util/system_memory.h"

namespace sieve::flash {
namespace {

constexpr uint64_t MiB = uint64_t{1} << 20;
constexpr uint64_t GiB = uint64_t{1} << 30;

ModeFacts pack_facts() {
  ModeFacts f;
  f.model_name = "tl.sieve";
  f.is_pack = true;
  f.everything_bytes = 2200 * MiB;
  f.weight_bytes = 2000 * MiB;
  f.flash_minimum = 800 * MiB;
  f.budget = 1024 * MiB;
  f.flash_resident_weight_bytes = 820 * MiB;
  f.flash_read_per_token = 1180 * MiB;
  return f;
}

TEST(AutoModeDecision, DenseWhenTheWholeModelFits) {
  ModeFacts f = pack_facts();
  f.budget = 3 * GiB;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::dense);
  EXPECT_EQ(c.budget, 0u);
  EXPECT_EQ(c.line, "dense: the whole model (2.15 GiB with its KV cache) fits in the 3.00 GiB budget");
}

TEST(AutoModeDecision, FlashForAPackThatDoesNotFit) {
  const ModeChoice c = choose_engine_mode(pack_facts());
  EXPECT_EQ(c.mode, EngineMode::flash);
  EXPECT_EQ(c.budget, 1024 * MiB);
  EXPECT_EQ(c.line,
            "flash: 41% of the weights stay in memory, 1.15 GiB read per token (the whole model needs 2.15 GiB, "
            "the budget is 1.00 GiB)");
  EXPECT_TRUE(c.offer.empty());  // not calibrated
}

TEST(AutoModeDecision, MmapWithTheMinimumWhenTheBudgetIsBelowFlashMode) {
  ModeFacts f = pack_facts();
  f.budget = 500 * MiB;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::mmap);
  EXPECT_EQ(c.budget, 0u);
  EXPECT_NE(c.line.find("below flash mode's minimum of 800.0 MiB"), std::string::npos) << c.line;
}

TEST(AutoModeDecision, APlainGgufThatDoesNotFitSaysToPackIt) {
  ModeFacts f;
  f.model_name = "big.gguf";
  f.everything_bytes = 20 * GiB;
  f.weight_bytes = 19 * GiB;
  f.budget = 8 * GiB;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::mmap);
  EXPECT_NE(c.line.find("not packed"), std::string::npos) << c.line;
  EXPECT_NE(c.line.find("`sieve pack big.gguf -o big.sieve`"), std::string::npos) << c.line;
  EXPECT_NE(c.line.find("Models page"), std::string::npos) << c.line;
}

TEST(AutoModeDecision, AnExpertModelThatDoesNotFitStreamsItsExperts) {
  ModeFacts f;
  f.model_name = "moe.gguf";
  f.is_moe = true;
  f.everything_bytes = 20 * GiB;
  f.weight_bytes = 19 * GiB;
  f.flash_minimum = 2 * GiB;
  f.all_experts = 6144;
  f.cached_experts = 2310;
  f.budget = 8 * GiB;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::flash);
  EXPECT_EQ(c.budget, 8 * GiB);
  EXPECT_NE(c.line.find("2310 of 6144 experts (38%) stay in memory"), std::string::npos) << c.line;
  f.budget = GiB;
  const ModeChoice below = choose_engine_mode(f);
  EXPECT_EQ(below.mode, EngineMode::mmap);
  EXPECT_EQ(below.line.find("sieve pack"), std::string::npos) << below.line;
  EXPECT_NE(below.line.find("minimum of 2.00 GiB"), std::string::npos) << below.line;
}


TEST(AutoModeDecision, ACalibratedPackOffersSparseWithItsFidelityButNeverChoosesIt) {
  ModeFacts f = pack_facts();
  f.calibration_tokens = 4096;
  f.lowrank_predictors = true;
  f.fidelity_positions = 224;
  f.fidelity_top1 = 0.955;
  f.fidelity_kl = 0.0144;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::flash);
  EXPECT_NE(c.offer.find("calibrated on 4096 tokens"), std::string::npos) << c.offer;
  EXPECT_NE(c.offer.find("on 224 held-out tokens it chose dense mode's next token 95.5% of the time (mean KL "
                         "0.0144 nats)"),
            std::string::npos)
      << c.offer;
  EXPECT_NE(c.offer.find("not exact"), std::string::npos) << c.offer;
  f.budget = 3 * GiB;
  EXPECT_EQ(choose_engine_mode(f).mode, EngineMode::dense);
  EXPECT_FALSE(choose_engine_mode(f).offer.empty());
}

TEST(AutoModeDecision, AnUnmeasuredOfferSaysSoAndHowToMeasure) {
  ModeFacts f = pack_facts();
  f.calibration_tokens = 4096;
  f.lowrank_predictors = true;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_NE(c.offer.find("not measured yet"), std::string::npos) << c.offer;
  EXPECT_NE(c.offer.find("sieve fidelity -m "), std::string::npos) << c.offer;
}

TEST(AutoModeDecision, NoOfferWithoutCalibratedPredictors) {
  ModeFacts f = pack_facts();
  f.calibration_tokens = 4096;  // a SiLU model: quantiles and frequencies, no predictors
  EXPECT_TRUE(choose_engine_mode(f).offer.empty());
  f.calibration_tokens = 0;  // `sieve pack`'s SVD predictors, never calibrated
  f.lowrank_predictors = true;
  EXPECT_TRUE(choose_engine_mode(f).offer.empty());
}

TEST(AutoModeDecision, AGateSparsityChosenForAFidelityTargetIsOfferedWithItsFigure) {
  ModeFacts f = pack_facts();
  f.calibration_tokens = 4096;  // SwiGLU: no low-rank predictors
  f.gate_sparsity = 0.4;
  f.gate_fidelity_positions = 255;
  f.gate_fidelity_top1 = 0.992;
  f.gate_fidelity_kl = 0.0012;
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::flash);  // offered, never chosen
  EXPECT_NE(c.offer.find("sparse (predictor \"gate\") would skip 40% of the neurons"), std::string::npos) << c.offer;
  EXPECT_NE(c.offer.find("on 255 held-out tokens it chose dense mode's next token 99.2% of the time (mean KL 0.0012 "
                         "nats)"),
            std::string::npos)
      << c.offer;
  EXPECT_NE(c.offer.find("not exact"), std::string::npos) << c.offer;
  f.gate_sparsity = 0;  // a target of 1: sparse mode would skip nothing, so there is nothing to offer
  EXPECT_TRUE(choose_engine_mode(f).offer.empty());
  f.gate_sparsity = 0.4;
  f.gate_fidelity_positions = 0;  // chosen but not measured: never offered without its figure
  EXPECT_TRUE(choose_engine_mode(f).offer.empty());
}

TEST(AutoModeDecision, ParsesAsAMode) {
  EXPECT_EQ(parse_engine_mode("auto"), EngineMode::automatic);
  EXPECT_STREQ(to_string(EngineMode::automatic), "auto");
}

std::filesystem::path shared_model(const std::string& name) {
  return std::filesystem::path(SIEVE_SHARED_DIR) / "models" / (name + ".gguf");
}

std::filesystem::path stories_pack() {
  static const std::filesystem::path out = [] {
    const auto folder = std::filesystem::path(::testing::TempDir()) / "sieve_auto_mode_test";
    std::filesystem::create_directories(folder);
    const auto path = folder / "stories260K.sieve";
    pack_model(shared_model("stories260K"), path);
    return path;
  }();
  return out;
}

EngineOptions options_for(const std::filesystem::path& model) {
  EngineOptions o;
  o.model_path = model;
  o.threads = 1;
  o.context = 64;
  return o;
}

TEST(AutoModeFacts, AnExpertGgufPlansItsExpertCache) {
  EngineOptions options = options_for(std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "arch" / "qwen3moe.gguf");
  const ModeFacts f = gather_mode_facts(options, 64 * MiB);
  EXPECT_TRUE(f.is_moe);
  EXPECT_EQ(f.all_experts, 32);
  EXPECT_EQ(f.cached_experts, 32);
  const ModeFacts tight = gather_mode_facts(options, f.flash_minimum);
  EXPECT_EQ(tight.cached_experts, 4);  // one layer's choice
  EXPECT_EQ(choose_engine_mode(tight).mode, EngineMode::flash);
}

TEST(AutoModeFacts, APlainGgufFitsOrIsPagedWithAdvice) {
  const EngineOptions options = options_for(shared_model("stories260K"));
  const ModeFacts f = gather_mode_facts(options, GiB);
  EXPECT_FALSE(f.is_pack);
  EXPECT_GT(f.weight_bytes, 0u);
  EXPECT_GT(f.everything_bytes, f.weight_bytes);
  EXPECT_EQ(choose_engine_mode(f).mode, EngineMode::dense);
  const ModeChoice small = choose_engine_mode(gather_mode_facts(options, 64 * 1024));
  EXPECT_EQ(small.mode, EngineMode::mmap);
  EXPECT_NE(small.line.find("sieve pack stories260K.gguf -o stories260K.sieve"), std::string::npos) << small.line;
}

TEST(AutoModeFacts, APackBetweenItsMinimumAndEverythingRunsFlash) {
  const EngineOptions options = options_for(stories_pack());
  const ModeFacts all = gather_mode_facts(options, GiB);
  ASSERT_TRUE(all.is_pack);
  ASSERT_LT(all.flash_minimum, all.everything_bytes);
  const uint64_t between = all.flash_minimum + (all.everything_bytes - all.flash_minimum) / 4;
  const ModeFacts f = gather_mode_facts(options, between);
  EXPECT_GT(f.flash_read_per_token, 0u);
  EXPECT_LT(f.flash_resident_weight_bytes, f.weight_bytes);
  const ModeChoice c = choose_engine_mode(f);
  EXPECT_EQ(c.mode, EngineMode::flash);
  EXPECT_EQ(c.line.rfind("flash: ", 0), 0u) << c.line;
  EXPECT_EQ(choose_engine_mode(gather_mode_facts(options, all.flash_minimum - 1)).mode, EngineMode::mmap);
}

TEST(AutoModeEngine, LoadResolvesAutoAndSaysWhy) {
  const EngineOptions probe = options_for(stories_pack());
  const ModeFacts all = gather_mode_facts(probe, GiB);
  EngineOptions options = probe;
  options.mode = EngineMode::automatic;
  options.dram_budget.bytes = all.flash_minimum + (all.everything_bytes - all.flash_minimum) / 4;
  const auto engine = Engine::load(options);
  EXPECT_EQ(engine->model().mode, EngineMode::flash);
  EXPECT_EQ(engine->model().dram_budget_bytes, options.dram_budget.bytes);
  EXPECT_EQ(engine->model().mode_choice.rfind("flash: ", 0), 0u) << engine->model().mode_choice;
  EXPECT_GT(engine->decode(1).size(), 0u);

  options.dram_budget = {};  // the default: 60% of the memory available, far more than stories260K needs
  const auto dense = Engine::load(options);
  EXPECT_EQ(dense->model().mode, EngineMode::dense);
  EXPECT_EQ(dense->model().mode_choice.rfind("dense: the whole model", 0), 0u) << dense->model().mode_choice;

  options.mode = EngineMode::flash;  // an explicit mode says nothing
  EXPECT_TRUE(Engine::load(options)->model().mode_choice.empty());
}

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `sieve ARGUMENTS`, its exit code, stdout and stderr.
CliRun run_cli(const std::string& arguments) {
  static int counter = 0;
  const auto folder = std::filesystem::path(::testing::TempDir()) / "sieve_auto_mode_test";
  std::filesystem::create_directories(folder);
  const auto out = folder / ("cli_" + std::to_string(++counter) + ".out");
  const auto err = folder / ("cli_" + std::to_string(counter) + ".err");
  std::string command = std::string("\"") + SIEVE_CLI_PATH + "\" " + arguments + " > \"" + out.string() + "\" 2> \"" +
                        err.string() + "\"";
#ifdef _WIN32
  command = "\"" + command + "\"";  // cmd.exe /c drops the first and last quote of a line starting with one
  const int code = std::system(command.c_str());
#else
  const int status = std::system(command.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
  return {code, slurp(out), slurp(err)};
}

TEST(AutoModeCli, RunPrintsTheChoiceAndWritesTheSameText) {
  if (!std::filesystem::exists(SIEVE_CLI_PATH)) GTEST_SKIP() << "sieve CLI not built";
  const std::string common = " -p \"Once upon a time\" -n 16 --temp 0 -t 1 --ctx 64";
  const std::string pack = "\"" + stories_pack().string() + "\"";
  const CliRun dense = run_cli("run -m " + pack + common + " --mode dense");
  ASSERT_EQ(dense.exit_code, 0) << dense.err;
  const CliRun fits = run_cli("run -m " + pack + common + " --mode auto");
  ASSERT_EQ(fits.exit_code, 0) << fits.err;
  EXPECT_EQ(fits.out, dense.out);
  EXPECT_NE(fits.err.find("dense: the whole model"), std::string::npos) << fits.err;

  const ModeFacts all = gather_mode_facts(options_for(stories_pack()), GiB);
  const uint64_t between = all.flash_minimum + (all.everything_bytes - all.flash_minimum) / 4;
  const CliRun flash = run_cli("run -m " + pack + common + " --mode auto --dram-budget " + std::to_string(between));
  ASSERT_EQ(flash.exit_code, 0) << flash.err;
  EXPECT_EQ(flash.out, dense.out);  // flash is exact
  EXPECT_NE(flash.err.find("flash: "), std::string::npos) << flash.err;
  EXPECT_NE(flash.err.find("read per token"), std::string::npos) << flash.err;

  const CliRun plain = run_cli("run -m \"" + shared_model("stories260K").string() + "\"" + common +
                               " --mode auto --dram-budget 64K");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, dense.out);  // mmap: the same weights
  EXPECT_NE(plain.err.find("mmap: "), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("sieve pack stories260K.gguf -o stories260K.sieve"), std::string::npos) << plain.err;
  EXPECT_EQ(run_cli("run -m " + pack + common + " --mode dense --dram-budget 1G").exit_code, 2);
}

TEST(DefaultBudget, IsSixtyPercentOfTheMemoryAvailableNow) {
  const uint64_t available = available_memory_bytes();
#ifdef __linux__
  ASSERT_GT(available, 0u);
  EXPECT_LE(available, physical_memory_bytes());
#endif
  const double share = double(default_dram_budget()) / double(available);
  EXPECT_NEAR(share, kDefaultBudgetShare, 0.05);  // MemAvailable moves between the two reads
}

TEST(BudgetText, SizesAndPercentages) {
  EXPECT_EQ(parse_budget_text("1.5G", 0).bytes, 3 * GiB / 2);
  EXPECT_EQ(parse_budget_text("900M", 0).bytes, 900 * MiB);
  EXPECT_EQ(parse_budget_text(" 2GiB ", 0).bytes, 2 * GiB);
  EXPECT_EQ(parse_budget_text("1536m", 0).bytes, 1536 * MiB);
  EXPECT_EQ(parse_budget_text("1.50 GiB", 0).bytes, 3 * GiB / 2);  // what format_size writes reads back
  EXPECT_EQ(parse_budget_text("50%", 10 * GiB).bytes, 5 * GiB);
  EXPECT_EQ(parse_budget_text("100%", 10 * GiB).bytes, 10 * GiB);
  EXPECT_TRUE(parse_budget_text("1.5G", 0).ok());
}

TEST(BudgetText, BadInputGetsOneSentence) {
  for (const char* bad : {"", "  ", "abc", "0", "-1G", "1.5X", "G", "12 apples", "1.5.2G"}) {
    const BudgetText t = parse_budget_text(bad, 10 * GiB);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.bytes, 0u) << bad;
    EXPECT_EQ(t.error.back(), '.') << bad;
  }
  EXPECT_EQ(parse_budget_text("150%", 10 * GiB).error, "At most 100%.");
  EXPECT_FALSE(parse_budget_text("50%", 0).ok());
}

}  // namespace
}  // namespace sieve::flash
