// Engine::plan (engine.h) and inspect_model_file (engine/model_file.h): the
// public API the app and `sieve info --plan` read instead of the flash and
// sparse internals.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "engine.h"
#include "engine/model_file.h"
#include "flash/pack_writer.h"
#include "util/byte_size.h"

namespace sieve {
namespace {

std::filesystem::path shared_model(const std::string& name) {
  return std::filesystem::path(SIEVE_SHARED_DIR) / "models" / (name + ".gguf");
}

std::filesystem::path stories_pack() {
  static const std::filesystem::path out = [] {
    // One folder per process: ctest runs these tests in parallel processes.
    const auto folder =
        std::filesystem::path(::testing::TempDir()) / ("sieve_engine_plan_test_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(folder);
    const auto path = folder / "stories260K.sieve";
    flash::pack_model(shared_model("stories260K"), path);
    return path;
  }();
  return out;
}

EngineOptions flash_options(uint64_t budget) {
  EngineOptions o;
  o.model_path = stories_pack();
  o.mode = EngineMode::flash;
  o.threads = 1;
  o.context = 64;
  o.dram_budget.bytes = budget;
  return o;
}

TEST(EnginePlan, IsWhatLoadAllocatesAtEveryBudget) {
  const MemoryPlan everything = Engine::plan(flash_options(0));
  EXPECT_EQ(everything.mode, EngineMode::flash);
  EXPECT_EQ(everything.threads, 1);
  EXPECT_EQ(everything.context, 64);
  EXPECT_EQ(everything.budget, 0u);
  EXPECT_EQ(everything.streamed_layers, 0);
  EXPECT_EQ(everything.pinned_layers, everything.layers);
  ASSERT_LT(everything.minimum, everything.total);
  for (const uint64_t budget : {everything.minimum, (everything.minimum + everything.total) / 2, everything.total}) {
    const MemoryPlan plan = Engine::plan(flash_options(budget));
    EXPECT_LE(plan.total, budget);
    EXPECT_EQ(plan.pinned_layers + plan.streamed_layers, plan.layers);
    EXPECT_EQ(plan.ffn_bytes_per_token, plan.pinned_bytes + plan.streamed_bytes_per_token);
    const auto engine = Engine::load(flash_options(budget));
    EXPECT_EQ(plan.text, engine->model().memory_plan) << "budget " << budget;
  }
}

TEST(EnginePlan, BelowTheMinimumNamesIt) {
  const MemoryPlan everything = Engine::plan(flash_options(0));
  try {
    Engine::plan(flash_options(everything.minimum - 1));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(format_size(everything.minimum)), std::string::npos) << e.what();
  }
}

TEST(EnginePlan, SparseModePlansItsNeuronStores) {
  EngineOptions o = flash_options(0);
  o.mode = EngineMode::sparse;
  const MemoryPlan plan = Engine::plan(o);
  EXPECT_EQ(plan.mode, EngineMode::sparse);
  EXPECT_GT(plan.store_bytes, 0u);
  EXPECT_GT(plan.predictor_bytes, 0u);
  EXPECT_EQ(plan.window, o.sparse.window);
  EXPECT_NE(plan.text.find("neuron stores"), std::string::npos) << plan.text;
}

TEST(EnginePlan, APlainGgufIsNotPlannedAndSaysWhy) {
  EngineOptions o = flash_options(0);
  o.model_path = shared_model("stories260K");
  try {
    Engine::plan(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stories260K.gguf is not packed"), std::string::npos) << e.what();
  }
}

TEST(EnginePlan, ContextZeroIsTheEnginesDefault) {
  EngineOptions o = flash_options(0);
  o.context = 0;
  const MemoryPlan plan = Engine::plan(o);
  const auto engine = Engine::load(o);
  EXPECT_EQ(plan.context, engine->model().context);
  EXPECT_EQ(inspect_model_file(o.model_path).default_context, engine->model().context);
}

TEST(ModelFile, APackAndItsSourceHoldTheSameWeights) {
  const ModelFileInfo plain = inspect_model_file(shared_model("stories260K"));
  const ModelFileInfo pack = inspect_model_file(stories_pack());
  EXPECT_FALSE(plain.is_pack);
  EXPECT_TRUE(pack.is_pack);
  EXPECT_EQ(plain.architecture, "llama");
  EXPECT_EQ(pack.architecture, "llama");
  EXPECT_EQ(plain.n_layers, pack.n_layers);
  EXPECT_EQ(plain.parameters, pack.parameters);
  ASSERT_FALSE(plain.weight_types.empty());
  EXPECT_EQ(plain.weight_types.front().type, pack.weight_types.front().type);
  for (size_t i = 1; i < plain.weight_types.size(); ++i) {
    EXPECT_GE(plain.weight_types[i - 1].bytes, plain.weight_types[i].bytes);
  }
  EXPECT_EQ(plain.file_bytes, std::filesystem::file_size(shared_model("stories260K")));
}

TEST(ModelFile, NotAModelIsAnError) {
  const auto path = std::filesystem::path(::testing::TempDir()) / "sieve_engine_plan_not_a_model.gguf";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("hello", f);
    std::fclose(f);
  }
  EXPECT_THROW(inspect_model_file(path), Error);
  EXPECT_THROW(inspect_model_file(path.parent_path() / "no-such-file.gguf"), Error);
}

}  // namespace
}  // namespace sieve
