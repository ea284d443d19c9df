#pragma once
// FFN layers that stay resident in flash mode ("pinned"): read once at load
// from the pack's bundles, checksummed, and scattered back into the original
// dense layout, so they are computed exactly as dense mode computes them
// (and as fast: no reassembly per token).

#include <cstdint>

#include "flash/bundle_ffn.h"
#include "flash/io/aligned_buffer.h"
#include "flash/pack_file.h"
#include "flash/sequential_reader.h"

namespace sieve::flash {

struct PinnedLayer {
  AlignedBuffer memory;  // gate | up | down
  DenseFfnViews views;
};

// Bytes a pinned layer takes.
uint64_t pinned_layer_bytes(const BundleLayout& layout);

// Reads layer `layer`'s bundles through `reader` and unbundles them. Throws
// sieve::Error on a failed read or a checksum mismatch.
PinnedLayer load_pinned_layer(const PackFile& pack, int64_t layer, SequentialReader& reader);

// The dense views of a layer stored gate | up | down at `memory`.
DenseFfnViews dense_views(const BundleLayout& layout, const std::byte* memory);

}  // namespace sieve::flash
