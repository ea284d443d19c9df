#pragma once
// Internal: the transposes behind gather_down_rows for float types, where a
// down "block" is one 2- or 4-byte value: column c of `n_rows` values (at
// first + c * src_stride, consecutive) becomes element c of rows 0..n_rows
// (rows `dst_stride` bytes apart). Tiled with SIMD shuffles where available:
// this is the hot copy of streamed F16/BF16/F32 layers.

#include <cstddef>
#include <cstdint>

namespace sieve::flash::detail {

void transpose_u16(const std::byte* first, size_t src_stride, int64_t n_cols, int64_t n_rows, std::byte* dst,
                   size_t dst_stride);
void transpose_u32(const std::byte* first, size_t src_stride, int64_t n_cols, int64_t n_rows, std::byte* dst,
                   size_t dst_stride);

}  // namespace sieve::flash::detail
