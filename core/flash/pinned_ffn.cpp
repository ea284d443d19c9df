#include "flash/pinned_ffn.h"

#include <cstring>
#include <vector>

#include "flash/checksum.h"

namespace sieve::flash {

uint64_t pinned_layer_bytes(const BundleLayout& layout) { return align_up(layout.dense_bytes(), kDefaultIoAlignment); }

DenseFfnViews dense_views(const BundleLayout& l, const std::byte* memory) {
  DenseFfnViews v;
  v.gate = {memory, l.gate_type, l.n_ff, l.dim, l.gate_row_bytes};
  v.up = {memory + l.gate_bytes(), l.up_type, l.n_ff, l.dim, l.up_row_bytes};
  v.down = {memory + l.gate_bytes() + l.up_bytes(), l.down_type, l.dim, l.n_ff, l.down_row_bytes()};
  return v;
}

PinnedLayer load_pinned_layer(const PackFile& pack, int64_t layer, SequentialReader& reader) {
  const BundleLayout& l = pack.layout(layer);
  PinnedLayer pinned;
  pinned.memory = AlignedBuffer(static_cast<size_t>(pinned_layer_bytes(l)));
  std::byte* base = pinned.memory.data();
  const MutableDenseFfn dense{base, base + l.gate_bytes(), base + l.gate_bytes() + l.up_bytes()};

  // Chunks need not end on bundle boundaries: a bundle split between two
  // chunks is completed in `carry`.
  std::vector<std::byte> carry(l.bundle_bytes);
  size_t carried = 0;
  int64_t next_cluster = 0;
  Hasher64 hasher;
  reader.read(pack.bundles_file_offset(layer), l.layer_bytes(), [&](std::span<const std::byte> piece, uint64_t) {
    hasher.update(piece);
    const std::byte* p = piece.data();
    size_t n = piece.size();
    if (carried > 0) {
      const size_t take = std::min(n, l.bundle_bytes - carried);
      std::memcpy(carry.data() + carried, p, take);
      carried += take, p += take, n -= take;
      if (carried < l.bundle_bytes) return;
      unbundle(l, carry.data(), next_cluster, next_cluster + 1, dense);
      next_cluster += 1;
      carried = 0;
    }
    const auto whole = static_cast<int64_t>(n / l.bundle_bytes);
    unbundle(l, p, next_cluster, next_cluster + whole, dense);
    next_cluster += whole;
    p += static_cast<size_t>(whole) * l.bundle_bytes;
    n -= static_cast<size_t>(whole) * l.bundle_bytes;
    std::memcpy(carry.data(), p, n);
    carried = n;
  });
  pack.check_digest(pack.bundles(layer), hasher.digest());
  pinned.views = dense_views(l, base);
  return pinned;
}

}  // namespace sieve::flash
