#pragma once
// Prefill in `--mode sparse`: a batch of prompt tokens through a layer's FFN,
// computed densely from the layer's bundles streamed in chunks of whole
// bundles (a few MiB), two chunks in flight: one is computed while the next
// is read.
//
// Why dense and not the union of the batch's predicted neurons: with 10%
// of neurons active per token and independent tokens, a batch of 16 already
// needs 1 - 0.9^16 = 81% of them, so the union saves little reading, while
// computing every neuron keeps the prompt's KV entries exact (no predictor
// misses) and needs no prediction per token. Compared with flash's
// LayerStreamer it needs two chunk buffers instead of two whole-layer
// buffers, which leaves that DRAM to the neuron stores.
//
// Each neuron's value is exactly dense mode's (same kernels on the same
// bytes); the down projection is summed chunk by chunk, so y agrees with
// dense mode to float rounding. A listener sees every chunk while it is in
// DRAM (the sparse FFN fills its neuron stores from the prompt).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/io/aligned_buffer.h"
#include "flash/io/io_engine.h"
#include "flash/io/read_planner.h"
#include "model/hparams.h"
#include "sparse/read_rounds.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::sparse {

struct PrefillLayer {
  flash::BundleLayout layout;
  uint64_t file_offset = 0;  // of the layer's first bundle
};

// Sees each chunk of a prompt batch before its buffer is reused.
class PrefillListener {
 public:
  virtual ~PrefillListener() = default;
  // Clusters [c0, c1) of `layer`: their bundles as read, and the neurons'
  // values h = act(gate) * up for the batch (n_tokens x neurons, token-major).
  virtual void on_chunk(int layer, int64_t c0, int64_t c1, const std::byte* bundles, const float* h, int n_tokens) = 0;
};

class ChunkedPrefill {
 public:
  // `io`, `pool` and `hp` must outlive this. Reads are at most max_read bytes.
  ChunkedPrefill(const model::HyperParams& hp, ThreadPool& pool, flash::IoEngine& io, std::vector<PrefillLayer> layers,
                 int max_batch, uint32_t max_read);
  ~ChunkedPrefill();

  // DRAM the chunk buffers and the planners' staging take (I/O staging),
  // and the compute scratch (activations and scratch).
  static uint64_t staging_bytes(const std::vector<flash::BundleLayout>& layouts);
  static uint64_t scratch_bytes(const model::HyperParams& hp, int max_batch, int threads,
                                const std::vector<flash::BundleLayout>& layouts);

  // y = FFN(x) for n_tokens (>= 1) tokens of `layer`. Throws sieve::Error on
  // a failed read, after every read in flight has finished.
  void forward(int layer, const float* x, int n_tokens, float* y);

  // Null (the default) for none; must outlive this.
  void set_listener(PrefillListener* listener) { listener_ = listener; }

  uint64_t bytes_read() const { return rounds_.bytes_read(); }
  double wait_seconds() const { return rounds_.wait_seconds(); }

 private:
  struct Chunk {
    int64_t c0 = 0, c1 = 0;  // clusters
    std::byte* data = nullptr;
  };
  void submit(int side, const PrefillLayer& l, int64_t c0, int64_t c1);
  void compute(int layer, const Chunk& chunk, const float* x, int n_tokens, float* y);
  const tensor::MatrixView rows_view(const flash::BundleLayout& l, const Chunk& chunk, size_t offset,
                                     tensor::TensorType type, size_t row_bytes);

  const model::HyperParams& hp_;
  ThreadPool& pool_;
  flash::IoEngine& io_;
  std::vector<PrefillLayer> layers_;
  int max_batch_;
  ReadRounds rounds_;  // drained by the destructor before the buffers go
  flash::AlignedBuffer buffers_[2];
  Chunk chunks_[2];
  uint32_t alignment_;
  flash::AlignedBuffer rows_;       // B > 1: a chunk's gate or up rows, row-major
  flash::AlignedBuffer down_rows_;  // the chunk's part of every down row
  std::vector<float> gate_, up_, out_;
  tensor::MatmulScratch scratch_;
  PrefillListener* listener_ = nullptr;
};

// Clusters per prefill chunk for this layout (whole bundles, about 4 MiB).
int64_t prefill_chunk_clusters(const flash::BundleLayout& layout);

}  // namespace sieve::sparse
