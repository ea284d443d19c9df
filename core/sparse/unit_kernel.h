#pragma once
// The FFN of one token computed unit by unit from the units' bytes (a
// neuron's gate row, up row and down column, or a cluster's; see
// neuron_store.h), for the neurons a predictor selected:
//
//   y = sum over units u of  down_u * act(gate_u . x) * (up_u . x)
//
// Each product is the kernel table's own (vec_dot on the weight type with
// the activation converted to its dot type, as matvec does), so every
// neuron's value h_i is exactly dense mode's; only the order in which the
// down columns are summed differs, so y agrees with dense mode to float
// rounding (and exactly on the neurons that are skipped: the ones whose
// act(gate) is zero contribute nothing in dense mode either).
//
// Down projection: one neuron (F32/F16/BF16 bundles, or a per-neuron unit's
// requantized column) converts the column to floats and adds h times it (a
// per-neuron unit's h_i is dense mode's, its column is the requantized one);
// B > 1 quantizes the cluster's B values of h into one
// block of the down type's dot type — the block dense mode would make — and
// takes one vec_dot per output row. Per-neuron units round h the same way,
// so their only difference from dense mode is the column's new rounding:
// h_i of every added unit is kept, and the down columns are added by
// finish(), once the token's h is complete and rounded block by block as
// dense mode rounds it (neurons not added count as zeros, which is what they
// are in dense mode when the predictor is exact). Units added with
// add_now() (a spill buffer about to be reused) are added at once with h
// unrounded.
//
// Units are split into one partition per thread; each accumulates into its
// own partial y, and finish() adds the partials in a fixed order, so the
// result does not depend on thread timing.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/neuron_units.h"
#include "model/hparams.h"
#include "util/thread_pool.h"

namespace sieve::sparse {

// Where a unit's weights sit: in the bytes the store holds for it, and in
// the pack. A unit is either a bundle of B neurons (flash/bundle_layout.h;
// B = 1 for float types) or a per-neuron unit (flash/neuron_units.h). For
// one neuron the down part is its column, dim values of down_type; for a
// cluster, dim blocks of down_type, one per output row.
//
// The stored bytes are one read of read_bytes at `offset` in the unit (a
// bundle from 0 holds the gate rows too; from up_offset it leaves them out,
// when the predictor supplies the exact gate), and for per-neuron units that
// carry a gate row, a second read: the row from its bundle, stored at gate_at.
struct UnitGeometry {
  tensor::TensorType gate_type = tensor::TensorType::F32;
  tensor::TensorType up_type = tensor::TensorType::F32;
  tensor::TensorType down_type = tensor::TensorType::F32;
  int64_t dim = 0;
  int64_t cluster = 1;   // neurons per unit
  int64_t n_units = 0;
  size_t gate_row_bytes = 0;
  size_t up_row_bytes = 0;
  size_t down_block_bytes = 0;  // clusters: one block of a down row
  // In the stored bytes: the unit's gate rows (when carried), up rows, down part.
  size_t gate_at = 0, up_at = 0, down_at = 0;
  size_t stride = 0;      // from one unit to the next in the pack
  size_t offset = 0;      // of the read within a unit
  size_t read_bytes = 0;  // the unit's read
  size_t bytes = 0;       // what is stored per unit (the read, and the gate row read apart)
  bool carries_gate = true;
  bool gate_from_bundles = false;  // per-neuron units carrying the gate: row i read from its bundle
  int64_t bundle_cluster = 1;      // neurons per bundle, to find that row
  size_t bundle_stride = 0;
  bool per_neuron_units = false;  // from the pack's per-neuron section
  // Per-neuron units: dense mode multiplies the down projection with h
  // rounded to this type (the original down type's dot type), block by
  // block; F32: no rounding.
  tensor::TensorType h_rounding = tensor::TensorType::F32;
  bool has_gate_rows() const { return carries_gate; }
  uint64_t layer_bytes() const { return static_cast<uint64_t>(stride) * static_cast<uint64_t>(n_units); }
  // Where neuron `unit`'s gate row sits in its bundle, from the layer's first bundle.
  uint64_t gate_row_offset(int32_t unit) const {
    const auto i = static_cast<uint64_t>(unit), b = static_cast<uint64_t>(bundle_cluster);
    return i / b * bundle_stride + i % b * gate_row_bytes;
  }
};
// `with_gate`: whether units carry their gate rows.
UnitGeometry unit_geometry(const flash::BundleLayout& layout, bool with_gate);
// read_alignment: 0 reads (and stores) each per-neuron unit whole, padding
// included; a power of two below the unit's size reads only its used bytes
// rounded up to it (the file's direct-I/O alignment: 512 B on most disks), so
// a store slot is smaller and holds the same unit.
UnitGeometry unit_geometry(const flash::NeuronUnitLayout& units, const flash::BundleLayout& bundles, bool with_gate,
                           uint32_t read_alignment = 0);

struct UnitRef {
  int32_t unit = 0;
  const std::byte* data = nullptr;  // the unit's bytes (UnitGeometry::bytes)
};

class UnitKernel {
 public:
  // `layouts`: every layer's bundles (to size the scratch for the largest;
  // per-neuron units of those layers need no more).
  UnitKernel(const model::HyperParams& hp, ThreadPool& pool, const std::vector<flash::BundleLayout>& layouts);
  static uint64_t scratch_bytes(const model::HyperParams& hp, int threads,
                                const std::vector<flash::BundleLayout>& layouts);

  // Starts a token: x (dim floats) is converted for the gate and up types,
  // the partial sums zeroed. `exact_gate` (n_ff pre-activation values) is
  // used instead of the gate rows when not empty; it is required when the
  // units carry no gate rows. Both must stay valid until finish().
  void begin(const UnitGeometry& geometry, const float* x, std::span<const float> exact_gate);
  // Adds the contributions of these units (on the thread pool). Per-neuron
  // units' bytes must stay valid until finish().
  void add(std::span<const UnitRef> units);
  // The same, for units whose bytes are reused before finish().
  void add_now(std::span<const UnitRef> units);
  // y = the sum of everything added since begin().
  void finish(float* y);

 private:
  void add_partitions(int64_t begin, int64_t end);
  void add_partition(int partition, std::span<const UnitRef> units);
  void add_deferred_columns(int64_t begin, int64_t end);
  bool defers_columns() const { return geometry_.per_neuron_units && geometry_.h_rounding != tensor::TensorType::F32 && !now_; }
  void unit_values(const std::byte* unit, int32_t id, float* g, float* u) const;
  void add_down(const std::byte* unit, const float* h, float* partial, float* column, std::byte* hq) const;

  const model::HyperParams& hp_;
  ThreadPool& pool_;
  int partitions_;
  int64_t max_cluster_;
  UnitGeometry geometry_;
  const float* x_ = nullptr;
  std::span<const float> exact_gate_;
  std::span<const UnitRef> adding_;  // the units of the add() call in progress
  int64_t parts_ = 1;
  const void* x_gate_ = nullptr;  // x in the gate's dot type
  const void* x_up_ = nullptr;    // x in the up's dot type
  std::vector<std::byte> x_gate_buf_, x_up_buf_;
  std::vector<float> partials_;        // partitions x dim
  std::vector<float> columns_;         // partitions x dim: a down column in floats (B = 1)
  std::vector<float> values_;          // partitions x 2 x max cluster: gate and up values
  std::vector<std::byte> quantized_;   // partitions x one block of h in the down's dot type (B > 1)
  size_t quantized_stride_ = 0;
  // Per-neuron units: h per neuron, the units whose columns wait for finish(),
  // and h rounded as dense mode rounds it.
  bool now_ = false;
  std::vector<float> h_;
  std::vector<UnitRef> deferred_;
  std::vector<std::byte> h_quantized_;
};

}  // namespace sieve::sparse
