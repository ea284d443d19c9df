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
// Down projection: B = 1 (F32/F16/BF16) converts the column to floats and
// adds h times it; B > 1 quantizes the cluster's B values of h into one
// block of the down type's dot type — the block dense mode would make — and
// takes one vec_dot per output row.
//
// Units are split into one partition per thread; each accumulates into its
// own partial y, and finish() adds the partials in a fixed order, so the
// result does not depend on thread timing.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flash/bundle_layout.h"
#include "model/hparams.h"
#include "util/thread_pool.h"

namespace sieve::sparse {

// Where a unit's weights sit in the bytes the store holds for it: the
// bundle from `offset` on (offset 0 holds the gate rows too; up_offset
// leaves them out, when the predictor supplies the exact gate).
struct UnitGeometry {
  flash::BundleLayout layout;
  size_t offset = 0;
  size_t bytes = 0;  // what is read and stored per unit
  bool has_gate_rows() const { return offset == 0; }
};
// `with_gate`: whether units carry their gate rows.
UnitGeometry unit_geometry(const flash::BundleLayout& layout, bool with_gate);

struct UnitRef {
  int32_t unit = 0;
  const std::byte* data = nullptr;  // the unit's bytes (UnitGeometry::bytes)
};

class UnitKernel {
 public:
  // `layouts`: every layer's (to size the scratch for the largest).
  UnitKernel(const model::HyperParams& hp, ThreadPool& pool, const std::vector<flash::BundleLayout>& layouts);
  static uint64_t scratch_bytes(const model::HyperParams& hp, int threads,
                                const std::vector<flash::BundleLayout>& layouts);

  // Starts a token: x (dim floats) is converted for the gate and up types,
  // the partial sums zeroed. `exact_gate` (n_ff pre-activation values) is
  // used instead of the gate rows when not empty; it is required when the
  // units carry no gate rows. Both must stay valid until finish().
  void begin(const UnitGeometry& geometry, const float* x, std::span<const float> exact_gate);
  // Adds the contributions of these units (on the thread pool).
  void add(std::span<const UnitRef> units);
  // y = the sum of everything added since begin().
  void finish(float* y);

 private:
  void add_partitions(int64_t begin, int64_t end);
  void add_partition(int partition, std::span<const UnitRef> units);
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
};

}  // namespace sieve::sparse
