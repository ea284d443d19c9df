#pragma once
// Per-neuron units of a quantized FFN layer: an optional pack section
// (`sieve pack --neuron-units q8_0`, docs/sparsity.md) that sparse mode reads
// one neuron at a time, while the cluster bundles (bundle_layout.h) stay the
// exact copy flash mode and dense prefill use.
//
// A quantized down projection cannot be cut into single neurons: one block of
// a down row covers B = 32 or 256 neurons. A neuron unit therefore carries its
// down *column* requantized along the other axis (dim values of the column
// type, Q8_0 by default), next to the original bytes of its up row, in whole
// pages (sieve.pack.neuron_unit_layout = 2):
//
//   unit i (tensor `blk.L.ffn_units`, I8 dims [unit_bytes, n_ff]):
//     up row i          up_row_bytes, the original row bytes
//     down column i     bytes_for(down_type, dim): column i of the down
//                       projection, dequantized and quantized again
//     zero padding      to a multiple of 4096 bytes (units under half a
//                       page, in small models: to 64 bytes)
//
// One neuron is then one read of whole pages, straight into a page-aligned
// slot (O_DIRECT needs nothing around it). Its gate row is not repeated: the
// exact gate predictor keeps the gate in DRAM, and other predictors read
// gate row i from its bundle beside the unit. Only the down column is
// rounded anew (its type is what decides fidelity; F16 is the near-lossless
// reference).

#include <cstddef>
#include <cstdint>
#include <string>

#include "flash/bundle_layout.h"
#include "tensor/tensor_type.h"

namespace sieve::flash {

struct NeuronUnitLayout {
  tensor::TensorType gate_type = tensor::TensorType::F32;
  tensor::TensorType up_type = tensor::TensorType::F32;
  tensor::TensorType down_type = tensor::TensorType::Q8_0;  // of the down column
  tensor::TensorType bundle_down_type = tensor::TensorType::Q8_0;  // the original down projection's
  int64_t dim = 0;
  int64_t n_ff = 0;
  size_t gate_row_bytes = 0;  // in the bundles (units do not hold it)
  size_t up_row_bytes = 0;
  size_t down_column_bytes = 0;
  size_t up_offset = 0;    // within a unit: 0
  size_t down_offset = 0;  // within a unit
  size_t unit_bytes = 0;   // padded to whole pages (under half a page: to 64 bytes)
  size_t used_bytes() const { return down_offset + down_column_bytes; }

  uint64_t layer_bytes() const { return static_cast<uint64_t>(unit_bytes) * static_cast<uint64_t>(n_ff); }
};

// The unit layout of a layer whose bundles have `bundles`, with down columns
// of `down_type`. Throws sieve::Error (prefixed with `where`) when the type
// cannot be produced (no quantizer) or dim is not whole blocks of it.
NeuronUnitLayout make_neuron_unit_layout(const BundleLayout& bundles, tensor::TensorType down_type,
                                         const std::string& where);

// Writes units [n0, n1) to `out` (consecutive, (n1 - n0) * unit_bytes bytes,
// padding zeroed) from the dense matrices of the layer. n0 and n1 must be
// multiples of the bundles' cluster (n1 may be n_ff): whole down blocks are
// dequantized.
void build_neuron_units(const NeuronUnitLayout& units, const BundleLayout& bundles, const DenseFfn& dense, int64_t n0,
                        int64_t n1, std::byte* out);

}  // namespace sieve::flash
