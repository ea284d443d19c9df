#pragma once
// The feed-forward block computed from a layer's bundles (bundle_layout.h),
// bit-identical to DenseFeedForward on the original matrices.
//
// Every product goes through the same matvec / matmat as dense mode, over
// views of the same row bytes; they compute each output row from that row's
// bytes and the activations alone (whichever rows share a call), so the
// results are the same bits:
//   gate / up  clusters of one neuron (F16/BF16/F32): the rows are read in
//              place, a matrix whose row stride is bundle_bytes; larger
//              clusters: a chunk of clusters' rows is first copied into
//              row-major scratch (B rows per bundle, one memcpy each)
//   down       rows are reassembled a chunk at a time into row-major scratch
//              by copying the original blocks out of every bundle, then
//              multiplied
// Nothing is re-rounded and no sum is reordered. Pinned layers are kept in
// dense layout and computed exactly like DenseFeedForward (forward_dense).
//
// One exception, for speed: decode's down projection (one token) gathers and
// multiplies in the same pass, each thread on its own rows while they are
// still in L2, calling the kernel table's conversion and vec_dot directly —
// which is what matvec does per row (matmul.h: "y[r] = dot(W row r, x)").
// The flash == dense tests hold this to the bit.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/io/aligned_buffer.h"
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

  // Scratch memory an instance allocates (its matmul scratch included), for
  // the DRAM budget.
  static uint64_t scratch_bytes(const model::HyperParams& hp, int threads, int max_batch,
                                const std::vector<BundleLayout>& layouts);

  // y = down(act(gate(x)) * up(x)) for n_tokens tokens (token-major, dim
  // floats each); 1 <= n_tokens <= max_batch.
  void forward_bundles(int layer, const BundleLayout& layout, const std::byte* bundles, const float* x, int n_tokens,
                       float* y);
  void forward_dense(int layer, const DenseFfnViews& w, const float* x, int n_tokens, float* y);

  void set_observer(model::ActivationObserver* observer);

 private:
  // y = W x for n tokens, W's rows a contiguous part of the output (rows
  // [first_row, first_row + W.n_rows) of out_rows), as dense mode multiplies.
  void linear(const tensor::MatrixView& w, const float* x, int n_tokens, float* y, int64_t first_row,
              int64_t out_rows);
  void clustered_linear(const BundleLayout& l, const std::byte* bundles, size_t offset, tensor::TensorType type,
                        size_t row_bytes, const float* x, int n_tokens, float* y);
  void down_from_bundles(const BundleLayout& l, const std::byte* bundles, int n_tokens, float* y);
  void down_one_token(const BundleLayout& l, const std::byte* bundles, float* y);
  std::byte* claim_slot(size_t& slot);
  void release_slot(size_t slot);
  void activate(int layer, int n_tokens);

  const model::HyperParams& hp_;
  ThreadPool& pool_;
  int max_batch_;
  std::vector<float> gate_, up_;  // max_batch * n_ff
  AlignedBuffer rows_;            // reassembled rows: one chunk, or one slot per thread (decode)
  size_t slot_bytes_;             // rows_ split into pool.size() slots
  std::unique_ptr<std::atomic<bool>[]> slot_busy_;
  std::vector<std::byte> converted_;  // decode: the down activation in its dot type
  std::vector<float> chunk_out_;      // a chunk's outputs for a batch, before they are scattered
  tensor::MatmulScratch scratch_;
  model::ActivationObserver* observer_ = nullptr;
  std::vector<float> observed_gate_;
};

}  // namespace sieve::flash
