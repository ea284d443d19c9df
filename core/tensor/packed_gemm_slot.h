#pragma once
// The slot loop both packed GEMM paths of matmat share (the int8 path in
// matmul.cpp, the BF16 path in matmat_bf16.cpp). Private to core/tensor.
//
// A slot owns rows [slot * slot_rows, ...) and one tile buffer: it packs
// tile_groups groups of kGroupRows rows into the tile, runs the kernel over
// the tile against every vector, and moves on. The job and its task name
// the same members in both paths (rows, row_stride, n_rows, pack, gemm,
// task.{k, group_bytes, groups, n_rows, y}, tile_groups, slot_rows, tiles,
// tile_bytes).

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace sieve::tensor {

template <int64_t kGroupRows, class Job>
void run_packed_slot(const Job& job, int64_t slot) {
  const int64_t begin = slot * job.slot_rows;
  const int64_t end = std::min(job.n_rows, begin + job.slot_rows);
  std::byte* tile = job.tiles + static_cast<size_t>(slot) * job.tile_bytes;
  const int64_t tile_rows = job.tile_groups * kGroupRows;
  auto task = job.task;
  for (int64_t r0 = begin; r0 < end; r0 += tile_rows) {
    const int64_t r1 = std::min(end, r0 + tile_rows);
    for (int64_t g = r0; g < r1; g += kGroupRows) {
      job.pack(job.rows + static_cast<size_t>(g) * job.row_stride, job.row_stride, std::min(kGroupRows, r1 - g),
               task.k, tile + static_cast<size_t>((g - r0) / kGroupRows) * task.group_bytes);
    }
    task.groups = tile;
    task.n_rows = r1 - r0;
    task.y = job.task.y + r0;
    job.gemm(task);
  }
}

}  // namespace sieve::tensor
