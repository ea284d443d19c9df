#include "flash/bundle_ffn.h"

#include <algorithm>
#include <cstring>

#include "model/feed_forward.h"
#include "tensor/kernels.h"

namespace sieve::flash {
namespace {

// Prefill reassembles this many bytes of rows at a time and decode this many
// per thread: large enough that each bundle gives a run of blocks per visit
// (and few thread-pool rounds), small enough to stay in L2.
constexpr size_t kChunkBytes = size_t{2} << 20;
constexpr size_t kSlotBytes = size_t{1} << 20;
// Float transposes run on whole 8-row tiles.
constexpr int64_t kRowQuantum = 8;

size_t chunk_bytes(const std::vector<BundleLayout>& layouts) {
  size_t largest_unit = 0;  // the chunk must hold one down row and one cluster's rows
  for (const BundleLayout& l : layouts) {
    largest_unit = std::max({largest_unit, l.down_row_bytes(),
                             static_cast<size_t>(l.cluster) * std::max(l.gate_row_bytes, l.up_row_bytes)});
  }
  return std::max(kChunkBytes, largest_unit);
}

// A decode slot holds at least one down row (and 8-row multiples when it can).
size_t slot_bytes(const std::vector<BundleLayout>& layouts) {
  size_t largest_row = 0;
  for (const BundleLayout& l : layouts) largest_row = std::max(largest_row, l.down_row_bytes());
  return align_up(std::max(kSlotBytes, largest_row), 64);
}

size_t rows_bytes(const std::vector<BundleLayout>& layouts, int threads) {
  return std::max(chunk_bytes(layouts), static_cast<size_t>(threads) * slot_bytes(layouts));
}

// The decode activation of the down projection converted for `type`.
size_t converted_bytes(const std::vector<BundleLayout>& layouts, int64_t n_ff) {
  size_t largest = 0;
  for (const BundleLayout& l : layouts) {
    const tensor::TensorType dot = tensor::kernels()[l.down_type].dot_type;
    if (dot != tensor::TensorType::F32) largest = std::max(largest, tensor::bytes_for(dot, static_cast<uint64_t>(n_ff)));
  }
  return largest;
}

// Rows of `row_bytes` per chunk: a multiple of 8 when more than 8 fit.
int64_t rows_per_chunk(size_t chunk, size_t row_bytes, int64_t n_rows) {
  int64_t rows = std::clamp<int64_t>(static_cast<int64_t>(chunk / row_bytes), 1, n_rows);
  if (rows > kRowQuantum && rows < n_rows) rows -= rows % kRowQuantum;
  return rows;
}

int64_t largest_chunk_rows(const std::vector<BundleLayout>& layouts, size_t chunk) {
  int64_t largest = 1;
  for (const BundleLayout& l : layouts) {
    largest = std::max(largest, rows_per_chunk(chunk, l.down_row_bytes(), l.dim));
    const size_t cluster_bytes = static_cast<size_t>(l.cluster) * std::min(l.gate_row_bytes, l.up_row_bytes);
    largest = std::max(largest, static_cast<int64_t>(chunk / cluster_bytes) * l.cluster);
  }
  return largest;
}

}  // namespace

BundleFfn::BundleFfn(const model::HyperParams& hp, ThreadPool& pool, int max_batch,
                     const std::vector<BundleLayout>& layouts)
    : hp_(hp),
      pool_(pool),
      max_batch_(max_batch),
      gate_(static_cast<size_t>(max_batch) * static_cast<size_t>(hp.n_ff)),
      up_(gate_.size()),
      rows_(rows_bytes(layouts, pool.size()), 64),
      slot_bytes_(slot_bytes(layouts)),
      slot_busy_(new std::atomic<bool>[static_cast<size_t>(pool.size())]),
      converted_(converted_bytes(layouts, hp.n_ff)),
      chunk_out_(static_cast<size_t>(max_batch) * static_cast<size_t>(largest_chunk_rows(layouts, rows_.size()))) {
  for (int i = 0; i < pool.size(); ++i) slot_busy_[static_cast<size_t>(i)] = false;
}

uint64_t BundleFfn::scratch_bytes(const model::HyperParams& hp, int threads, int max_batch,
                                  const std::vector<BundleLayout>& layouts) {
  const auto batch = static_cast<uint64_t>(max_batch);
  const size_t rows = rows_bytes(layouts, threads);
  uint64_t total = 2 * batch * static_cast<uint64_t>(hp.n_ff) * sizeof(float);  // gate_, up_
  total += rows + batch * static_cast<uint64_t>(largest_chunk_rows(layouts, rows)) * sizeof(float);
  total += converted_bytes(layouts, hp.n_ff);
  // matmul's scratch: converted activations (and for batches their float
  // round trip), plus per-thread float tiles of dequantized rows.
  total += batch * static_cast<uint64_t>(std::max(hp.dim, hp.n_ff)) * 6 + 4 * static_cast<uint64_t>(threads) * (256u << 10);
  return total;
}

void BundleFfn::set_observer(model::ActivationObserver* observer) {
  observer_ = observer;
  observed_gate_.resize(observer != nullptr ? gate_.size() : 0);
}

void BundleFfn::linear(const tensor::MatrixView& w, const float* x, int n_tokens, float* y, int64_t first_row,
                       int64_t out_rows) {
  if (n_tokens == 1) {
    tensor::matvec(w, x, y + first_row, pool_, scratch_);
    return;
  }
  if (first_row == 0 && w.n_rows == out_rows) {
    tensor::matmat(w, x, n_tokens, y, pool_, scratch_);
    return;
  }
  // matmat writes token-major rows of w.n_rows: move them into place.
  tensor::matmat(w, x, n_tokens, chunk_out_.data(), pool_, scratch_);
  for (int t = 0; t < n_tokens; ++t) {
    std::memcpy(y + t * out_rows + first_row, chunk_out_.data() + t * w.n_rows, static_cast<size_t>(w.n_rows) * sizeof(float));
  }
}

void BundleFfn::clustered_linear(const BundleLayout& l, const std::byte* bundles, size_t offset,
                                 tensor::TensorType type, size_t row_bytes, const float* x, int n_tokens, float* y) {
  if (l.cluster == 1) {
    // One row per bundle: the rows are a matrix with row stride bundle_bytes.
    linear({bundles + offset, type, l.n_ff, l.dim, l.bundle_bytes}, x, n_tokens, y, 0, l.n_ff);
    return;
  }
  const size_t cluster_bytes = static_cast<size_t>(l.cluster) * row_bytes;
  const int64_t per_chunk = std::max<int64_t>(1, static_cast<int64_t>(rows_.size() / cluster_bytes));
  for (int64_t c0 = 0; c0 < l.n_clusters; c0 += per_chunk) {
    const int64_t c1 = std::min(l.n_clusters, c0 + per_chunk);
    std::byte* rows = rows_.data();
    for (int64_t c = c0; c < c1; ++c) {
      std::memcpy(rows + static_cast<size_t>(c - c0) * cluster_bytes,
                  bundles + static_cast<size_t>(c) * l.bundle_bytes + offset, cluster_bytes);
    }
    linear({rows, type, (c1 - c0) * l.cluster, l.dim, row_bytes}, x, n_tokens, y, c0 * l.cluster, l.n_ff);
  }
}

std::byte* BundleFfn::claim_slot(size_t& slot) {
  // At most pool.size() ranges run at once, so a free slot always exists.
  const auto n = static_cast<size_t>(pool_.size());
  for (;;) {
    for (size_t i = 0; i < n; ++i) {
      if (!slot_busy_[i].load(std::memory_order_relaxed) && !slot_busy_[i].exchange(true, std::memory_order_acquire)) {
        slot = i;
        return rows_.data() + i * slot_bytes_;
      }
    }
  }
}

void BundleFfn::release_slot(size_t slot) { slot_busy_[slot].store(false, std::memory_order_release); }

void BundleFfn::down_one_token(const BundleLayout& l, const std::byte* bundles, float* y) {
  const tensor::KernelTable& k = tensor::kernels();
  const tensor::TensorType dot_type = k[l.down_type].dot_type;
  // The activation as matvec converts it: the dot type's own quantizer, or the floats as they are.
  const std::byte* h = reinterpret_cast<const std::byte*>(gate_.data());
  if (dot_type != tensor::TensorType::F32) {
    k[dot_type].quantize(gate_.data(), converted_.data(), l.n_ff);
    h = converted_.data();
  }
  const tensor::VecDotFn dot = k[l.down_type].vec_dot;
  const size_t row_bytes = l.down_row_bytes();
  const int64_t per_slot = rows_per_chunk(slot_bytes_, row_bytes, l.dim);
  const int64_t n_ff = l.n_ff, dim = l.dim;
  pool_.parallel_for(
      (dim + per_slot - 1) / per_slot,
      [&](int64_t begin, int64_t end) {
        size_t slot = 0;
        std::byte* rows = claim_slot(slot);
        for (int64_t chunk = begin; chunk < end; ++chunk) {
          const int64_t r0 = chunk * per_slot, r1 = std::min(dim, r0 + per_slot);
          gather_down_rows(l, bundles, r0, r1, rows);
          for (int64_t r = r0; r < r1; ++r) y[r] = dot(n_ff, rows + static_cast<size_t>(r - r0) * row_bytes, h);
        }
        release_slot(slot);
      },
      1);
}

void BundleFfn::down_from_bundles(const BundleLayout& l, const std::byte* bundles, int n_tokens, float* y) {
  if (n_tokens == 1) return down_one_token(l, bundles, y);
  const size_t row_bytes = l.down_row_bytes();
  const int64_t per_chunk = rows_per_chunk(rows_.size(), row_bytes, l.dim);
  for (int64_t r0 = 0; r0 < l.dim; r0 += per_chunk) {
    const int64_t r1 = std::min(l.dim, r0 + per_chunk);
    std::byte* rows = rows_.data();
    pool_.parallel_for(
        (r1 - r0 + kRowQuantum - 1) / kRowQuantum,
        [&](int64_t begin, int64_t end) {
          const int64_t a = r0 + begin * kRowQuantum, b = std::min(r1, r0 + end * kRowQuantum);
          gather_down_rows(l, bundles, a, b, rows + static_cast<size_t>(a - r0) * row_bytes);
        },
        1);
    linear({rows, l.down_type, r1 - r0, l.n_ff, row_bytes}, gate_.data(), n_tokens, y, r0, l.dim);
  }
}

void BundleFfn::activate(int layer, int n_tokens) {
  const int64_t n = static_cast<int64_t>(n_tokens) * hp_.n_ff;
  if (observer_ != nullptr) {
    model::gate_activation(hp_, gate_.data(), observed_gate_.data(), n);
    observer_->observe(model::ActivationSite::FfnGate, layer, observed_gate_.data(), n_tokens, hp_.n_ff);
  }
  model::apply_gated_activation(hp_, gate_.data(), up_.data(), n);
}

void BundleFfn::forward_bundles(int layer, const BundleLayout& l, const std::byte* bundles, const float* x,
                                int n_tokens, float* y) {
  clustered_linear(l, bundles, 0, l.gate_type, l.gate_row_bytes, x, n_tokens, gate_.data());
  clustered_linear(l, bundles, l.up_offset, l.up_type, l.up_row_bytes, x, n_tokens, up_.data());
  activate(layer, n_tokens);
  down_from_bundles(l, bundles, n_tokens, y);
}

void BundleFfn::forward_dense(int layer, const DenseFfnViews& w, const float* x, int n_tokens, float* y) {
  linear(w.gate, x, n_tokens, gate_.data(), 0, w.gate.n_rows);
  linear(w.up, x, n_tokens, up_.data(), 0, w.up.n_rows);
  activate(layer, n_tokens);
  linear(w.down, gate_.data(), n_tokens, y, 0, w.down.n_rows);
}

}  // namespace sieve::flash
