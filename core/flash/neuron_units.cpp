#include "flash/neuron_units.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "flash/pack_format.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

// Neurons whose down columns are dequantized together: dim x this many
// floats of scratch (2 MiB at dim 2048).
constexpr int64_t kColumnsPerPass = 256;

}  // namespace

NeuronUnitLayout make_neuron_unit_layout(const BundleLayout& bundles, tensor::TensorType down_type,
                                         const std::string& where) {
  const auto info = tensor::find_type_info(static_cast<uint32_t>(down_type));
  const tensor::TypeKernels& k = tensor::kernels()[down_type];
  if (!info || info->block_bytes == 0 || k.quantize == nullptr || k.dequantize == nullptr) {
    throw Error(where + ": per-neuron units cannot hold down columns of type " +
                (info ? std::string(tensor::type_name(down_type)) : "id " + std::to_string(static_cast<uint32_t>(down_type))) +
                " (a type Sieve can quantize to is needed: q8_0, f16, f32).");
  }
  if (!tensor::is_whole_blocks(down_type, static_cast<uint64_t>(bundles.dim))) {
    throw Error(where + ": per-neuron units: down columns of " + std::to_string(bundles.dim) + " values are not whole " +
                std::string(tensor::type_name(down_type)) + " blocks.");
  }
  NeuronUnitLayout u;
  u.gate_type = bundles.gate_type;
  u.up_type = bundles.up_type;
  u.down_type = down_type;
  u.bundle_down_type = bundles.down_type;
  u.dim = bundles.dim;
  u.n_ff = bundles.n_ff;
  u.gate_row_bytes = bundles.gate_row_bytes;
  u.up_row_bytes = bundles.up_row_bytes;
  u.down_column_bytes = tensor::bytes_for(down_type, static_cast<uint64_t>(bundles.dim));
  u.up_offset = 0;
  u.down_offset = u.up_row_bytes;
  // Whole pages, so that a unit is one read with nothing around it; units
  // under half a page (small models) are packed to 64 bytes instead, several
  // to a page, rather than mostly padding.
  const size_t used = u.used_bytes();
  u.unit_bytes = used >= kPackAlignment / 2 ? align_up(used, kPackAlignment) : align_up(used, kBundleAlignment);
  return u;
}

void build_neuron_units(const NeuronUnitLayout& u, const BundleLayout& b, const DenseFfn& dense, int64_t n0, int64_t n1,
                        std::byte* out) {
  if (n0 % b.cluster != 0 || (n1 % b.cluster != 0 && n1 != b.n_ff) || n0 > n1 || n1 > b.n_ff) {
    throw Error("neuron units: the range [" + std::to_string(n0) + ", " + std::to_string(n1) +
                ") does not start and end on whole down blocks.");
  }
  const tensor::KernelTable& k = tensor::kernels();
  const size_t used = u.used_bytes();
  const int64_t per_pass = std::max<int64_t>(b.cluster, kColumnsPerPass / b.cluster * b.cluster);
  std::vector<float> rows(static_cast<size_t>(b.dim) * static_cast<size_t>(per_pass));  // dim x pass, row-major
  std::vector<float> column(static_cast<size_t>(b.dim));
  const size_t row_bytes = b.down_row_bytes();
  for (int64_t p0 = n0; p0 < n1; p0 += per_pass) {
    const int64_t p1 = std::min(n1, p0 + per_pass), n = p1 - p0;
    // Rows r of down, neurons [p0, p1): whole blocks, in the row's own order.
    for (int64_t r = 0; r < b.dim; ++r) {
      const std::byte* src = dense.down + static_cast<size_t>(r) * row_bytes + static_cast<size_t>(p0 / b.cluster) * b.down_block_bytes;
      k[b.down_type].dequantize(src, rows.data() + static_cast<size_t>(r * n), n);
    }
    for (int64_t i = p0; i < p1; ++i) {
      std::byte* unit = out + static_cast<size_t>(i - n0) * u.unit_bytes;
      std::memcpy(unit + u.up_offset, dense.up + static_cast<size_t>(i) * u.up_row_bytes, u.up_row_bytes);
      for (int64_t r = 0; r < b.dim; ++r) column[static_cast<size_t>(r)] = rows[static_cast<size_t>(r * n + (i - p0))];
      k[u.down_type].quantize(column.data(), unit + u.down_offset, b.dim);
      std::memset(unit + used, 0, u.unit_bytes - used);
    }
  }
}

}  // namespace sieve::flash
