// Calibrating sparse mode to a fidelity target (`sieve calibrate --fidelity`,
// calibration/fidelity_target.h): the search on made-up figures, the held-out
// tokens kept out of the gate quantiles, and on stories260K (SwiGLU) the
// gate sparsity chosen, stored, and used by a later sparse run.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "calibration/calibrated_fidelity.h"
#include "calibration/calibration.h"
#include "calibration/fidelity_target.h"
#include "calibration/predictor_training.h"
#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "flash/pack_writer.h"
#include "sparse/predictor_set.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

// ---- the search, on made-up figures -------------------------------------------

// Agreement falling linearly from 1 along the knobs; counts measurements.
struct Falling {
  double slope = 0.01;
  int measured = 0;
  SparseFidelityFigure operator()(size_t i) {
    ++measured;
    SparseFidelityFigure f;
    f.positions = 100;
    f.top1 = 1.0 - slope * static_cast<double>(i);
    return f;
  }
};

std::vector<double> percents(int n) {
  std::vector<double> knobs;
  for (int i = 0; i < n; ++i) knobs.push_back(i / 100.0);
  return knobs;
}

TEST(SearchKnob, KeepsTheLastSettingThatMeetsTheTargetByBisection) {
  Falling falling;
  const FidelityChoice c = search_knob(percents(96), 0.9, std::ref(falling));
  EXPECT_TRUE(c.met);
  EXPECT_DOUBLE_EQ(c.knob, 0.10);  // 1 - 0.01 * 10 = 0.9 meets; 11 does not
  EXPECT_DOUBLE_EQ(c.figure.top1, 0.9);
  EXPECT_LE(falling.measured, 10);  // 0, the last, then at most 7 halvings of 95
  EXPECT_EQ(static_cast<int>(c.steps.size()), falling.measured);
  bool next_failed = false;
  for (const FidelityStep& s : c.steps) {
    if (std::abs(s.knob - 0.11) < 1e-12) next_failed = s.figure.top1 < 0.9;
  }
  EXPECT_TRUE(next_failed);
}

TEST(SearchKnob, ATargetNothingMeetsKeepsTheMostFaithfulAndSaysSo) {
  Falling falling;
  const FidelityChoice c = search_knob(percents(96), 1.5, std::ref(falling));
  EXPECT_FALSE(c.met);
  EXPECT_DOUBLE_EQ(c.knob, 0.0);
  EXPECT_EQ(falling.measured, 1);  // nothing beyond the most faithful can do better
}

TEST(SearchKnob, EverySettingMeetingTheTargetKeepsTheLast) {
  Falling flat{.slope = 0};
  const FidelityChoice c = search_knob(percents(5), 0.99, std::ref(flat));
  EXPECT_TRUE(c.met);
  EXPECT_DOUBLE_EQ(c.knob, 0.04);
  EXPECT_EQ(flat.measured, 2);
  EXPECT_EQ(search_knob({0.5}, 0.99, std::ref(flat)).knob, 0.5);
  EXPECT_THROW(search_knob({}, 0.99, std::ref(flat)), Error);
}

TEST(RecallLadder, StartsAtTheGivenRecallAndClimbsToOne) {
  EXPECT_EQ(recall_ladder(0.95), (std::vector<double>{0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 1.0}));
  EXPECT_EQ(recall_ladder(0.99), (std::vector<double>{0.99, 0.995, 0.998, 0.999, 1.0}));
}

// ---- held-out tokens stay out of the quantiles ----------------------------------

TEST(ActivationRecorder, HeldOutTokensStayOutOfTheGateQuantiles) {
  model::HyperParams hp;
  hp.n_layers = 1;
  hp.dim = 2;
  hp.n_ff = 4;
  hp.ffn_activation = model::FfnActivation::Silu;
  ActivationRecorder recorder(hp, 100);
  recorder.exclude_from_quantiles(10);
  const std::vector<float> early(10 * 4, 1.0f), late(10 * 4, 100.0f);
  recorder.observe(model::ActivationSite::FfnGate, 0, early.data(), 10, 4);
  recorder.observe(model::ActivationSite::FfnGate, 0, late.data(), 10, 4);
  const std::vector<float> q = recorder.gate_quantiles();
  EXPECT_EQ(q[100], 1.0f);  // the largest |act| of tokens 0..9 only
  EXPECT_EQ(recorder.layer(0).tokens_seen, 20u);  // frequencies still count every token
}

TEST(HeldOutRange, IsWhereTheQuantilesStop) {
  EXPECT_EQ(held_out_range(5000, 4096, 256).begin, 4096);  // tokens after recording
  EXPECT_EQ(held_out_range(1500, 1500, 256).begin, split_tokens(1500).threshold_end);
  EXPECT_EQ(held_out_range(1500, 1500, INT64_MAX).end, 1500);
}

// ---- stories260K: the gate sparsity for a target ----------------------------------

const std::filesystem::path kStories = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";

std::filesystem::path folder() {
  const auto f = std::filesystem::path(::testing::TempDir()) / ("sieve_fidelity_target_" + std::to_string(::getpid()));
  std::filesystem::create_directories(f);
  return f;
}

struct Calibrated {
  std::filesystem::path pack;
  std::vector<int32_t> held_out;
};

// stories260K packed with the quantiles of 1500 self-generated tokens, as
// `sieve calibrate` stores them, and the tokens it holds out.
Calibrated calibrated_stories(const std::string& name) {
  const auto plain = folder() / "stories260K.sieve";
  if (!std::filesystem::exists(plain)) flash::pack_model(kStories, plain);
  CalibrationRun run;
  run.pack = plain;
  run.self_generate = 1500;
  run.threads = 2;
  const model::HyperParams hp = flash::PackFile::open(plain).hparams();
  ActivationRecorder recorder(hp, run.max_tokens);
  const std::vector<int32_t> ran = record_activations(run, recorder);
  PredictorSet set;
  set.gate_quantiles = recorder.gate_quantiles();
  set.hot = recorder.frequencies();
  set.tokens = recorder.layer(0).tokens_seen;
  flash::PackOptions options;
  options.extras = to_pack_extras(set, hp);
  Calibrated c;
  c.pack = folder() / name;
  flash::rewrite_pack(plain, c.pack, options);
  const auto held = held_out_tokens(ran, recorder.recorded_tokens(), 256);
  c.held_out.assign(held.begin(), held.end());
  return c;
}

FidelityMeasureOptions measure_options() {
  FidelityMeasureOptions o;
  o.threads = 2;
  o.window = 256;
  return o;
}

TEST(GateSparsityForATarget, IsTheLargestThatMeetsItAndALaterSparseRunUsesIt) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  const Calibrated c = calibrated_stories("target95.sieve");
  ASSERT_GE(c.held_out.size(), 200u);  // the last 15% of 1500
  const double target = 0.95;
  const FidelityChoice choice = choose_gate_sparsity(c.pack, c.held_out, target, measure_options());
  ASSERT_TRUE(choice.met);
  EXPECT_GT(choice.knob, 0.0);  // stories260K keeps 95% while skipping some neurons (docs/sparsity.md)
  EXPECT_GE(choice.figure.top1, target);
  EXPECT_EQ(choice.figure.positions, c.held_out.size() - 1);
  // The largest: one percent more was measured, and fell short.
  bool next_measured_short = false;
  for (const FidelityStep& s : choice.steps) {
    if (std::abs(s.knob - (choice.knob + 0.01)) < 1e-9) next_measured_short = s.figure.top1 < target;
  }
  EXPECT_TRUE(next_measured_short);

  store_gate_choice(c.pack, target, choice);
  const flash::PackFile pack = flash::PackFile::open(c.pack);
  EXPECT_FLOAT_EQ(static_cast<float>(pack.calibrated_gate_sparsity()), static_cast<float>(choice.knob));
  EXPECT_EQ(pack.gguf().get_int(flash::pred_keys::kGateFidelityTokens), choice.figure.positions);
  EXPECT_FLOAT_EQ(static_cast<float>(*pack.gguf().get_float(flash::pred_keys::kFidelityTarget)), 0.95f);

  // A sparse run without --sparsity skips the stored fraction: the same figure.
  FidelityMeasureOptions later = measure_options();
  later.sparse = {};  // the gate predictor, no sparsity given
  const SparseFidelityFigure again = measure_sparse_fidelity(c.pack, c.held_out, later);
  EXPECT_EQ(again.top1, choice.figure.top1);
  EXPECT_NEAR(again.mean_kl, choice.figure.mean_kl, 1e-9 + 1e-6 * choice.figure.mean_kl);
  EXPECT_NEAR(again.neurons_per_token, choice.figure.neurons_per_token, 1e-9);
  // An explicit sparsity still wins: 0 skips nothing.
  later.sparse.target_sparsity = 0.0;
  const double all = static_cast<double>(pack.hparams().n_layers * pack.hparams().n_ff);
  EXPECT_GT(measure_sparse_fidelity(c.pack, c.held_out, later).neurons_per_token, 0.999 * all);
}

TEST(GateSparsityForATarget, ATargetOfOneKeepsEveryNeuron) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  const Calibrated c = calibrated_stories("target100.sieve");
  const FidelityChoice choice = choose_gate_sparsity(c.pack, c.held_out, 1.0, measure_options());
  EXPECT_EQ(choice.knob, 0.0);
  ASSERT_EQ(choice.steps.size(), 1u);  // nothing else can promise dense mode's choice everywhere
  EXPECT_TRUE(choice.met) << choice.figure.top1;  // skipping nothing: float rounding only
  store_gate_choice(c.pack, 1.0, choice);
  EXPECT_EQ(flash::PackFile::open(c.pack).calibrated_gate_sparsity(), 0.0);
  EXPECT_THROW(choose_gate_sparsity(c.pack, std::span(c.held_out).first(1), 0.99, measure_options()), Error);
}

TEST(GateSparsityForATarget, APackHoldingAnImpossibleFigureIsRefused) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << "no " << kStories;
  const auto plain = folder() / "stories260K-bad.sieve";
  flash::pack_model(kStories, plain);
  flash::PackOptions options;
  options.extras.metadata.push_back({flash::pred_keys::kGateSparsity, gguf::Value::f32(1.5f)});
  const auto bad = folder() / "bad-sparsity.sieve";
  try {
    flash::rewrite_pack(plain, bad, options);
    (void)flash::PackFile::open(bad);
    FAIL() << "a gate sparsity of 1.5 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sieve.pred.gate_sparsity"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sieve::sparse
