#pragma once
// The low-rank predictor (predictor.h): per layer score = B (A x), neuron i
// active when score_i > the layer's threshold. A is [rank x dim], B
// [n_ff x rank], in any type the kernels multiply (F16/F32 in Sieve's own
// packs). SVD predictors carry a margin: the threshold is lowered by
// margin * |x| for each token. The PowerInfer variant puts a ReLU between the two products
// (score = fc2 relu(fc1 x)) and activates when score_i >= threshold.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sparse/predictor.h"
#include "sparse/predictor_set.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::flash {
class PackFile;
class IoEngine;
}  // namespace sieve::flash

namespace sieve::sparse {

// Throws sieve::Error (one sentence naming the pack and what to run) when the
// pack lacks the tensors of `kind` (lowrank or powerinfer).
void require_predictor_tensors(const flash::PackFile& pack, PredictorKind kind);

class LowRankPredictor final : public Predictor {
 public:
  struct Layer {
    tensor::MatrixView a;  // rank rows of dim values
    tensor::MatrixView b;  // n_ff rows of rank values
    float threshold = 0;
    float margin = 0;  // the threshold is lowered by margin * |x|
  };

  // `storage` keeps the matrices' bytes alive. relu_between: the PowerInfer form.
  LowRankPredictor(PredictorKind kind, std::string label, std::vector<Layer> layers, std::shared_ptr<const void> storage,
                   uint64_t storage_bytes, bool relu_between, ThreadPool& pool);

  // Reads blk.L.ffn_pred_a/b (or fc1/fc2 for PowerInfer) with direct I/O,
  // checking their checksums. Throws sieve::Error when the pack lacks them.
  static std::unique_ptr<LowRankPredictor> load(const flash::PackFile& pack, PredictorKind kind, ThreadPool& pool,
                                                flash::IoEngine& io);
  // An in-memory predictor (F32), e.g. one just trained, for evaluation.
  static std::unique_ptr<LowRankPredictor> from_set(const PredictorSet& set, const model::HyperParams& hp,
                                                    ThreadPool& pool);

  void predict(int layer, const float* x, std::vector<int32_t>& active) override;
  bool splits_rows() const override { return true; }
  void predict_rows(int layer, const float* x, int64_t begin, int64_t end, std::vector<int32_t>& active) override;
  uint64_t resident_bytes() const override { return storage_bytes_ + scratch_bytes(); }
  PredictorKind kind() const override { return kind_; }
  std::string describe() const override;

  // The scores of the last predict() call for `layer` (n_ff values).
  const std::vector<float>& last_scores() const { return scores_; }

  // Scratch predict() keeps, for a predictor of these sizes.
  static uint64_t scratch_bytes(int64_t max_rank, int64_t n_ff, int64_t dim);

 private:
  uint64_t scratch_bytes() const;

  PredictorKind kind_;
  std::string label_;
  std::vector<Layer> layers_;
  std::shared_ptr<const void> storage_;
  uint64_t storage_bytes_;
  bool relu_between_;
  ThreadPool& pool_;
  std::vector<float> hidden_;  // A x
  std::vector<float> scores_;  // B (A x)
  float threshold_ = 0;        // of the current layer and token (the margin applied)
  tensor::MatmulScratch scratch_;
};

}  // namespace sieve::sparse
