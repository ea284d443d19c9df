// The predictors on relu260K (a ReLU-family llama2.c model) against what the
// dense engine really fires: the exact gate at sparsity 0 is the oracle, the
// trained low-rank predictor recalls >= 95% on held-out tokens, the SVD one
// is sane; and the factory's errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "flash/io/direct_file.h"
#include "flash/io/io_engine.h"
#include "flash/pack_file.h"
#include "model/activation_stats.h"
#include "sparse/gate_predictor.h"
#include "sparse/lowrank_predictor.h"
#include "sparse/predictor_factory.h"
#include "calibration/predictor_training.h"
#include "core/sparse/predictor_test_util.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

using namespace testing_util;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Opened {
  flash::PackFile pack;
  flash::DirectFile file;
  std::unique_ptr<flash::IoEngine> io;
  explicit Opened(const std::filesystem::path& path)
      : pack(flash::PackFile::open(path)), file(flash::DirectFile::open(path.string())), io(flash::make_io_engine(file)) {}
};

// Records every layer's FFN input and its exact act(gate) values.
class GateRecorder final : public model::ActivationObserver {
 public:
  void observe(model::ActivationSite site, int layer, const float* v, int64_t n, int64_t width) override {
    if (site == model::ActivationSite::FfnInput) inputs.push_back({layer, std::vector<float>(v, v + n * width), width});
    if (site == model::ActivationSite::FfnGate) gates.push_back({layer, std::vector<float>(v, v + n * width), width});
  }
  struct Seen {
    int layer;
    std::vector<float> values;
    int64_t width;
  };
  std::vector<Seen> inputs, gates;
};

TEST(GatePredictor, ExactGateAtSparsityZeroIsTheOracleOfRelu260K) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  Opened o(relu260k_pack());
  const model::HyperParams& hp = o.pack.hparams();
  ASSERT_NE(hp.ffn_activation, model::FfnActivation::Silu);
  ThreadPool pool(2);
  const auto predictor = make_predictor(o.pack, hp, SparseOptions{}, pool, *o.io);
  EXPECT_EQ(predictor->kind(), PredictorKind::gate);
  EXPECT_NE(predictor->describe().find("exact F32 gate"), std::string::npos) << predictor->describe();

  GateRecorder rec;
  EngineOptions e;
  e.model_path = relu260k_gguf();
  e.threads = 1;
  e.context = 128;
  e.activation_observer = &rec;
  auto engine = Engine::load(e);
  std::vector<int32_t> ids = engine->tokenize("Once upon a time there was a little dog who liked to play", true);
  // Token by token, as sparse mode decodes (a batched prefill sums in another order).
  std::span<const float> logits = engine->prefill(std::span<const int32_t>(ids.data(), 1));
  for (size_t i = 1; i < ids.size(); ++i) logits = engine->decode(ids[i]);
  for (int i = 0; i < 20; ++i) logits = engine->decode(static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));

  ASSERT_EQ(rec.inputs.size(), rec.gates.size());
  std::vector<int32_t> active;
  uint64_t checked = 0, fired = 0;
  for (size_t s = 0; s < rec.inputs.size(); ++s) {
    const auto& in = rec.inputs[s];
    const auto& gate = rec.gates[s];
    ASSERT_EQ(in.layer, gate.layer);
    const int64_t n_tokens = static_cast<int64_t>(in.values.size()) / hp.dim;
    for (int64_t t = 0; t < n_tokens; ++t) {
      predictor->predict(in.layer, in.values.data() + t * hp.dim, active);
      std::vector<int32_t> nonzero;
      for (int64_t i = 0; i < hp.n_ff; ++i) {
        if (gate.values[static_cast<size_t>(t * hp.n_ff + i)] != 0.0f) nonzero.push_back(static_cast<int32_t>(i));
      }
      ASSERT_EQ(active, nonzero) << "layer " << in.layer << " token " << t;
      // The exact gate values are dense mode's: act() of them is what the engine saw.
      const std::span<const float> g = predictor->exact_gate(in.layer);
      ASSERT_EQ(g.size(), static_cast<size_t>(hp.n_ff));
      std::vector<float> act(g.size());
      model::gate_activation(hp, g.data(), act.data(), hp.n_ff);
      if (n_tokens == 1) {
        ASSERT_EQ(std::memcmp(act.data(), gate.values.data() + t * hp.n_ff, act.size() * sizeof(float)), 0);
      }
      ++checked;
      fired += nonzero.size();
    }
  }
  EXPECT_GT(checked, 100u);
  EXPECT_GT(fired, 0u);
  EXPECT_LT(fired, checked * static_cast<uint64_t>(hp.n_ff));  // sparse, not all
}

TEST(GatePredictor, QuantizedCopyKeepsRecallWithItsMargin) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  Opened o(relu260k_pack());
  const model::HyperParams& hp = o.pack.hparams();
  ThreadPool pool(2);
  const auto rec = record(relu260k_pack(), hp, 300, 5);
  for (auto type : {tensor::TensorType::Q8_0, tensor::TensorType::Q4_0}) {
    SparseOptions options;
    options.gate_copy = type;
    const auto p = make_predictor(o.pack, hp, options, pool, *o.io);
    EXPECT_TRUE(p->exact_gate(0).empty());
    const auto exact_bytes = make_predictor(o.pack, hp, SparseOptions{}, pool, *o.io)->resident_bytes();
    EXPECT_LT(p->resident_bytes(), exact_bytes);
    const std::vector<uint64_t> planned = predictor_layer_bytes(o.pack, hp, options);
    EXPECT_EQ(planned.size(), static_cast<size_t>(hp.n_layers));
    EXPECT_EQ(std::accumulate(planned.begin(), planned.end(), uint64_t{0}), p->resident_bytes());
    for (int64_t l = 0; l < hp.n_layers; ++l) {
      const Metrics m = measure_predictor(*p, *rec, l, 0, rec->recorded_tokens());
      EXPECT_GE(m.recall, 0.995) << tensor::type_name(type) << " layer " << l;
      EXPECT_LT(m.predicted_fraction, 1.0) << tensor::type_name(type) << " layer " << l;
    }
  }
}

TEST(GatePredictor, TargetSparsityNeedsCalibratedQuantiles) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  Opened o(relu260k_pack());
  ThreadPool pool(1);
  SparseOptions options;
  options.target_sparsity = 0.5;
  const std::string e = error_of([&] { make_predictor(o.pack, o.pack.hparams(), options, pool, *o.io); });
  EXPECT_NE(e.find("relu260K.sieve: a target sparsity needs the calibrated gate quantiles"), std::string::npos) << e;
  EXPECT_NE(e.find("sieve calibrate"), std::string::npos) << e;
}

TEST(Factory, LowrankOnAPackWithoutPredictorsSaysWhatToRun) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  Opened o(relu260k_pack());
  ThreadPool pool(1);
  for (auto kind : {PredictorKind::lowrank, PredictorKind::powerinfer}) {
    SparseOptions options;
    options.predictor = kind;
    const std::string e = error_of([&] { make_predictor(o.pack, o.pack.hparams(), options, pool, *o.io); });
    EXPECT_NE(e.find("relu260K.sieve: the " + std::string(to_string(kind)) + " predictor needs"), std::string::npos) << e;
    EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 0) << e;
    EXPECT_EQ(error_of([&] { predictor_layer_bytes(o.pack, o.pack.hparams(), options); }), e);
  }
  SparseOptions none;
  none.predictor = PredictorKind::none;
  EXPECT_NE(error_of([&] { make_predictor(o.pack, o.pack.hparams(), none, pool, *o.io); }), "");
  EXPECT_TRUE(neuron_frequencies(o.pack, 0).empty());
}

TEST(TrainedPredictor, ThresholdsAimAboveTheRecallTargetByTheSamplingError) {
  EXPECT_DOUBLE_EQ(recall_target_with_margin(0.95, 0), 0.95);
  EXPECT_DOUBLE_EQ(recall_target_with_margin(1.0, 1000), 1.0);
  // 10 000 fired pairs: standard error sqrt(0.95 * 0.05 / 10 000) = 0.00218.
  EXPECT_NEAR(recall_target_with_margin(0.95, 10000), 0.95 + kRecallMarginSigmas * 0.0021794, 1e-6);
  EXPECT_LE(recall_target_with_margin(0.999, 3), 1.0);
  // More pairs, a smaller margin.
  EXPECT_LT(recall_target_with_margin(0.95, 1000000), recall_target_with_margin(0.95, 10000));
}

TEST(TrainedPredictor, RecallsAtLeast95PercentOfActiveNeuronsOnHeldOutTokens) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  const flash::PackFile pack = flash::PackFile::open(relu260k_pack());
  const model::HyperParams& hp = pack.hparams();
  ThreadPool pool(2);
  const auto rec = record(relu260k_pack(), hp, 1500, 1);
  ASSERT_GE(rec->recorded_tokens(), 1500);
  PredictorSet set;
  set.kind = "trained";
  TrainingOptions options;
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    const LayerResult r = train_layer(*rec, gate_rows(pack.gguf(), hp, l), l, options, pool);
    // The last 15% of the recorded tokens were used neither for training nor for the threshold.
    EXPECT_GE(r.held_out.recall, 0.95) << "layer " << l;
    EXPECT_LT(r.held_out.predicted_fraction, 0.9) << "layer " << l;  // it does skip neurons
    EXPECT_GE(r.predictor.rank, 1);
    set.layers.push_back(r.predictor);
  }
  // Tokens of another generation (another seed): the predictor generalises.
  const auto fresh = record(relu260k_pack(), hp, 400, 99);
  const auto predictor = LowRankPredictor::from_set(set, hp, pool);
  double recall = 0;
  for (int64_t l = 0; l < hp.n_layers; ++l) recall += measure_predictor(*predictor, *fresh, l, 0, fresh->recorded_tokens()).recall;
  EXPECT_GE(recall / static_cast<double>(hp.n_layers), 0.95);
}

TEST(SvdPredictor, ApproximatesTheGateOfRelu260K) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  const gguf::GgufFile src = gguf::GgufFile::open(relu260k_gguf());
  const model::HyperParams hp = model::read_hyper_params(src);
  ThreadPool pool(2);
  SvdReport report;
  const PredictorSet set = build_svd_predictors(src, hp, {}, pool, report);
  ASSERT_FALSE(report.skipped) << report.note;
  ASSERT_EQ(set.layers.size(), static_cast<size_t>(hp.n_layers));
  const auto rec = record(relu260k_pack(), hp, 300, 3);
  const auto predictor = LowRankPredictor::from_set(set, hp, pool);
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    // Auto rank: 90% of the gate's energy, or the cap (half the width for tiny models) with at least 50%.
    const int64_t rank = report.ranks[static_cast<size_t>(l)];
    EXPECT_TRUE(report.captured[static_cast<size_t>(l)] >= kSvdAutoEnergy || rank == std::min(hp.dim, hp.n_ff) / 2);
    EXPECT_GE(report.captured[static_cast<size_t>(l)], kSvdMinEnergy);
    EXPECT_EQ(set.layers[static_cast<size_t>(l)].threshold, activation_threshold(hp));
    EXPECT_GT(set.layers[static_cast<size_t>(l)].margin, 0.0f);  // a safety margin, scaled by |x| per token
    const Metrics m = measure_predictor(*predictor, *rec, l, 0, rec->recorded_tokens());
    EXPECT_GE(m.recall, 0.9) << "layer " << l;
    EXPECT_GT(m.precision, m.true_fraction) << "layer " << l;  // better than predicting everything
  }
}

TEST(Calibration, QuantilesAndFrequenciesDescribeTheRecordedActivations) {
  if (!have_relu260k()) GTEST_SKIP() << "no relu260K";
  const flash::PackFile pack = flash::PackFile::open(relu260k_pack());
  const model::HyperParams& hp = pack.hparams();
  const auto rec = record(relu260k_pack(), hp, 200, 4);
  const std::vector<float> q = rec->gate_quantiles();
  ASSERT_EQ(q.size(), static_cast<size_t>(hp.n_layers * 101));
  const std::vector<float> f = rec->frequencies();
  ASSERT_EQ(f.size(), static_cast<size_t>(hp.n_layers * hp.n_ff));
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    EXPECT_TRUE(std::is_sorted(q.begin() + l * 101, q.begin() + (l + 1) * 101));
    // The fraction of zeros is the mean firing frequency's complement: q at that percentile is 0.
    double mean_f = 0;
    for (int64_t i = 0; i < hp.n_ff; ++i) mean_f += f[static_cast<size_t>(l * hp.n_ff + i)];
    mean_f /= static_cast<double>(hp.n_ff);
    const double zero_pct = std::floor(100 * (1 - mean_f)) - 1;
    if (zero_pct >= 0) {
      EXPECT_EQ(q[static_cast<size_t>(l * 101 + static_cast<int64_t>(zero_pct))], 0.0f) << "layer " << l;
    }
    EXPECT_GT(q[static_cast<size_t>(l * 101 + 100)], 0.0f);
  }
}

}  // namespace
}  // namespace sieve::sparse
