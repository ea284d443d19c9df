// The DRAM budget: parsing, the minimum, which layers are pinned, and the
// error below the minimum.

#include <gtest/gtest.h>

#include "engine/engine_mode.h"
#include "flash/flash_options.h"
#include "flash/planner.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

constexpr uint64_t MiB = 1 << 20;

TEST(DramBudget, ParsesSizesAndPercentages) {
  EXPECT_EQ(parse_dram_budget("2G")->bytes, 2ull << 30);
  EXPECT_EQ(parse_dram_budget("1536M")->bytes, 1536ull << 20);
  EXPECT_EQ(parse_dram_budget("1.5GiB")->bytes, 3ull << 29);
  EXPECT_EQ(parse_dram_budget("4096")->bytes, 4096u);
  const auto half = parse_dram_budget("50%");
  ASSERT_TRUE(half);
  EXPECT_EQ(half->bytes, 0u);
  EXPECT_DOUBLE_EQ(half->fraction_of_model, 0.5);
  EXPECT_EQ(half->resolve(1000), 500u);
  for (const char* bad : {"", "G", "-1G", "0", "0%", "12Q", "50%%", "abc"}) {
    EXPECT_FALSE(parse_dram_budget(bad)) << bad;
  }
}

// Six layers of 20 MiB (22 MiB as a streaming buffer, with its alignment)
// beside 110 MiB that is always allocated.
PlanInputs inputs(uint64_t budget) {
  PlanInputs in;
  in.budget = budget;
  in.fixed = {{"resident weights", 100 * MiB}, {"KV cache", 10 * MiB}};
  in.pinned_bytes.assign(6, 20 * MiB);
  in.streamed_bytes.assign(6, 22 * MiB);
  return in;
}

TEST(Planner, MinimumIsFixedPlusTwoStreamingBuffers) {
  const MemoryPlan plan = plan_memory(inputs(154 * MiB), "m");
  EXPECT_EQ(plan.minimum, 154 * MiB);
  EXPECT_TRUE(plan.pinned.empty());
  EXPECT_EQ(plan.streamed, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(plan.stream_buffer_bytes, 44 * MiB);
  EXPECT_EQ(plan.streamed_bytes_per_token, 132 * MiB);
  EXPECT_EQ(plan.total(), 154 * MiB);
}

TEST(Planner, RemainderPinsLeadingLayers) {
  struct Expect {
    uint64_t budget;
    std::vector<int64_t> pinned;
  };
  for (const Expect& e : {Expect{173 * MiB, {}}, Expect{174 * MiB, {0}}, Expect{195 * MiB, {0, 1}},
                          Expect{229 * MiB, {0, 1, 2}}, Expect{230 * MiB, {0, 1, 2, 3, 4, 5}},
                          Expect{UINT64_MAX, {0, 1, 2, 3, 4, 5}}}) {
    const MemoryPlan plan = plan_memory(inputs(e.budget), "m");
    EXPECT_EQ(plan.pinned, e.pinned) << e.budget;
    EXPECT_LE(plan.total(), e.budget);
    EXPECT_EQ(plan.pinned.size() + plan.streamed.size(), 6u);
    EXPECT_EQ(plan.stream_buffer_bytes, plan.streamed.empty() ? 0 : 44 * MiB);
  }
}

TEST(Planner, BelowTheMinimumNamesItAndItsParts) {
  try {
    plan_memory(inputs(150 * MiB), "model.sieve");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("model.sieve: the DRAM budget 150.0 MiB is below this model's minimum of 154.0 MiB"),
              std::string::npos) << m;
    EXPECT_NE(m.find("resident weights 100.0 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("KV cache 10.0 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("2 FFN streaming buffers 44.0 MiB"), std::string::npos) << m;
  }
}

TEST(Planner, OneLayerModelNeedsOnlyItsLayer) {
  PlanInputs in;
  in.budget = 35 * MiB;
  in.fixed = {{"resident weights", 10 * MiB}};
  in.pinned_bytes = {20 * MiB};
  in.streamed_bytes = {22 * MiB};
  const MemoryPlan plan = plan_memory(in, "m");
  EXPECT_EQ(plan.minimum, 30 * MiB);
  EXPECT_EQ(plan.pinned, (std::vector<int64_t>{0}));
}

TEST(Planner, DescribeListsEveryPart) {
  const std::string text = plan_memory(inputs(174 * MiB), "m").describe();
  for (const char* part : {"DRAM budget 174.0 MiB", "minimum 154.0 MiB", "resident weights", "KV cache",
                           "FFN pinned in DRAM", "(1 of 6 layers)", "5 layers streamed, 110.0 MiB read per token"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
}

}  // namespace
}  // namespace sieve::flash
