#include "calibration/calibrated_fidelity.h"

#include <algorithm>

#include "calibration/fidelity.h"
#include "calibration/predictor_training.h"
#include "engine.h"
#include "engine/auto_mode.h"
#include "flash/pack_format.h"
#include "gguf/gguf_patch.h"
#include "util/error.h"

namespace sieve::sparse {
namespace keys = flash::pred_keys;

TokenRange held_out_range(int64_t n, int64_t recorded, int64_t limit) {
  n = std::max<int64_t>(0, n);
  recorded = std::clamp<int64_t>(recorded, 0, n);
  TokenRange r{recorded, n};
  if (n - recorded < kMinHeldOut) {
    const Split split = split_tokens(recorded);
    r = {split.threshold_end, split.total};
  }
  r.end = r.begin + std::clamp<int64_t>(limit, 0, r.end - r.begin);  // no overflow for limit = INT64_MAX
  return r;
}

std::span<const int32_t> held_out_tokens(std::span<const int32_t> ran, int64_t recorded, int64_t limit) {
  const TokenRange r = held_out_range(static_cast<int64_t>(ran.size()), recorded, limit);
  return ran.subspan(static_cast<size_t>(r.begin), static_cast<size_t>(r.end - r.begin));
}

namespace {

EngineOptions sparse_engine_options(const std::filesystem::path& pack, const FidelityMeasureOptions& options) {
  EngineOptions sparse;
  sparse.model_path = pack;
  sparse.threads = options.threads;
  sparse.context = options.window;
  sparse.mode = EngineMode::sparse;
  sparse.sparse = options.sparse;
  sparse.dram_budget.bytes = options.dram_budget > 0 ? options.dram_budget : flash::default_dram_budget();
  return sparse;
}

SparseFidelityFigure figure_of(const FidelityReport& report) {
  const FidelitySummary& s = report.fidelity;
  const DecodeCost& c = report.candidate_cost;
  SparseFidelityFigure figure;
  figure.positions = static_cast<uint32_t>(std::min<int64_t>(s.positions, UINT32_MAX));
  figure.top1 = s.top1_agreement();
  figure.mean_kl = s.mean_kl;
  figure.neurons_per_token = c.per_sparse_token(c.neurons_predicted);
  figure.bytes_per_token = c.per_sparse_token(c.sparse_bytes_read);
  return figure;
}

}  // namespace

std::unique_ptr<Engine> load_reference(const std::filesystem::path& pack, const FidelityMeasureOptions& options) {
  EngineOptions dense = sparse_engine_options(pack, options);
  dense.mode = EngineMode::mmap;
  dense.dram_budget = {};
  dense.sparse = {};
  return Engine::load(dense);
}

SparseFidelityFigure measure_sparse_fidelity(Engine& reference, const std::filesystem::path& pack,
                                             std::span<const int32_t> tokens, const FidelityMeasureOptions& options) {
  const std::unique_ptr<Engine> candidate = Engine::load(sparse_engine_options(pack, options));
  FidelityRunOptions run;
  run.window = options.window;
  run.window_start_token = options.window_start_token;
  return figure_of(compare_engines(reference, *candidate, tokens, run));
}

SparseFidelityFigure measure_sparse_fidelity(const std::filesystem::path& pack, std::span<const int32_t> tokens,
                                             const FidelityMeasureOptions& options) {
  const std::unique_ptr<Engine> reference = load_reference(pack, options);
  return measure_sparse_fidelity(*reference, pack, tokens, options);
}

void store_sparse_fidelity(const std::filesystem::path& pack, const SparseFidelityFigure& figure) {
  gguf::overwrite_scalar(pack, keys::kFidelityTop1, gguf::Value::f32(static_cast<float>(figure.top1)));
  gguf::overwrite_scalar(pack, keys::kFidelityKl, gguf::Value::f32(static_cast<float>(figure.mean_kl)));
  // Last: a figure counts as measured only once both numbers are in place.
  gguf::overwrite_scalar(pack, keys::kFidelityTokens, gguf::Value::u32(figure.positions));
}

}  // namespace sieve::sparse
