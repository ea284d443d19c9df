#include "flash/bundle_layout.h"

#include <cstring>

#include "flash/io/aligned_buffer.h"
#include "flash/transpose.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

const tensor::TypeInfo& checked_type(tensor::TensorType type, const char* role, const std::string& where) {
  const auto info = tensor::find_type_info(static_cast<uint32_t>(type));
  if (!info || info->block_bytes == 0) {
    throw Error(where + ": the FFN " + role + " projection has unknown tensor type id " +
                std::to_string(static_cast<uint32_t>(type)) + ".");
  }
  return tensor::type_info(type);
}

void check_whole_blocks(tensor::TensorType type, int64_t n, const char* role, const std::string& where) {
  if (n <= 0 || !tensor::is_whole_blocks(type, static_cast<uint64_t>(n))) {
    throw Error(where + ": the FFN " + role + " projection's rows of " + std::to_string(n) +
                " values are not whole " + std::string(tensor::type_name(type)) + " blocks.");
  }
}

// Copies one block; fixed sizes let the compiler turn the tiny copies of
// float types (2 or 4 bytes per block) into single moves.
template <size_t N>
void copy_blocks_strided(std::byte* dst, size_t dst_stride, const std::byte* src, size_t src_stride, int64_t n) {
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * dst_stride, src + i * src_stride, N);
}

void copy_blocks(std::byte* dst, size_t dst_stride, const std::byte* src, size_t src_stride, int64_t n,
                 size_t block_bytes) {
  switch (block_bytes) {
    case 2: return copy_blocks_strided<2>(dst, dst_stride, src, src_stride, n);
    case 4: return copy_blocks_strided<4>(dst, dst_stride, src, src_stride, n);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * dst_stride, src + i * src_stride, block_bytes);
  }
}

}  // namespace

BundleLayout make_bundle_layout(int64_t dim, int64_t n_ff, tensor::TensorType gate, tensor::TensorType up,
                                tensor::TensorType down, const std::string& where) {
  checked_type(gate, "gate", where);
  checked_type(up, "up", where);
  const tensor::TypeInfo& down_info = checked_type(down, "down", where);
  check_whole_blocks(gate, dim, "gate", where);
  check_whole_blocks(up, dim, "up", where);
  check_whole_blocks(down, n_ff, "down", where);
  BundleLayout l;
  l.gate_type = gate;
  l.up_type = up;
  l.down_type = down;
  l.dim = dim;
  l.n_ff = n_ff;
  l.cluster = down_info.block_elems;
  l.n_clusters = n_ff / l.cluster;
  l.gate_row_bytes = tensor::bytes_for(gate, static_cast<uint64_t>(dim));
  l.up_row_bytes = tensor::bytes_for(up, static_cast<uint64_t>(dim));
  l.down_block_bytes = down_info.block_bytes;
  l.up_offset = static_cast<size_t>(l.cluster) * l.gate_row_bytes;
  l.down_offset = l.up_offset + static_cast<size_t>(l.cluster) * l.up_row_bytes;
  l.bundle_bytes = align_up(l.down_offset + static_cast<size_t>(dim) * l.down_block_bytes, kBundleAlignment);
  return l;
}

void build_bundles(const BundleLayout& l, const DenseFfn& dense, int64_t c0, int64_t c1, std::byte* out) {
  const size_t gate_chunk = static_cast<size_t>(l.cluster) * l.gate_row_bytes;
  const size_t up_chunk = static_cast<size_t>(l.cluster) * l.up_row_bytes;
  const size_t used = l.down_offset + static_cast<size_t>(l.dim) * l.down_block_bytes;
  for (int64_t c = c0; c < c1; ++c) {
    std::byte* bundle = out + static_cast<size_t>(c - c0) * l.bundle_bytes;
    std::memcpy(bundle, dense.gate + static_cast<size_t>(c) * gate_chunk, gate_chunk);
    std::memcpy(bundle + l.up_offset, dense.up + static_cast<size_t>(c) * up_chunk, up_chunk);
    std::memset(bundle + used, 0, l.bundle_bytes - used);
  }
  // Down: row by row, so the source (row r's blocks c0..c1) is read in order.
  const size_t row_bytes = l.down_row_bytes();
  for (int64_t r = 0; r < l.dim; ++r) {
    const std::byte* src = dense.down + static_cast<size_t>(r) * row_bytes + static_cast<size_t>(c0) * l.down_block_bytes;
    std::byte* dst = out + l.down_offset + static_cast<size_t>(r) * l.down_block_bytes;
    copy_blocks(dst, l.bundle_bytes, src, l.down_block_bytes, c1 - c0, l.down_block_bytes);
  }
}

void unbundle(const BundleLayout& l, const std::byte* bundles, int64_t c0, int64_t c1, const MutableDenseFfn& dense) {
  const size_t gate_chunk = static_cast<size_t>(l.cluster) * l.gate_row_bytes;
  const size_t up_chunk = static_cast<size_t>(l.cluster) * l.up_row_bytes;
  for (int64_t c = c0; c < c1; ++c) {
    const std::byte* bundle = bundles + static_cast<size_t>(c - c0) * l.bundle_bytes;
    std::memcpy(dense.gate + static_cast<size_t>(c) * gate_chunk, bundle, gate_chunk);
    std::memcpy(dense.up + static_cast<size_t>(c) * up_chunk, bundle + l.up_offset, up_chunk);
  }
  const size_t row_bytes = l.down_row_bytes();
  for (int64_t r = 0; r < l.dim; ++r) {
    const std::byte* src = bundles + l.down_offset + static_cast<size_t>(r) * l.down_block_bytes;
    std::byte* dst = dense.down + static_cast<size_t>(r) * row_bytes + static_cast<size_t>(c0) * l.down_block_bytes;
    copy_blocks(dst, l.down_block_bytes, src, l.bundle_bytes, c1 - c0, l.down_block_bytes);
  }
}

void gather_down_rows(const BundleLayout& l, const std::byte* bundles, int64_t r0, int64_t r1, std::byte* rows) {
  const size_t row_bytes = l.down_row_bytes();
  const size_t block = l.down_block_bytes;
  const std::byte* first = bundles + l.down_offset + static_cast<size_t>(r0) * block;
  if (block == 2) return detail::transpose_u16(first, l.bundle_bytes, l.n_clusters, r1 - r0, rows, row_bytes);
  if (block == 4) return detail::transpose_u32(first, l.bundle_bytes, l.n_clusters, r1 - r0, rows, row_bytes);
  // Quantized blocks: cluster by cluster, each bundle holds rows r0..r1's
  // blocks contiguously.
  const std::byte* src = first;
  for (int64_t c = 0; c < l.n_clusters; ++c, src += l.bundle_bytes) {
    copy_blocks(rows + static_cast<size_t>(c) * block, row_bytes, src, block, r1 - r0, block);
  }
}

}  // namespace sieve::flash
