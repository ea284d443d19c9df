#include "sparse/unit_kernel.h"

#include <algorithm>
#include <cstring>

#include "flash/io/aligned_buffer.h"
#include "model/feed_forward.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

using tensor::TensorType;

size_t converted_bytes(TensorType weight_type, int64_t n) {
  const TensorType dot = tensor::kernels()[weight_type].dot_type;
  return dot == TensorType::F32 ? 0 : tensor::bytes_for(dot, static_cast<uint64_t>(n));
}

int64_t largest_cluster(const std::vector<flash::BundleLayout>& layouts) {
  int64_t largest = 1;
  for (const flash::BundleLayout& l : layouts) largest = std::max(largest, l.cluster);
  return largest;
}

size_t largest_converted(const std::vector<flash::BundleLayout>& layouts, bool gate) {
  size_t largest = 0;
  for (const flash::BundleLayout& l : layouts) largest = std::max(largest, converted_bytes(gate ? l.gate_type : l.up_type, l.dim));
  return largest;
}

// One block of h in the down type's dot type (B > 1), rounded for alignment.
size_t quantized_block_bytes(const std::vector<flash::BundleLayout>& layouts) {
  size_t largest = 0;
  for (const flash::BundleLayout& l : layouts) {
    if (l.cluster > 1) largest = std::max(largest, converted_bytes(l.down_type, l.cluster));
  }
  return flash::align_up(largest, 64);
}

// Bytes of n_ff values of h in the rounding type dense mode uses for the
// down projection (its dot type), the largest over the layers.
size_t h_rounding_bytes(const std::vector<flash::BundleLayout>& layouts) {
  size_t largest = 0;
  for (const flash::BundleLayout& l : layouts) {
    if (l.cluster > 1) largest = std::max(largest, converted_bytes(l.down_type, l.n_ff));
  }
  return largest;
}

// Converts x for `type`'s dot product into `buffer`; returns what vec_dot takes.
const void* convert(TensorType type, const float* x, int64_t n, std::vector<std::byte>& buffer) {
  const tensor::KernelTable& k = tensor::kernels();
  const TensorType dot = k[type].dot_type;
  if (dot == TensorType::F32) return x;
  k[dot].quantize(x, buffer.data(), n);
  return buffer.data();
}

}  // namespace

UnitGeometry unit_geometry(const flash::BundleLayout& layout, bool with_gate) {
  UnitGeometry g;
  g.gate_type = layout.gate_type;
  g.up_type = layout.up_type;
  g.down_type = layout.down_type;
  g.dim = layout.dim;
  g.cluster = layout.cluster;
  g.n_units = layout.n_clusters;
  g.gate_row_bytes = layout.gate_row_bytes;
  g.up_row_bytes = layout.up_row_bytes;
  g.down_block_bytes = layout.down_block_bytes;
  g.stride = layout.bundle_bytes;
  g.offset = with_gate ? 0 : layout.up_offset;
  g.gate_at = 0;
  g.up_at = layout.up_offset - g.offset;
  g.down_at = layout.down_offset - g.offset;
  g.read_bytes = layout.down_offset + static_cast<size_t>(layout.dim) * layout.down_block_bytes - g.offset;
  g.bytes = g.read_bytes;
  g.carries_gate = with_gate;
  g.bundle_cluster = layout.cluster;
  g.bundle_stride = layout.bundle_bytes;
  return g;
}

UnitGeometry unit_geometry(const flash::NeuronUnitLayout& units, const flash::BundleLayout& bundles, bool with_gate,
                           uint32_t read_alignment) {
  // Reads of used bytes rounded to the alignment, when that is shorter than the unit.
  size_t read = units.unit_bytes;
  if (read_alignment > 0 && (read_alignment & (read_alignment - 1)) == 0) {
    read = std::min(read, static_cast<size_t>(flash::align_up(units.used_bytes(), read_alignment)));
  }
  UnitGeometry g;
  g.gate_type = units.gate_type;
  g.up_type = units.up_type;
  g.down_type = units.down_type;
  g.dim = units.dim;
  g.cluster = 1;
  g.n_units = units.n_ff;
  g.gate_row_bytes = units.gate_row_bytes;
  g.up_row_bytes = units.up_row_bytes;
  g.stride = units.unit_bytes;
  g.offset = 0;
  g.read_bytes = read;  // whole pages or sectors: read straight into the slot
  g.up_at = units.up_offset;
  g.down_at = units.down_offset;
  g.carries_gate = with_gate;
  g.gate_from_bundles = with_gate;
  g.gate_at = read;
  g.bytes = read + (with_gate ? units.gate_row_bytes : 0);
  g.bundle_cluster = bundles.cluster;
  g.bundle_stride = bundles.bundle_bytes;
  g.per_neuron_units = true;
  g.h_rounding = tensor::kernels()[units.bundle_down_type].dot_type;
  return g;
}

UnitKernel::UnitKernel(const model::HyperParams& hp, ThreadPool& pool, const std::vector<flash::BundleLayout>& layouts)
    : hp_(hp),
      pool_(pool),
      partitions_(pool.size()),
      max_cluster_(largest_cluster(layouts)),
      x_gate_buf_(largest_converted(layouts, true)),
      x_up_buf_(largest_converted(layouts, false)),
      partials_(static_cast<size_t>(partitions_) * static_cast<size_t>(hp.dim)),
      columns_(partials_.size()),
      values_(static_cast<size_t>(partitions_) * 2 * static_cast<size_t>(max_cluster_)),
      quantized_(static_cast<size_t>(partitions_) * quantized_block_bytes(layouts)),
      quantized_stride_(quantized_block_bytes(layouts)),
      h_(static_cast<size_t>(hp.n_ff)),
      h_quantized_(h_rounding_bytes(layouts)) {
  deferred_.reserve(static_cast<size_t>(hp.n_ff));
}

uint64_t UnitKernel::scratch_bytes(const model::HyperParams& hp, int threads,
                                   const std::vector<flash::BundleLayout>& layouts) {
  const auto p = static_cast<uint64_t>(threads);
  return largest_converted(layouts, true) + largest_converted(layouts, false) + h_rounding_bytes(layouts) +
         static_cast<uint64_t>(hp.n_ff) * (sizeof(float) + sizeof(UnitRef)) +
         p * (2 * static_cast<uint64_t>(hp.dim) * sizeof(float) + 2 * static_cast<uint64_t>(largest_cluster(layouts)) * sizeof(float) +
              quantized_block_bytes(layouts));
}

void UnitKernel::begin(const UnitGeometry& geometry, const float* x, std::span<const float> exact_gate) {
  if (!geometry.has_gate_rows() && exact_gate.empty()) {
    throw Error("sparse FFN: the units carry no gate rows but the predictor gave no exact gate values.");
  }
  geometry_ = geometry;
  x_ = x;
  exact_gate_ = exact_gate;
  const UnitGeometry& l = geometry;
  x_gate_ = exact_gate.empty() ? convert(l.gate_type, x, l.dim, x_gate_buf_) : nullptr;
  x_up_ = convert(l.up_type, x, l.dim, x_up_buf_);
  std::fill(partials_.begin(), partials_.end(), 0.0f);
  if (geometry.per_neuron_units) {
    if (static_cast<size_t>(geometry.n_units) > h_.size()) throw Error("sparse FFN: more neurons than the kernel was sized for.");
    std::fill(h_.begin(), h_.begin() + geometry.n_units, 0.0f);
    deferred_.clear();
  }
}

// g[j], u[j] for the unit's B neurons: gate and up pre-activations.
void UnitKernel::unit_values(const std::byte* unit, int32_t id, float* g, float* u) const {
  const UnitGeometry& l = geometry_;
  const tensor::KernelTable& k = tensor::kernels();
  const int64_t first = static_cast<int64_t>(id) * l.cluster;
  for (int64_t j = 0; j < l.cluster; ++j) {
    g[j] = exact_gate_.empty()
               ? k[l.gate_type].vec_dot(l.dim, unit + l.gate_at + static_cast<size_t>(j) * l.gate_row_bytes, x_gate_)
               : exact_gate_[static_cast<size_t>(first + j)];
    u[j] = k[l.up_type].vec_dot(l.dim, unit + l.up_at + static_cast<size_t>(j) * l.up_row_bytes, x_up_);
  }
}

void UnitKernel::add_down(const std::byte* unit, const float* h, float* partial, float* column, std::byte* hq) const {
  const UnitGeometry& l = geometry_;
  const tensor::KernelTable& k = tensor::kernels();
  const std::byte* down = unit + l.down_at;
  const int64_t dim = l.dim;
  if (l.cluster == 1) {
    const float hv = h[0];
    if (const tensor::AxpyRowFn axpy = k[l.down_type].axpy) {
      axpy(dim, hv, down, partial);
      return;
    }
    k[l.down_type].dequantize(down, column, dim);
    for (int64_t r = 0; r < dim; ++r) partial[r] += hv * column[r];
    return;
  }
  // One block of h, quantized exactly as dense mode quantizes that block of
  // the activation vector, then one block-sized dot per output row.
  const TensorType dot = k[l.down_type].dot_type;
  const void* hx = h;
  if (dot != TensorType::F32) {
    k[dot].quantize(h, hq, l.cluster);
    hx = hq;
  }
  const tensor::VecDotFn vec_dot = k[l.down_type].vec_dot;
  for (int64_t r = 0; r < dim; ++r) partial[r] += vec_dot(l.cluster, down + static_cast<size_t>(r) * l.down_block_bytes, hx);
}

void UnitKernel::add_partition(int p, std::span<const UnitRef> units) {
  const int64_t b = geometry_.cluster;
  float* g = values_.data() + static_cast<size_t>(p) * 2 * static_cast<size_t>(max_cluster_);
  float* u = g + max_cluster_;
  float* partial = partials_.data() + static_cast<size_t>(p) * static_cast<size_t>(hp_.dim);
  float* column = columns_.data() + static_cast<size_t>(p) * static_cast<size_t>(hp_.dim);
  std::byte* hq = quantized_.data() + static_cast<size_t>(p) * quantized_stride_;
  for (const UnitRef& ref : units) {
    unit_values(ref.data, ref.unit, g, u);
    model::apply_gated_activation(hp_, g, u, b);  // g = act(g) * u
    if (geometry_.per_neuron_units) h_[static_cast<size_t>(ref.unit)] = g[0];
    if (defers_columns()) continue;  // finish() adds the column with h rounded
    bool any = false;
    for (int64_t j = 0; j < b; ++j) any |= g[j] != 0.0f;
    if (any) add_down(ref.data, g, partial, column, hq);  // a zero h adds nothing, in dense mode too
  }
}

void UnitKernel::add(std::span<const UnitRef> units) {
  if (units.empty()) return;
  if (defers_columns()) deferred_.insert(deferred_.end(), units.begin(), units.end());  // reserved: n_ff
  adding_ = units;
  parts_ = std::min<int64_t>(partitions_, static_cast<int64_t>(units.size()));
  // parallel_for refers to the lambda without copying it: no allocation per call.
  pool_.parallel_for(parts_, [this](int64_t begin, int64_t end) { add_partitions(begin, end); }, 1);
}

void UnitKernel::add_partitions(int64_t begin, int64_t end) {
  const auto n = static_cast<int64_t>(adding_.size());
  for (int64_t p = begin; p < end; ++p) {
    const int64_t a = n * p / parts_, z = n * (p + 1) / parts_;
    add_partition(static_cast<int>(p), adding_.subspan(static_cast<size_t>(a), static_cast<size_t>(z - a)));
  }
}

void UnitKernel::add_now(std::span<const UnitRef> units) {
  now_ = true;
  add(units);
  now_ = false;
}

void UnitKernel::add_deferred_columns(int64_t begin, int64_t end) {
  const auto n = static_cast<int64_t>(deferred_.size());
  const auto dim = static_cast<size_t>(hp_.dim);
  for (int64_t p = begin; p < end; ++p) {
    float* partial = partials_.data() + static_cast<size_t>(p) * dim;
    float* column = columns_.data() + static_cast<size_t>(p) * dim;
    for (int64_t i = n * p / parts_; i < n * (p + 1) / parts_; ++i) {
      const UnitRef& ref = deferred_[static_cast<size_t>(i)];
      const float h = h_[static_cast<size_t>(ref.unit)];
      if (h != 0.0f) add_down(ref.data, &h, partial, column, nullptr);
    }
  }
}

void UnitKernel::finish(float* y) {
  if (!deferred_.empty()) {
    // h as dense mode rounds it for the down projection, then every column.
    const tensor::KernelTable& k = tensor::kernels();
    const TensorType type = geometry_.h_rounding;
    k[type].quantize(h_.data(), h_quantized_.data(), geometry_.n_units);
    k[type].dequantize(h_quantized_.data(), h_.data(), geometry_.n_units);
    // The columns in the order of their neurons, whichever were found in DRAM
    // and whichever were read: the sum, and so the output, depends only on the
    // set of active neurons, not on what the store held (budget, window, merge gap).
    std::sort(deferred_.begin(), deferred_.end(), [](const UnitRef& a, const UnitRef& b) { return a.unit < b.unit; });
    parts_ = std::min<int64_t>(partitions_, static_cast<int64_t>(deferred_.size()));
    pool_.parallel_for(parts_, [this](int64_t begin, int64_t end) { add_deferred_columns(begin, end); }, 1);
    deferred_.clear();
  }
  const auto dim = static_cast<size_t>(hp_.dim);
  std::memcpy(y, partials_.data(), dim * sizeof(float));
  for (int p = 1; p < partitions_; ++p) {
    const float* partial = partials_.data() + static_cast<size_t>(p) * dim;
    for (size_t r = 0; r < dim; ++r) y[r] += partial[r];
  }
}

}  // namespace sieve::sparse
