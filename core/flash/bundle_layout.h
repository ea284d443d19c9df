#pragma once
// Where the weights of one feed-forward layer live inside a Sieve pack.
//
// A layer's FFN is stored as n_clusters bundles of bundle_bytes each, one
// after another (the pack tensor `blk.L.ffn_bundles`). A cluster is B
// consecutive neurons, B being the block size of the down projection's type
// (1 for F32/F16/BF16, 32 for Q4_0/Q8_0..., 256 for K-quants), because a
// quantized down row cannot be split finer than a block without requantizing.
// Bundle c holds, contiguously (docs/flash.md has the byte diagram):
//
//   gate rows cB .. cB+B-1       B x gate_row_bytes, the original row bytes
//   up rows   cB .. cB+B-1       B x up_row_bytes
//   down blocks                  dim x down_block_bytes: for each output row
//                                r, the one block of down row r that covers
//                                neurons cB .. cB+B-1 (original block bytes)
//   zero padding                 to a multiple of kBundleAlignment
//
// For B = 1 this is the row-column bundling of gate row i, up row i and down
// column i (the down projection transposed, losslessly). Nothing is
// re-rounded, so computing from bundles is bit-identical to the dense model.

#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/tensor_type.h"

namespace sieve::flash {

inline constexpr size_t kBundleAlignment = 64;

struct BundleLayout {
  tensor::TensorType gate_type = tensor::TensorType::F32;
  tensor::TensorType up_type = tensor::TensorType::F32;
  tensor::TensorType down_type = tensor::TensorType::F32;
  int64_t dim = 0;         // rows of down, values per gate/up row
  int64_t n_ff = 0;        // neurons
  int64_t cluster = 1;     // B: neurons per bundle
  int64_t n_clusters = 0;  // n_ff / B
  size_t gate_row_bytes = 0;
  size_t up_row_bytes = 0;
  size_t down_block_bytes = 0;
  size_t up_offset = 0;    // within a bundle
  size_t down_offset = 0;  // within a bundle
  size_t bundle_bytes = 0;

  uint64_t layer_bytes() const { return static_cast<uint64_t>(bundle_bytes) * static_cast<uint64_t>(n_clusters); }
  // Bytes of one row of the down projection (n_ff values).
  size_t down_row_bytes() const { return static_cast<size_t>(n_clusters) * down_block_bytes; }
  // The layer's weights in their original dense layout.
  uint64_t gate_bytes() const { return static_cast<uint64_t>(n_ff) * gate_row_bytes; }
  uint64_t up_bytes() const { return static_cast<uint64_t>(n_ff) * up_row_bytes; }
  uint64_t down_bytes() const { return static_cast<uint64_t>(dim) * down_row_bytes(); }
  uint64_t dense_bytes() const { return gate_bytes() + up_bytes() + down_bytes(); }
};

// The layout of a layer with these shapes and types. Throws sieve::Error
// (prefixed with `where`) when a type is unknown or the shapes are not whole
// blocks of their types.
BundleLayout make_bundle_layout(int64_t dim, int64_t n_ff, tensor::TensorType gate, tensor::TensorType up,
                                tensor::TensorType down, const std::string& where);

// Dense FFN matrices of one layer (GGUF layout: gate and up [n_ff rows of
// dim], down [dim rows of n_ff]).
struct DenseFfn {
  const std::byte* gate = nullptr;
  const std::byte* up = nullptr;
  const std::byte* down = nullptr;
};
struct MutableDenseFfn {
  std::byte* gate = nullptr;
  std::byte* up = nullptr;
  std::byte* down = nullptr;
};

// Writes bundles [c0, c1) of the layer to `out` (consecutive bundles,
// (c1 - c0) * bundle_bytes bytes, padding zeroed).
void build_bundles(const BundleLayout& layout, const DenseFfn& dense, int64_t c0, int64_t c1, std::byte* out);
// The inverse: scatters bundles [c0, c1), stored consecutively at `bundles`,
// into the dense matrices.
void unbundle(const BundleLayout& layout, const std::byte* bundles, int64_t c0, int64_t c1,
              const MutableDenseFfn& dense);
// Reassembles rows [r0, r1) of the down projection from all of a layer's
// bundles into `rows` (row-major, down_row_bytes() apart): the bytes dense
// mode would read for those rows.
void gather_down_rows(const BundleLayout& layout, const std::byte* bundles, int64_t r0, int64_t r1, std::byte* rows);

}  // namespace sieve::flash
