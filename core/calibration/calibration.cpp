#include "calibration/calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "calibration/calibrated_fidelity.h"
#include "engine.h"
#include "flash/pack_format.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot read the calibration text (missing or unreadable).");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) throw Error(path.string() + ": the calibration text is empty.");
  return text.str();
}

int32_t sample(std::span<const float> logits, std::mt19937_64& rng, std::vector<double>& probs) {
  const float top = *std::max_element(logits.begin(), logits.end());
  probs.resize(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += probs[i] = std::exp(static_cast<double>(logits[i] - top));
  double u = std::uniform_real_distribution<double>(0.0, sum)(rng);
  for (size_t i = 0; i < logits.size(); ++i) {
    if ((u -= probs[i]) <= 0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(logits.size() - 1);
}

// Once the number of tokens to run is known: the held-out ones stay out of
// the quantiles.
void hold_out(ActivationRecorder& recorder, int64_t total) {
  const int64_t recorded = std::min(total, recorder.max_tokens());
  recorder.exclude_from_quantiles(held_out_range(total, recorded, INT64_MAX).begin);
}

std::vector<int32_t> run_text(Engine& engine, const CalibrationRun& run, ActivationRecorder& recorder) {
  std::vector<int32_t> ids = engine.tokenize(read_text(run.text), engine.model().add_bos);
  if (ids.size() < 2) throw Error(run.text.string() + ": the calibration text has fewer than 2 tokens.");
  hold_out(recorder, static_cast<int64_t>(ids.size()));
  const auto window = static_cast<size_t>(std::min(run.context, engine.model().context));
  for (size_t begin = 0; begin < ids.size(); begin += window) {
    const size_t end = std::min(ids.size(), begin + window);
    engine.reset();
    engine.prefill(std::span<const int32_t>(ids.data() + begin, end - begin));
  }
  return ids;
}

std::vector<int32_t> run_self_generated(Engine& engine, const CalibrationRun& run) {
  std::mt19937_64 rng(run.seed);
  std::vector<double> probs;
  const int32_t bos = engine.model().bos_id >= 0 ? engine.model().bos_id : 0;
  const int64_t window = std::min(run.context, engine.model().context);
  std::vector<int32_t> ran;
  ran.reserve(static_cast<size_t>(run.self_generate));
  while (static_cast<int64_t>(ran.size()) < run.self_generate) {
    engine.reset();
    std::span<const float> logits = engine.prefill(std::span<const int32_t>(&bos, 1));
    ran.push_back(bos);
    while (static_cast<int64_t>(ran.size()) < run.self_generate && engine.position() < window) {
      const int32_t next = sample(logits, rng, probs);
      if (engine.is_end_of_generation(next)) break;
      logits = engine.decode(next);
      ran.push_back(next);
    }
  }
  return ran;
}

}  // namespace

ActivationRecorder::ActivationRecorder(const model::HyperParams& hp, int64_t max_tokens, uint64_t seed)
    : hp_(hp),
      max_tokens_(max_tokens),
      layers_(static_cast<size_t>(hp.n_layers)),
      input_tokens_(static_cast<size_t>(hp.n_layers), 0),
      rng_(seed) {
  for (LayerRecord& r : layers_) {
    r.fire_counts.assign(static_cast<size_t>(hp.n_ff), 0);
    r.fire_level = -1;  // set on the first gate batch
  }
}

void ActivationRecorder::observe(model::ActivationSite site, int layer, const float* values, int64_t n_tokens,
                                 int64_t width) {
  if (layer < 0 || layer >= hp_.n_layers) return;
  LayerRecord& r = layers_[static_cast<size_t>(layer)];
  if (site == model::ActivationSite::FfnInput && width == hp_.dim) {
    int64_t& recorded = input_tokens_[static_cast<size_t>(layer)];
    const int64_t take = std::clamp<int64_t>(max_tokens_ - recorded, 0, n_tokens);
    r.inputs.insert(r.inputs.end(), values, values + take * width);
    recorded += take;
  } else if (site == model::ActivationSite::FfnGate && width == hp_.n_ff) {
    record_gate(r, values, n_tokens);
  }
}

void ActivationRecorder::record_gate(LayerRecord& r, const float* values, int64_t n_tokens) {
  const auto n_ff = static_cast<size_t>(hp_.n_ff);
  const bool relu_family = model::exact_zeros(hp_.ffn_activation);
  if (r.fire_level < 0) {
    if (relu_family) {
      r.fire_level = 0;
    } else {  // the median |act| of this first batch
      std::vector<float> a(values, values + static_cast<size_t>(n_tokens) * n_ff);
      for (float& v : a) v = std::abs(v);
      std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(a.size() / 2), a.end());
      r.fire_level = a[a.size() / 2];
    }
  }
  const auto recorded_inputs = static_cast<int64_t>(r.inputs.size() / static_cast<size_t>(hp_.dim));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* g = values + static_cast<size_t>(t) * n_ff;
    const bool keep = static_cast<int64_t>(r.fired.size() / n_ff) < recorded_inputs;
    for (size_t i = 0; i < n_ff; ++i) {
      const float a = std::abs(g[i]);
      const bool fired = a > r.fire_level;
      r.fire_counts[i] += fired ? 1 : 0;
      if (keep) r.fired.push_back(fired ? 1 : 0);
      if (static_cast<int64_t>(r.tokens_seen) >= quantile_end_) continue;  // held out
      // Reservoir sampling: every value seen has the same chance to be kept.
      ++r.values_seen;
      if (r.samples.size() < kReservoir) {
        r.samples.push_back(a);
      } else {
        const uint64_t slot = rng_() % r.values_seen;
        if (slot < kReservoir) r.samples[slot] = a;
      }
    }
    ++r.tokens_seen;
  }
}

int64_t ActivationRecorder::recorded_tokens(int layer) const {
  const LayerRecord& r = layers_[static_cast<size_t>(layer)];
  return static_cast<int64_t>(std::min(r.inputs.size() / static_cast<size_t>(hp_.dim),
                                       r.fired.size() / static_cast<size_t>(hp_.n_ff)));
}

int64_t ActivationRecorder::recorded_tokens() const {
  int64_t n = INT64_MAX;
  for (int l = 0; l < hp_.n_layers; ++l) n = std::min(n, recorded_tokens(l));
  return hp_.n_layers > 0 ? n : 0;
}

std::vector<float> ActivationRecorder::gate_quantiles() const {
  constexpr int kCount = flash::pred_keys::kQuantileCount;
  std::vector<float> out;
  for (const LayerRecord& r : layers_) {
    std::vector<float> s = r.samples;
    std::sort(s.begin(), s.end());
    for (int p = 0; p < kCount; ++p) {
      if (s.empty()) {
        out.push_back(0);
        continue;
      }
      const double at = static_cast<double>(p) / 100.0 * static_cast<double>(s.size() - 1);
      const auto i0 = static_cast<size_t>(at);
      const size_t i1 = std::min(i0 + 1, s.size() - 1);
      out.push_back(static_cast<float>(s[i0] + (at - static_cast<double>(i0)) * (s[i1] - s[i0])));
    }
  }
  return out;
}

std::vector<float> ActivationRecorder::frequencies() const {
  std::vector<float> out;
  for (const LayerRecord& r : layers_) {
    for (uint64_t c : r.fire_counts) {
      out.push_back(r.tokens_seen > 0 ? static_cast<float>(static_cast<double>(c) / static_cast<double>(r.tokens_seen)) : 0.0f);
    }
  }
  return out;
}

std::vector<int32_t> record_activations(const CalibrationRun& run, ActivationRecorder& recorder) {
  EngineOptions options;
  options.model_path = run.pack;
  options.threads = run.threads;
  options.context = run.context;
  options.mode = EngineMode::mmap;  // identical output to dense, weights paged by the OS
  options.activation_observer = &recorder;
  const std::unique_ptr<Engine> engine = Engine::load(options);
  if (!run.text.empty()) return run_text(*engine, run, recorder);
  if (run.self_generate <= 0) throw Error("calibration needs a text or a number of tokens to generate.");
  hold_out(recorder, run.self_generate);  // exactly this many are generated
  return run_self_generated(*engine, run);
}

}  // namespace sieve::sparse
