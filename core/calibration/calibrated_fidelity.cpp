#include "calibration/calibrated_fidelity.h"

#include <algorithm>
#include <memory>

#include "engine.h"
#include "engine/auto_mode.h"
#include "flash/pack_format.h"
#include "gguf/gguf_patch.h"
#include "calibration/fidelity.h"
#include "calibration/predictor_training.h"
#include "util/error.h"

namespace sieve::sparse {
namespace keys = flash::pred_keys;

std::span<const int32_t> held_out_tokens(std::span<const int32_t> ran, int64_t recorded, int64_t limit) {
  const auto n = static_cast<int64_t>(ran.size());
  recorded = std::clamp<int64_t>(recorded, 0, n);
  int64_t begin = recorded;
  int64_t end = n;
  if (n - recorded < kMinHeldOut) {
    const Split split = split_tokens(recorded);
    begin = split.threshold_end;
    end = split.total;
  }
  end = std::min(end, begin + std::max<int64_t>(0, limit));
  return ran.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
}

SparseFidelityFigure measure_sparse_fidelity(const std::filesystem::path& pack, std::span<const int32_t> tokens,
                                             const FidelityMeasureOptions& options) {
  EngineOptions sparse;
  sparse.model_path = pack;
  sparse.threads = options.threads;
  sparse.context = options.window;
  sparse.mode = EngineMode::sparse;
  sparse.sparse.predictor = PredictorKind::lowrank;
  sparse.dram_budget.bytes = options.dram_budget > 0 ? options.dram_budget : flash::default_dram_budget();
  EngineOptions dense = sparse;
  dense.mode = EngineMode::mmap;  // dense mode's output, without reading a larger-than-memory model in
  dense.dram_budget = {};
  const std::unique_ptr<Engine> candidate = Engine::load(sparse);
  const std::unique_ptr<Engine> reference = Engine::load(dense);
  FidelityRunOptions run;
  run.window = options.window;
  const FidelitySummary s = compare_engines(*reference, *candidate, tokens, run).fidelity;
  SparseFidelityFigure figure;
  figure.positions = static_cast<uint32_t>(std::min<int64_t>(s.positions, UINT32_MAX));
  figure.top1 = s.top1_agreement();
  figure.mean_kl = s.mean_kl;
  return figure;
}

void store_sparse_fidelity(const std::filesystem::path& pack, const SparseFidelityFigure& figure) {
  gguf::overwrite_scalar(pack, keys::kFidelityTop1, gguf::Value::f32(static_cast<float>(figure.top1)));
  gguf::overwrite_scalar(pack, keys::kFidelityKl, gguf::Value::f32(static_cast<float>(figure.mean_kl)));
  // Last: a figure counts as measured only once both numbers are in place.
  gguf::overwrite_scalar(pack, keys::kFidelityTokens, gguf::Value::u32(figure.positions));
}

}  // namespace sieve::sparse
