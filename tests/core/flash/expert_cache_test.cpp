// The expert cache (flash/expert_cache.h) on a real Mixture-of-Experts GGUF:
// what it keeps (a segmented LRU: experts chosen again outlive a burst of
// experts chosen once), reads ahead on a hint, and that every expert it
// hands out holds the file's bytes, however it got there.

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "flash/expert_cache.h"
#include "flash/io/direct_file.h"
#include "flash/io/io_engine.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tensor/tensor_type.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

class ExpertCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "arch" / "qwen3moe.gguf";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
    file_ = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
    hp_ = model::read_hyper_params(*file_);
    direct_ = std::make_unique<DirectFile>(DirectFile::open(path.string()));
    IoOptions o;
    if (const char* b = std::getenv("SIEVE_TEST_IO")) o.backend = std::string(b) == "threads" ? IoBackend::threads : IoBackend::automatic;
    io_ = make_io_engine(*direct_, o);
  }

  // Requests `experts` of `layer`, waits, and checks each against the file.
  void serve(ExpertCache& cache, int layer, std::vector<int32_t> experts) {
    std::vector<model::ExpertMatrices> out(experts.size());
    std::vector<uint8_t> ready(experts.size());
    cache.request(layer, experts, out, ready);
    cache.wait(layer, experts, out);
    for (size_t i = 0; i < experts.size(); ++i) expect_file_bytes(layer, experts[i], out[i].down);
  }

  void expect_file_bytes(int layer, int32_t expert, const tensor::MatrixView& got) {
    const gguf::TensorInfo* t = file_->find_tensor("blk." + std::to_string(layer) + ".ffn_down_exps.weight");
    ASSERT_NE(t, nullptr);
    const uint64_t bytes = t->size_bytes / static_cast<uint64_t>(hp_.n_experts);
    const std::byte* base = file_->tensor_data(*t).data();
    EXPECT_EQ(std::memcmp(got.data, base + static_cast<uint64_t>(expert) * bytes, bytes), 0)
        << "layer " << layer << " expert " << expert;
  }

  std::unique_ptr<gguf::GgufFile> file_;
  model::HyperParams hp_;
  std::unique_ptr<DirectFile> direct_;
  std::unique_ptr<IoEngine> io_;
};

TEST_F(ExpertCacheTest, ExpertsChosenAgainOutliveABurstOfExpertsChosenOnce) {
  constexpr int64_t kSlots = 10;
  ExpertCache cache(*file_, hp_, *io_, kSlots);
  serve(cache, 0, {0, 1});
  serve(cache, 0, {0, 1});  // chosen again: protected
  const uint64_t misses = cache.stats().misses;
  ASSERT_EQ(misses, 2u);
  // More experts chosen once each than the cache has slots.
  for (int32_t e = 2; e < 14; e += 2) serve(cache, 0, {e, e + 1});
  for (int32_t e = 0; e < 8; e += 2) serve(cache, 1, {e, e + 1});
  const uint64_t before = cache.stats().misses;
  serve(cache, 0, {0, 1});
  EXPECT_EQ(cache.stats().misses, before) << "plain LRU would have evicted experts 0 and 1";
  EXPECT_EQ(cache.stats().layer_hits[0], 4u);
  EXPECT_EQ(cache.stats().layer_misses[1], 8u);
}

TEST_F(ExpertCacheTest, AReadAheadExpertIsAHitWhenChosen) {
  ExpertCache cache(*file_, hp_, *io_, 4 * hp_.n_experts_used);
  ASSERT_TRUE(cache.takes_hints());
  // Hints are followed once they proved right: four of layer 0, each right.
  const auto k = static_cast<int32_t>(hp_.n_experts_used);
  for (int32_t round = 0; round < 4; ++round) {
    std::vector<int32_t> hint;
    for (int32_t j = 0; j < k; ++j) hint.push_back((round * k + j) % static_cast<int32_t>(hp_.n_experts));
    cache.prefetch(0, hint);
    serve(cache, 0, hint);
  }
  const uint64_t prefetched = cache.stats().prefetched, used = cache.stats().prefetch_used;
  const std::vector<int32_t> likely = {5, 7};
  cache.prefetch(1, likely);
  EXPECT_EQ(cache.stats().prefetched, prefetched + 2);
  serve(cache, 1, {7, 9});
  EXPECT_EQ(cache.stats().prefetch_used, used + 1);
  EXPECT_EQ(cache.stats().layer_hits[1], 1u);
  EXPECT_EQ(cache.stats().layer_misses[1], 1u);
  serve(cache, 1, {5});  // read ahead, chosen a request later: still there
  EXPECT_EQ(cache.stats().prefetch_used, used + 2);
}

// A hint's rank is read ahead once its guesses proved right (judged at the
// hinted layer's next request, read or not): here the first rank is always
// chosen and the others never, so only the first is read ahead, and no read
// ahead is wasted.
TEST_F(ExpertCacheTest, HintRanksAreReadAheadOnlyOnceTheyProveRight) {
  const int64_t k = hp_.n_experts_used;
  ASSERT_GE(k, 2);
  ExpertCache cache(*file_, hp_, *io_, 2 * k);
  ASSERT_TRUE(cache.takes_hints());
  const auto n = static_cast<int32_t>(hp_.n_experts);
  std::vector<uint64_t> added;
  for (int32_t round = 0; round < 2 * n; ++round) {
    // Each lap over the experts on its own layer: no guess was cached before.
    const int layer = round / n;
    const int32_t right = (round * 5) % n;
    std::vector<int32_t> hint = {right};  // then k - 1 guesses that are never chosen
    for (int32_t j = 1; j < k; ++j) hint.push_back((right + j) % n);
    const uint64_t before = cache.stats().prefetched;
    cache.prefetch(layer, hint);
    added.push_back(cache.stats().prefetched - before);
    serve(cache, layer, {right, (right + static_cast<int32_t>(k)) % n});
  }
  EXPECT_EQ(added.front(), 0u);  // nothing is known of the ranks yet
  for (size_t i = added.size() - 5; i < added.size(); ++i) EXPECT_EQ(added[i], 1u) << "round " << i;
  EXPECT_GT(cache.stats().prefetched, 0u);
  EXPECT_EQ(cache.stats().prefetch_used, cache.stats().prefetched);
}

TEST_F(ExpertCacheTest, AtItsMinimumItTakesNoHintsAndServesEveryRequest) {
  ExpertCache cache(*file_, hp_, *io_, hp_.n_experts_used);
  EXPECT_FALSE(cache.takes_hints());
  EXPECT_EQ(cache.capacity(), hp_.n_experts_used);
  cache.prefetch(1, std::vector<int32_t>{3});
  EXPECT_EQ(cache.stats().prefetched, 0u);
  std::vector<int32_t> all(static_cast<size_t>(hp_.n_experts_used));
  for (int64_t round = 0; round < 3; ++round) {
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>((round * 3 + static_cast<int64_t>(i) * 2) % hp_.n_experts);
    serve(cache, static_cast<int>(round % hp_.n_layers), all);
  }
}

TEST_F(ExpertCacheTest, ARequestBeforeTheLastWasWaitedForIsRefused) {
  ExpertCache cache(*file_, hp_, *io_, hp_.n_experts_used);
  std::vector<int32_t> experts = {0};
  std::vector<model::ExpertMatrices> out(1);
  std::vector<uint8_t> ready(1);
  cache.request(0, experts, out, ready);
  EXPECT_FALSE(ready[0]);
  EXPECT_THROW(cache.request(0, experts, out, ready), Error);
  cache.wait(0, experts, out);
  expect_file_bytes(0, 0, out[0].down);
}

}  // namespace
}  // namespace sieve::flash
