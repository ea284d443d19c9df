#include "flash/bundle_ffn.h"

#include <algorithm>

#include "model/feed_forward.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

// Down rows are reassembled into this much scratch per thread at a time:
// enough rows that each bundle is visited with a run of blocks (not one),
// few enough to stay in L2 while they are multiplied.
constexpr size_t kRowsScratchBytes = 1024 * 1024;
// Rows handed to one thread at a time carry at least this many weight bytes
// (as in matmul: claiming a chunk must stay noise).
constexpr size_t kMinChunkWorkBytes = 128 * 1024;

size_t largest_down_row(const std::vector<BundleLayout>& layouts) {
  size_t largest = 0;
  for (const BundleLayout& l : layouts) largest = std::max(largest, l.down_row_bytes());
  return largest;
}

size_t slot_bytes(const std::vector<BundleLayout>& layouts) {
  uint64_t largest_down = 0;
  for (const BundleLayout& l : layouts) largest_down = std::max(largest_down, l.down_bytes());
  return std::max(largest_down_row(layouts), static_cast<size_t>(std::min<uint64_t>(kRowsScratchBytes, largest_down)));
}

// Bytes of n_tokens activations of row_elems values converted for `type`.
size_t converted_bytes(tensor::TensorType weight_type, int64_t row_elems, int n_tokens) {
  const tensor::TensorType dot = tensor::kernels()[weight_type].dot_type;
  if (dot == tensor::TensorType::F32) return 0;
  return static_cast<size_t>(n_tokens) * tensor::bytes_for(dot, static_cast<uint64_t>(row_elems));
}

size_t largest_converted(const std::vector<BundleLayout>& layouts, int64_t row_elems, int n_tokens, int which) {
  size_t largest = 0;
  for (const BundleLayout& l : layouts) {
    const tensor::TensorType t = which == 0 ? l.gate_type : which == 1 ? l.up_type : l.down_type;
    largest = std::max(largest, converted_bytes(t, row_elems, n_tokens));
  }
  return largest;
}

}  // namespace

BundleFfn::BundleFfn(const model::HyperParams& hp, ThreadPool& pool, int max_batch,
                     const std::vector<BundleLayout>& layouts)
    : hp_(hp),
      pool_(pool),
      max_batch_(max_batch),
      rows_per_chunk_(0),
      gate_(static_cast<size_t>(max_batch) * static_cast<size_t>(hp.n_ff)),
      up_(gate_.size()),
      act_gate_(largest_converted(layouts, hp.dim, max_batch, 0)),
      act_up_(largest_converted(layouts, hp.dim, max_batch, 1)),
      act_down_(largest_converted(layouts, hp.n_ff, max_batch, 2)),
      row_slots_(static_cast<size_t>(pool.size()), std::vector<std::byte>(slot_bytes(layouts))),
      slot_busy_(new std::atomic<bool>[static_cast<size_t>(pool.size())]) {
  for (int i = 0; i < pool.size(); ++i) slot_busy_[static_cast<size_t>(i)] = false;
}

BundleFfn::~BundleFfn() = default;

uint64_t BundleFfn::scratch_bytes(const model::HyperParams& hp, int threads, int max_batch,
                                  const std::vector<BundleLayout>& layouts) {
  const auto batch = static_cast<uint64_t>(max_batch);
  uint64_t total = 2 * batch * static_cast<uint64_t>(hp.n_ff) * sizeof(float);  // gate_, up_
  total += largest_converted(layouts, hp.dim, max_batch, 0) + largest_converted(layouts, hp.dim, max_batch, 1) +
           largest_converted(layouts, hp.n_ff, max_batch, 2);
  total += static_cast<uint64_t>(threads) * slot_bytes(layouts);
  // matmul's activation scratch for the dense (pinned) layers: at most the
  // float input itself per token.
  total += batch * static_cast<uint64_t>(std::max(hp.dim, hp.n_ff)) * sizeof(float);
  return total;
}

void BundleFfn::set_observer(model::ActivationObserver* observer) {
  observer_ = observer;
  observed_gate_.resize(observer != nullptr ? gate_.size() : 0);
}

BundleFfn::Converted BundleFfn::convert(const float* x, int64_t row_elems, int n_tokens,
                                        tensor::TensorType weight_type, std::vector<std::byte>& buffer) const {
  const tensor::KernelTable& k = tensor::kernels();
  const tensor::TensorType dot = k[weight_type].dot_type;
  if (dot == tensor::TensorType::F32) {
    return {reinterpret_cast<const std::byte*>(x), static_cast<size_t>(row_elems) * sizeof(float)};
  }
  const tensor::QuantizeRowFn quantize = k[dot].quantize;
  if (quantize == nullptr || k[weight_type].vec_dot == nullptr) {
    throw Error("flash FFN: no kernel for tensor type " + std::string(tensor::type_name(weight_type)) + ".");
  }
  const size_t stride = tensor::bytes_for(dot, static_cast<uint64_t>(row_elems));
  for (int t = 0; t < n_tokens; ++t) {
    quantize(x + static_cast<int64_t>(t) * row_elems, buffer.data() + static_cast<size_t>(t) * stride, row_elems);
  }
  return {buffer.data(), stride};
}

void BundleFfn::gate_up_from_bundles(const BundleLayout& l, const std::byte* bundles, const float* x, int n_tokens) {
  const tensor::KernelTable& k = tensor::kernels();
  const Converted xg = convert(x, l.dim, n_tokens, l.gate_type, act_gate_);
  const Converted xu = convert(x, l.dim, n_tokens, l.up_type, act_up_);
  const tensor::VecDotFn dot_gate = k[l.gate_type].vec_dot;
  const tensor::VecDotFn dot_up = k[l.up_type].vec_dot;
  const int64_t n_ff = hp_.n_ff, dim = l.dim, cluster = l.cluster;
  float* gate = gate_.data();
  float* up = up_.data();
  const size_t work = static_cast<size_t>(cluster) * (l.gate_row_bytes + l.up_row_bytes) * static_cast<size_t>(n_tokens);
  const int64_t min_clusters = std::max<int64_t>(1, static_cast<int64_t>(kMinChunkWorkBytes / std::max<size_t>(1, work)));
  pool_.parallel_for(
      l.n_clusters,
      [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          const std::byte* bundle = bundles + static_cast<size_t>(c) * l.bundle_bytes;
          for (int64_t j = 0; j < cluster; ++j) {
            const int64_t neuron = c * cluster + j;
            const std::byte* grow = bundle + static_cast<size_t>(j) * l.gate_row_bytes;
            const std::byte* urow = bundle + l.up_offset + static_cast<size_t>(j) * l.up_row_bytes;
            for (int t = 0; t < n_tokens; ++t) {
              gate[t * n_ff + neuron] = dot_gate(dim, grow, xg.data + static_cast<size_t>(t) * xg.stride);
              up[t * n_ff + neuron] = dot_up(dim, urow, xu.data + static_cast<size_t>(t) * xu.stride);
            }
          }
        }
      },
      min_clusters);
}

std::byte* BundleFfn::claim_rows_slot(size_t& slot) {
  // At most pool.size() ranges run at once, so a free slot always exists.
  for (;;) {
    for (size_t i = 0; i < row_slots_.size(); ++i) {
      if (!slot_busy_[i].load(std::memory_order_relaxed) && !slot_busy_[i].exchange(true, std::memory_order_acquire)) {
        slot = i;
        return row_slots_[i].data();
      }
    }
  }
}

void BundleFfn::release_rows_slot(size_t slot) { slot_busy_[slot].store(false, std::memory_order_release); }

void BundleFfn::down_from_bundles(const BundleLayout& l, const std::byte* bundles, int n_tokens, float* y) {
  const Converted h = convert(gate_.data(), l.n_ff, n_tokens, l.down_type, act_down_);
  const tensor::VecDotFn dot = tensor::kernels()[l.down_type].vec_dot;
  const size_t row_bytes = l.down_row_bytes();
  // A multiple of 8 rows keeps the float transposes on whole SIMD tiles.
  int64_t rows_per_chunk = std::clamp<int64_t>(static_cast<int64_t>(row_slots_[0].size() / row_bytes), 1, l.dim);
  if (rows_per_chunk > 8 && rows_per_chunk < l.dim) rows_per_chunk -= rows_per_chunk % 8;
  const int64_t n_chunks = (l.dim + rows_per_chunk - 1) / rows_per_chunk;
  const int64_t dim = l.dim, n_ff = l.n_ff;
  pool_.parallel_for(
      n_chunks,
      [&](int64_t begin, int64_t end) {
        size_t slot = 0;
        std::byte* rows = claim_rows_slot(slot);
        for (int64_t chunk = begin; chunk < end; ++chunk) {
          const int64_t r0 = chunk * rows_per_chunk, r1 = std::min(dim, r0 + rows_per_chunk);
          gather_down_rows(l, bundles, r0, r1, rows);
          for (int64_t r = r0; r < r1; ++r) {
            const std::byte* row = rows + static_cast<size_t>(r - r0) * row_bytes;
            for (int t = 0; t < n_tokens; ++t) y[t * dim + r] = dot(n_ff, row, h.data + static_cast<size_t>(t) * h.stride);
          }
        }
        release_rows_slot(slot);
      },
      1);
}

void BundleFfn::activate(int layer, int n_tokens) {
  const int64_t n = static_cast<int64_t>(n_tokens) * hp_.n_ff;
  if (observer_ != nullptr) {
    model::gate_activation(hp_, gate_.data(), observed_gate_.data(), n);
    observer_->observe(model::ActivationSite::FfnGate, layer, observed_gate_.data(), n_tokens, hp_.n_ff);
  }
  model::apply_gated_activation(hp_, gate_.data(), up_.data(), n);
}

void BundleFfn::forward_bundles(int layer, const BundleLayout& layout, const std::byte* bundles, const float* x,
                                int n_tokens, float* y) {
  gate_up_from_bundles(layout, bundles, x, n_tokens);
  activate(layer, n_tokens);
  down_from_bundles(layout, bundles, n_tokens, y);
}

void BundleFfn::forward_dense(int layer, const DenseFfnViews& w, const float* x, int n_tokens, float* y) {
  if (n_tokens == 1) {
    tensor::matvec(w.gate, x, gate_.data(), pool_, matmul_scratch_);
    tensor::matvec(w.up, x, up_.data(), pool_, matmul_scratch_);
    activate(layer, 1);
    tensor::matvec(w.down, gate_.data(), y, pool_, matmul_scratch_);
    return;
  }
  tensor::matmat(w.gate, x, n_tokens, gate_.data(), pool_, matmul_scratch_);
  tensor::matmat(w.up, x, n_tokens, up_.data(), pool_, matmul_scratch_);
  activate(layer, n_tokens);
  tensor::matmat(w.down, gate_.data(), n_tokens, y, pool_, matmul_scratch_);
}

}  // namespace sieve::flash
