#pragma once
// The feed-forward block computed from a layer's bundles (bundle_layout.h),
// bit-identical to DenseFeedForward on the original matrices.
//
// Every output value is produced by the same kernel call on the same bytes
// as in dense mode: the activations are converted once per call to each
// weight type's dot type with the kernel table's own conversion (as matmul
// does), then
//   gate / up  one vec_dot per row, read where the row sits inside its bundle
//              (rows of a cluster are consecutive, clusters bundle_bytes apart)
//   down       the rows of the down projection are reassembled, a chunk of
//              rows at a time, into a per-thread row-major scratch by copying
//              the original blocks, then one vec_dot per row
// so no sum is reordered and nothing is re-rounded.
//
// The pinned layers of flash mode are kept in dense layout and computed with
// matvec / matmat exactly like DenseFeedForward (forward_dense).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "flash/bundle_layout.h"
#include "model/activation_stats.h"
#include "model/hparams.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::flash {

// A layer's FFN matrices in dense layout.
struct DenseFfnViews {
  tensor::MatrixView gate, up, down;
};

class BundleFfn {
 public:
  // `layouts` are every layer's (to size the scratch for the largest).
  BundleFfn(const model::HyperParams& hp, ThreadPool& pool, int max_batch, const std::vector<BundleLayout>& layouts);
  ~BundleFfn();

  // Scratch memory an instance allocates, for the DRAM budget.
  static uint64_t scratch_bytes(const model::HyperParams& hp, int threads, int max_batch,
                                const std::vector<BundleLayout>& layouts);

  // y = down(act(gate(x)) * up(x)) for n_tokens tokens (token-major, dim
  // floats each); 1 <= n_tokens <= max_batch.
  void forward_bundles(int layer, const BundleLayout& layout, const std::byte* bundles, const float* x, int n_tokens,
                       float* y);
  void forward_dense(int layer, const DenseFfnViews& w, const float* x, int n_tokens, float* y);

  void set_observer(model::ActivationObserver* observer);

 private:
  struct Converted {
    const std::byte* data = nullptr;
    size_t stride = 0;  // bytes between tokens
  };
  Converted convert(const float* x, int64_t row_elems, int n_tokens, tensor::TensorType weight_type,
                    std::vector<std::byte>& buffer) const;
  void gate_up_from_bundles(const BundleLayout& l, const std::byte* bundles, const float* x, int n_tokens);
  void down_from_bundles(const BundleLayout& l, const std::byte* bundles, int n_tokens, float* y);
  void activate(int layer, int n_tokens);
  std::byte* claim_rows_slot(size_t& slot);
  void release_rows_slot(size_t slot);

  const model::HyperParams& hp_;
  ThreadPool& pool_;
  int max_batch_;
  int64_t rows_per_chunk_;  // down rows reassembled at once per thread
  std::vector<float> gate_, up_;  // max_batch * n_ff
  std::vector<std::byte> act_gate_, act_up_, act_down_;  // converted activations
  std::vector<std::vector<std::byte>> row_slots_;         // one reassembly scratch per thread
  std::unique_ptr<std::atomic<bool>[]> slot_busy_;
  tensor::MatmulScratch matmul_scratch_;
  model::ActivationObserver* observer_ = nullptr;
  std::vector<float> observed_gate_;
};

}  // namespace sieve::flash
