#include "sparse/chunked_prefill.h"

#include <algorithm>
#include <cstring>

#include "model/feed_forward.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

constexpr uint64_t kChunkBytes = uint64_t{4} << 20;
constexpr int64_t kRowQuantum = 8;  // gather_down_rows transposes 8-row tiles

flash::PlanOptions chunk_plan(uint32_t max_read) {
  flash::PlanOptions plan;
  plan.max_read = max_read;
  return plan;
}

uint64_t chunk_buffer_bytes(const std::vector<flash::BundleLayout>& layouts, uint64_t alignment) {
  uint64_t largest = 0;
  for (const flash::BundleLayout& l : layouts) {
    largest = std::max<uint64_t>(largest, static_cast<uint64_t>(prefill_chunk_clusters(l)) * l.bundle_bytes);
  }
  // Room to place the data at its file offset's misalignment (zero-copy reads).
  return flash::align_up(largest, alignment) + 2 * alignment;
}

uint64_t rows_bytes(const std::vector<flash::BundleLayout>& layouts) {
  uint64_t largest = 0;
  for (const flash::BundleLayout& l : layouts) {
    if (l.cluster > 1) {
      largest = std::max<uint64_t>(largest, static_cast<uint64_t>(prefill_chunk_clusters(l) * l.cluster) *
                                                std::max(l.gate_row_bytes, l.up_row_bytes));
    }
  }
  return largest;
}

uint64_t down_rows_bytes(const std::vector<flash::BundleLayout>& layouts) {
  uint64_t largest = 0;
  for (const flash::BundleLayout& l : layouts) {
    largest = std::max<uint64_t>(largest, static_cast<uint64_t>(prefill_chunk_clusters(l)) * l.down_block_bytes *
                                              static_cast<uint64_t>(l.dim));
  }
  return largest;
}

int64_t largest_chunk_neurons(const std::vector<flash::BundleLayout>& layouts) {
  int64_t largest = 1;
  for (const flash::BundleLayout& l : layouts) largest = std::max(largest, prefill_chunk_clusters(l) * l.cluster);
  return largest;
}

std::vector<flash::BundleLayout> layouts_of(const std::vector<PrefillLayer>& layers) {
  std::vector<flash::BundleLayout> out;
  for (const PrefillLayer& l : layers) out.push_back(l.layout);
  return out;
}

}  // namespace

int64_t prefill_chunk_clusters(const flash::BundleLayout& layout) {
  const auto per = static_cast<int64_t>(kChunkBytes / std::max<size_t>(1, layout.bundle_bytes));
  return std::clamp<int64_t>(per, 1, std::max<int64_t>(1, layout.n_clusters));
}

uint64_t ChunkedPrefill::staging_bytes(const std::vector<flash::BundleLayout>& layouts) {
  // Two chunk buffers, and the planners' staging for a chunk's unaligned ends.
  return 2 * chunk_buffer_bytes(layouts, flash::kDefaultIoAlignment) + 2 * 2 * flash::kDefaultIoAlignment;
}

uint64_t ChunkedPrefill::scratch_bytes(const model::HyperParams& hp, int max_batch, int threads,
                                       const std::vector<flash::BundleLayout>& layouts) {
  const auto batch = static_cast<uint64_t>(max_batch);
  const auto neurons = static_cast<uint64_t>(largest_chunk_neurons(layouts));
  uint64_t total = rows_bytes(layouts) + down_rows_bytes(layouts);
  total += (2 * batch * neurons + batch * static_cast<uint64_t>(hp.dim)) * sizeof(float);  // gate_, up_, out_
  // matmat's scratch: converted activations, and per-thread float tiles.
  total += batch * std::max<uint64_t>(static_cast<uint64_t>(hp.dim), neurons) * 6 +
           4 * static_cast<uint64_t>(threads) * (256u << 10);
  return total;
}

ChunkedPrefill::ChunkedPrefill(const model::HyperParams& hp, ThreadPool& pool, flash::IoEngine& io,
                               std::vector<PrefillLayer> layers, int max_batch, uint32_t max_read)
    : hp_(hp), pool_(pool), io_(io), layers_(std::move(layers)), max_batch_(max_batch),
      rounds_(io, chunk_plan(max_read)) {
  const std::vector<flash::BundleLayout> layouts = layouts_of(layers_);
  alignment_ = std::max<uint32_t>(chunk_plan(max_read).alignment, io.file().required_alignment());
  for (auto& buffer : buffers_) buffer = flash::AlignedBuffer(chunk_buffer_bytes(layouts, alignment_), alignment_);
  rows_ = flash::AlignedBuffer(std::max<uint64_t>(1, rows_bytes(layouts)), 64);
  down_rows_ = flash::AlignedBuffer(down_rows_bytes(layouts), 64);
  const auto neurons = static_cast<size_t>(largest_chunk_neurons(layouts));
  gate_.resize(static_cast<size_t>(max_batch) * neurons);
  up_.resize(gate_.size());
  out_.resize(static_cast<size_t>(max_batch) * static_cast<size_t>(hp.dim));
}

ChunkedPrefill::~ChunkedPrefill() { rounds_.drain_quietly(); }

void ChunkedPrefill::submit(int side, const PrefillLayer& l, int64_t c0, int64_t c1) {
  const uint64_t offset = l.file_offset + static_cast<uint64_t>(c0) * l.layout.bundle_bytes;
  const uint64_t length = static_cast<uint64_t>(c1 - c0) * l.layout.bundle_bytes;
  std::byte* dest = buffers_[side].data() + offset % alignment_;
  const flash::ReadRequest wanted{offset, static_cast<uint32_t>(length), dest, 0};
  rounds_.submit(side, {&wanted, 1});
  chunks_[side] = {c0, c1, dest};
}

void ChunkedPrefill::forward(int layer, const float* x, int n_tokens, float* y) {
  if (n_tokens < 1 || n_tokens > max_batch_) throw Error("sparse prefill: bad batch size.");
  const PrefillLayer& l = layers_.at(static_cast<size_t>(layer));
  const int64_t per = prefill_chunk_clusters(l.layout);
  const int64_t n_chunks = (l.layout.n_clusters + per - 1) / per;
  auto chunk_end = [&](int64_t j) { return std::min(l.layout.n_clusters, (j + 1) * per); };
  std::fill(y, y + static_cast<size_t>(n_tokens) * static_cast<size_t>(hp_.dim), 0.0f);
  try {
    for (int64_t j = 0; j < std::min<int64_t>(2, n_chunks); ++j) submit(static_cast<int>(j), l, j * per, chunk_end(j));
    for (int64_t j = 0; j < n_chunks; ++j) {
      const int side = static_cast<int>(j % 2);
      rounds_.wait(side);
      compute(layer, chunks_[side], x, n_tokens, y);
      if (j + 2 < n_chunks) submit(side, l, (j + 2) * per, chunk_end(j + 2));
    }
  } catch (...) {
    rounds_.drain_quietly();
    throw;
  }
}

const tensor::MatrixView ChunkedPrefill::rows_view(const flash::BundleLayout& l, const Chunk& chunk, size_t offset,
                                                   tensor::TensorType type, size_t row_bytes) {
  const int64_t clusters = chunk.c1 - chunk.c0;
  if (l.cluster == 1) return {chunk.data + offset, type, clusters, l.dim, l.bundle_bytes};
  // Clusters of several rows are not uniformly strided: copy them row-major.
  const size_t cluster_bytes = static_cast<size_t>(l.cluster) * row_bytes;
  for (int64_t c = 0; c < clusters; ++c) {
    std::memcpy(rows_.data() + static_cast<size_t>(c) * cluster_bytes,
                chunk.data + static_cast<size_t>(c) * l.bundle_bytes + offset, cluster_bytes);
  }
  return {rows_.data(), type, clusters * l.cluster, l.dim, row_bytes};
}

void ChunkedPrefill::compute(int layer, const Chunk& chunk, const float* x, int n_tokens, float* y) {
  const flash::BundleLayout& l = layers_[static_cast<size_t>(layer)].layout;
  const int64_t neurons = (chunk.c1 - chunk.c0) * l.cluster;
  tensor::matmat(rows_view(l, chunk, 0, l.gate_type, l.gate_row_bytes), x, n_tokens, gate_.data(), pool_, scratch_);
  tensor::matmat(rows_view(l, chunk, l.up_offset, l.up_type, l.up_row_bytes), x, n_tokens, up_.data(), pool_, scratch_);
  model::apply_gated_activation(hp_, gate_.data(), up_.data(), n_tokens * neurons);
  if (listener_ != nullptr) listener_->on_chunk(layer, chunk.c0, chunk.c1, chunk.data, gate_.data(), n_tokens);

  // The chunk's bundles are a layout of their own: gather the part of every
  // down row they hold, then multiply.
  flash::BundleLayout part = l;
  part.n_clusters = chunk.c1 - chunk.c0;
  part.n_ff = neurons;
  const size_t row_bytes = part.down_row_bytes();
  std::byte* rows = down_rows_.data();
  pool_.parallel_for(
      (l.dim + kRowQuantum - 1) / kRowQuantum,
      [&](int64_t begin, int64_t end) {
        const int64_t r0 = begin * kRowQuantum, r1 = std::min(l.dim, end * kRowQuantum);
        flash::gather_down_rows(part, chunk.data, r0, r1, rows + static_cast<size_t>(r0) * row_bytes);
      },
      1);
  tensor::matmat({rows, l.down_type, l.dim, neurons, row_bytes}, gate_.data(), n_tokens, out_.data(), pool_, scratch_);
  const size_t n = static_cast<size_t>(n_tokens) * static_cast<size_t>(l.dim);
  for (size_t i = 0; i < n; ++i) y[i] += out_[i];
}

}  // namespace sieve::sparse
