// Predictors stored in a pack: rewrite_pack round trip (checksums included),
// in place, the loaded predictor equal to the in-memory one, validation of
// bad predictor metadata, and cancelling through the progress callback.

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "flash/io/direct_file.h"
#include "flash/io/io_engine.h"
#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "flash/pack_writer.h"
#include "gguf/gguf_writer.h"
#include "sparse/lowrank_predictor.h"
#include "sparse/predictor_factory.h"
#include "sparse/predictor_set.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

namespace fs = std::filesystem;

fs::path folder() {
  const auto f = fs::path(::testing::TempDir()) / ("sieve_pack_rewrite_" + std::to_string(::getpid()));
  fs::create_directories(f);
  return f;
}

fs::path stories_pack() {
  const auto out = folder() / "stories260K.sieve";
  if (!fs::exists(out)) flash::pack_model(fs::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf", out);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

PredictorSet random_set(const model::HyperParams& hp, int64_t rank) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  PredictorSet set;
  set.kind = "trained";
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    LowRankLayer layer;
    layer.rank = rank + l;  // ranks differ per layer
    layer.a.resize(static_cast<size_t>(layer.rank * hp.dim));
    layer.b.resize(static_cast<size_t>(layer.rank * hp.n_ff));
    for (float& v : layer.a) v = g(rng);
    for (float& v : layer.b) v = g(rng);
    layer.threshold = 0.5f * static_cast<float>(l);
    layer.margin = 0.25f * static_cast<float>(l % 2);
    round_to_storage(layer, predictor_storage_type(hp));
    set.layers.push_back(layer);
  }
  for (int64_t i = 0; i < hp.n_layers * 101; ++i) set.gate_quantiles.push_back(0.01f * static_cast<float>(i % 101));
  for (int64_t i = 0; i < hp.n_layers * hp.n_ff; ++i) set.hot.push_back(static_cast<float>(i % 7) / 7.0f);
  set.tokens = 1234;
  return set;
}

TEST(PackRewrite, AddsPredictorsWithChecksumsAndKeepsEverythingElse) {
  const flash::PackFile before = flash::PackFile::open(stories_pack());
  const model::HyperParams& hp = before.hparams();
  const PredictorSet set = random_set(hp, 3);
  flash::PackOptions options;
  options.extras = to_pack_extras(set, hp);
  options.verify = true;
  const fs::path out = folder() / "with_predictors.sieve";
  const flash::PackSummary s = flash::rewrite_pack(stories_pack(), out, options);
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".partial")));
  EXPECT_EQ(s.n_tensors, before.gguf().tensors().size() + 2 * static_cast<size_t>(hp.n_layers));

  const flash::PackFile after = flash::PackFile::open(out);
  after.verify();  // every checksum, the new tensors' included
  EXPECT_EQ(after.resident_tensors().size(), before.resident_tensors().size());
  for (const gguf::TensorInfo* t : before.resident_tensors()) {
    const gguf::TensorInfo* u = after.gguf().find_tensor(t->name);
    ASSERT_NE(u, nullptr) << t->name;
    const auto a = before.gguf().tensor_data(*t), b = after.gguf().tensor_data(*u);
    ASSERT_TRUE(a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0) << t->name;
  }
  ASSERT_TRUE(after.has_lowrank_predictors());
  EXPECT_EQ(after.predictor_kind(), "trained");
  EXPECT_EQ(after.predictor_tensors().size(), 2 * static_cast<size_t>(hp.n_layers));
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    EXPECT_EQ(after.predictor_ranks()[static_cast<size_t>(l)], 3 + l);
    EXPECT_EQ(after.predictor_thresholds()[static_cast<size_t>(l)], 0.5f * static_cast<float>(l));
    EXPECT_EQ(after.predictor_margins()[static_cast<size_t>(l)], 0.25f * static_cast<float>(l % 2));
  }
  EXPECT_EQ(after.gate_quantiles(), set.gate_quantiles);
  const std::vector<float> f1 = neuron_frequencies(after, 1);
  ASSERT_EQ(f1.size(), static_cast<size_t>(hp.n_ff));
  EXPECT_EQ(f1[3], set.hot[static_cast<size_t>(hp.n_ff + 3)]);

  // The predictor loaded from the pack scores like the one in memory.
  ThreadPool pool(1);
  const flash::DirectFile file = flash::DirectFile::open(out.string());
  const auto io = flash::make_io_engine(file);
  SparseOptions o;
  o.predictor = PredictorKind::lowrank;
  const auto loaded = make_predictor(after, hp, o, pool, *io);
  const auto memory = LowRankPredictor::from_set(set, hp, pool);
  EXPECT_NE(loaded->describe().find("lowrank (trained), rank 3-"), std::string::npos) << loaded->describe();
  uint64_t planned = 0;
  for (uint64_t b : predictor_layer_bytes(after, hp, o)) planned += b;
  EXPECT_EQ(planned, loaded->resident_bytes());
  std::vector<float> x(static_cast<size_t>(hp.dim));
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<int32_t> a, b;
  for (int trial = 0; trial < 5; ++trial) {
    for (float& v : x) v = g(rng);
    for (int l = 0; l < hp.n_layers; ++l) {
      loaded->predict(l, x.data(), a);
      memory->predict(l, x.data(), b);
      EXPECT_EQ(a, b);
      EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    }
  }
}

TEST(PackRewrite, InPlaceReplacesThePredictors) {
  const fs::path pack = folder() / "in_place.sieve";
  fs::remove(pack);  // MinGW's copy_file fails with "File exists" even with overwrite_existing
  fs::copy_file(stories_pack(), pack);
  const model::HyperParams hp = flash::PackFile::open(pack).hparams();
  flash::PackOptions options;
  options.extras = to_pack_extras(random_set(hp, 2), hp);
  flash::rewrite_pack(pack, pack, options);
  options.extras = to_pack_extras(random_set(hp, 5), hp);  // again: same names, new ranks
  flash::rewrite_pack(pack, pack, options);
  const flash::PackFile after = flash::PackFile::open(pack);
  after.verify();
  EXPECT_EQ(after.predictor_ranks()[0], 5);
  EXPECT_EQ(after.predictor_tensors().size(), 2 * static_cast<size_t>(hp.n_layers));
  EXPECT_FALSE(fs::exists(fs::path(pack.string() + ".partial")));
}

TEST(PackRewrite, CancellingThroughProgressLeavesNoPartialFile) {
  const model::HyperParams hp = flash::PackFile::open(stories_pack()).hparams();
  flash::PackOptions options;
  options.chunk_bytes = 1;
  int calls = 0;
  options.progress = [&](const flash::PackProgress&) {
    if (++calls == 3) throw std::runtime_error("cancelled");
  };
  options.extras = to_pack_extras(random_set(hp, 2), hp);
  const fs::path out = folder() / "cancelled.sieve";
  EXPECT_THROW(flash::rewrite_pack(stories_pack(), out, options), std::runtime_error);
  calls = 0;
  EXPECT_THROW(flash::pack_model(fs::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf", out, options),
               std::runtime_error);
  for (const char* suffix : {"", ".partial", ".partial.partial"}) EXPECT_FALSE(fs::exists(out.string() + suffix)) << suffix;
}

TEST(PackRewrite, PackModelAddsExtrasAndACorruptedPredictorIsFound) {
  const fs::path src = fs::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";
  const model::HyperParams hp = flash::PackFile::open(stories_pack()).hparams();
  flash::PackOptions options;
  options.extras = to_pack_extras(random_set(hp, 2), hp);
  const fs::path out = folder() / "extras.sieve";
  flash::pack_model(src, out, options);
  const flash::PackFile pack = flash::PackFile::open(out);
  pack.verify();
  ASSERT_TRUE(pack.has_lowrank_predictors());

  // Flip a byte of the last predictor tensor: loading it fails naming the tensor.
  const gguf::TensorInfo* t = pack.predictor_tensor(hp.n_layers - 1, flash::PredictorRole::b);
  const fs::path bad = folder() / "bad.sieve";
  fs::remove(bad);  // as above
  fs::copy_file(out, bad);
  {
    std::FILE* f = std::fopen(bad.string().c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, static_cast<long>(pack.gguf().tensor_file_offset(*t) + 5), SEEK_SET);
    std::fputc(0x5a, f);
    std::fclose(f);
  }
  const flash::PackFile opened = flash::PackFile::open(bad);
  ThreadPool pool(1);
  const flash::DirectFile file = flash::DirectFile::open(bad.string());
  const auto io = flash::make_io_engine(file);
  SparseOptions o;
  o.predictor = PredictorKind::lowrank;
  const std::string e = error_of([&] { make_predictor(opened, hp, o, pool, *io); });
  EXPECT_NE(e.find("bad.sieve: tensor '" + t->name + "' is corrupted"), std::string::npos) << e;
  // rewrite_pack copies nothing corrupted either.
  EXPECT_NE(error_of([&] { flash::rewrite_pack(bad, folder() / "copy.sieve", {}); }).find("is corrupted"), std::string::npos);
  EXPECT_FALSE(fs::exists(folder() / "copy.sieve"));
}

// PowerInfer-style tensors: score = fc2 relu(fc1 x), active when >= 0.
TEST(PackRewrite, PowerInferTensorsAreReadAsAPredictor) {
  const model::HyperParams hp = flash::PackFile::open(stories_pack()).hparams();
  const int64_t hidden = 16;
  std::mt19937 rng(8);
  std::normal_distribution<float> g;
  std::vector<std::vector<float>> fc1, fc2;
  flash::PackOptions options;
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    fc1.emplace_back(static_cast<size_t>(hidden * hp.dim));
    fc2.emplace_back(static_cast<size_t>(hp.n_ff * hidden));
    for (float& v : fc1.back()) v = g(rng);
    for (float& v : fc2.back()) v = g(rng);
    const auto bytes = [](const std::vector<float>& v) {
      std::vector<std::byte> b(v.size() * sizeof(float));
      std::memcpy(b.data(), v.data(), b.size());
      return b;
    };
    options.extras.tensors.push_back({flash::predictor_tensor_name(l, flash::PredictorRole::fc1), tensor::TensorType::F32,
                                      {static_cast<uint64_t>(hp.dim), static_cast<uint64_t>(hidden)}, bytes(fc1.back())});
    options.extras.tensors.push_back({flash::predictor_tensor_name(l, flash::PredictorRole::fc2), tensor::TensorType::F32,
                                      {static_cast<uint64_t>(hidden), static_cast<uint64_t>(hp.n_ff)}, bytes(fc2.back())});
  }
  const fs::path out = folder() / "powerinfer.sieve";
  flash::rewrite_pack(stories_pack(), out, options);
  const flash::PackFile pack = flash::PackFile::open(out);
  ASSERT_TRUE(pack.has_powerinfer_predictors());
  EXPECT_FALSE(pack.has_lowrank_predictors());
  ThreadPool pool(1);
  const flash::DirectFile file = flash::DirectFile::open(out.string());
  const auto io = flash::make_io_engine(file);
  SparseOptions o;
  o.predictor = PredictorKind::powerinfer;
  const auto p = make_predictor(pack, hp, o, pool, *io);
  EXPECT_EQ(p->kind(), PredictorKind::powerinfer);
  std::vector<float> x(static_cast<size_t>(hp.dim));
  for (float& v : x) v = g(rng);
  std::vector<int32_t> active;
  for (int l = 0; l < hp.n_layers; ++l) {
    p->predict(l, x.data(), active);
    std::vector<int32_t> expected;
    std::vector<double> h(static_cast<size_t>(hidden));
    for (int64_t k = 0; k < hidden; ++k) {
      double s = 0;
      for (int64_t j = 0; j < hp.dim; ++j) s += fc1[l][static_cast<size_t>(k * hp.dim + j)] * x[static_cast<size_t>(j)];
      h[static_cast<size_t>(k)] = std::max(s, 0.0);
    }
    bool too_close_to_call = false;  // a score within float rounding of 0
    for (int64_t i = 0; i < hp.n_ff; ++i) {
      double s = 0;
      for (int64_t k = 0; k < hidden; ++k) s += fc2[l][static_cast<size_t>(i * hidden + k)] * h[static_cast<size_t>(k)];
      if (s >= 0) expected.push_back(static_cast<int32_t>(i));
      too_close_to_call |= std::abs(s) < 1e-3;
    }
    EXPECT_FALSE(expected.empty());
    if (!too_close_to_call) EXPECT_EQ(active, expected) << "layer " << l;
  }
}

TEST(PackRewrite, BadPredictorMetadataIsRefusedAtOpen) {
  const model::HyperParams hp = flash::PackFile::open(stories_pack()).hparams();
  const auto write_with = [&](const std::string& name, flash::PackExtras extras) {
    flash::PackOptions options;
    options.extras = std::move(extras);
    const fs::path out = folder() / name;
    flash::rewrite_pack(stories_pack(), out, options);
    return out;
  };
  flash::PackExtras extras = to_pack_extras(random_set(hp, 2), hp);
  // One rank too few.
  flash::PackExtras short_ranks = extras;
  for (auto& kv : short_ranks.metadata) {
    if (kv.key == flash::pred_keys::kRanks) kv.value = gguf::Value::i32_array({2});
  }
  // rewrite_pack validates what it wrote before it takes the name.
  std::string e = error_of([&] { write_with("short.sieve", short_ranks); });
  EXPECT_NE(e.find("short.sieve.partial: key sieve.pred.ranks must hold one rank per layer"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(folder() / "short.sieve"));
  EXPECT_FALSE(fs::exists(folder() / "short.sieve.partial"));
  // A rank that does not match the tensor.
  flash::PackExtras wrong_rank = extras;
  for (auto& kv : wrong_rank.metadata) {
    if (kv.key == flash::pred_keys::kRanks) kv.value = gguf::Value::i32_array(std::vector<int64_t>(static_cast<size_t>(hp.n_layers), 3));
  }
  e = error_of([&] { write_with("wrong.sieve", wrong_rank); });
  EXPECT_NE(e.find("wrong.sieve.partial: predictor tensor 'blk.0.ffn_pred_a' has dims [64, 2], expected [64, 3]"),
            std::string::npos) << e;
  // A quantile table of the wrong size.
  flash::PackExtras quantiles = extras;
  quantiles.metadata.push_back({flash::pred_keys::kGateQuantiles, gguf::Value::f32_array({1.0, 2.0})});
  e = error_of([&] { write_with("quantiles.sieve", quantiles); });
  EXPECT_NE(e.find("quantiles.sieve.partial: key sieve.pred.gate_quantiles holds 2 values"), std::string::npos) << e;
  // Extra bytes that do not fit their type and dims are refused before writing.
  flash::PackExtras wrong_size = extras;
  wrong_size.tensors[0].data.pop_back();
  e = error_of([&] { write_with("size.sieve", wrong_size); });
  EXPECT_NE(e.find("do not match its type and dims"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(folder() / "size.sieve"));
}

}  // namespace
}  // namespace sieve::sparse
