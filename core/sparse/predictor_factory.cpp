#include "sparse/predictor_factory.h"

#include <algorithm>

#include "flash/pack_file.h"
#include "sparse/gate_predictor.h"
#include "sparse/lowrank_predictor.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

void require_kind(PredictorKind kind) {
  if (kind == PredictorKind::none) throw Error("sparse mode needs a predictor (gate, lowrank or powerinfer), not none.");
}

}  // namespace

std::unique_ptr<Predictor> make_predictor(const flash::PackFile& pack, const model::HyperParams& hp,
                                          const SparseOptions& options, ThreadPool& pool, flash::IoEngine& io) {
  require_kind(options.predictor);
  if (options.predictor == PredictorKind::gate) return GatePredictor::load(pack, hp, options, pool, io);
  require_predictor_tensors(pack, options.predictor);
  return LowRankPredictor::load(pack, options.predictor, pool, io);
}

std::vector<uint64_t> predictor_layer_bytes(const flash::PackFile& pack, const model::HyperParams& hp,
                                            const SparseOptions& options) {
  require_kind(options.predictor);
  std::vector<uint64_t> bytes;
  if (options.predictor == PredictorKind::gate) {
    for (int64_t l = 0; l < pack.n_layers(); ++l) {
      GatePredictor::threshold_for(pack, l, GatePredictor::sparsity(pack, options));  // throws when uncalibrated
      const tensor::TensorType from = pack.layout(l).gate_type;
      bytes.push_back(GatePredictor::layer_bytes(hp, from, GatePredictor::copy_type(pack, l, options)));
    }
    bytes.front() += GatePredictor::scratch_bytes(hp);
    return bytes;
  }
  require_predictor_tensors(pack, options.predictor);
  const bool powerinfer = options.predictor == PredictorKind::powerinfer;
  int64_t max_rank = 0;
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const gguf::TensorInfo* a = pack.predictor_tensor(l, powerinfer ? flash::PredictorRole::fc1 : flash::PredictorRole::a);
    const gguf::TensorInfo* b = pack.predictor_tensor(l, powerinfer ? flash::PredictorRole::fc2 : flash::PredictorRole::b);
    // TensorBuffer reads each tensor into its own aligned run.
    bytes.push_back(flash::align_up(a->size_bytes, flash::kDefaultIoAlignment) +
                    flash::align_up(b->size_bytes, flash::kDefaultIoAlignment));
    max_rank = std::max<int64_t>(max_rank, static_cast<int64_t>(a->dims[1]));
  }
  bytes.front() += LowRankPredictor::scratch_bytes(max_rank, hp.n_ff, hp.dim);
  return bytes;
}

std::vector<float> neuron_frequencies(const flash::PackFile& pack, int layer) {
  const std::vector<float>& hot = pack.neuron_frequencies();
  if (hot.empty() || layer < 0 || layer >= pack.n_layers()) return {};
  const auto n_ff = static_cast<size_t>(pack.hparams().n_ff);
  const auto begin = hot.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(layer) * n_ff);
  return {begin, begin + static_cast<std::ptrdiff_t>(n_ff)};
}

}  // namespace sieve::sparse
