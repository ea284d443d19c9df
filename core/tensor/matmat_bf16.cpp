// The BF16 GEMM path of matmat (gemm_bf16.h): activations rounded to BF16
// once per call, rows packed a tile at a time per slot, the table's kernel
// over each tile: the slot loop the int8 path in matmul.cpp also runs
// (packed_gemm_slot.h).

#include <algorithm>

#include "tensor/gemm_bf16.h"
#include "tensor/packed_gemm_slot.h"

namespace sieve::tensor {
namespace {

// A slot packs about this many bytes of rows at a time: the tile stays in L2
// (1-2 MiB per core) while every vector block passes over it.
constexpr size_t kTileBytes = 256 * 1024;
// Tiles hold at least the kernel's register block of 4 groups (64 rows), so
// long rows (k = 5632: 176 KiB a group) still run full blocks; the kernel
// walks k in chunks, so a chunk of such a tile still fits in L2.
constexpr int64_t kMinTileGroups = 4;
// Row ranges handed out per thread: more than one evens out the load.
constexpr int64_t kSlotsPerThread = 4;
// Activation vectors and tiles start on cache-line boundaries.
constexpr size_t kAlign = 64;

size_t align_up(size_t value) { return (value + kAlign - 1) / kAlign * kAlign; }
int64_t round_up(int64_t value, int64_t quantum) { return (value + quantum - 1) / quantum * quantum; }

struct Bf16GemmJob {
  const std::byte* rows = nullptr;
  size_t row_stride = 0;
  int64_t n_rows = 0;
  PackRowsBf16Fn pack = nullptr;
  GemmBf16Fn gemm = nullptr;
  Bf16GemmTask task;  // activations, k and group size; groups, n_rows and y set per tile
  int64_t tile_groups = 1;
  int64_t slot_rows = 1;
  int64_t n_slots = 1;
  std::byte* tiles = nullptr;
  size_t tile_bytes = 0;
};

Bf16GemmJob make_job(const MatrixView& w, int64_t n_vectors, float* y, const ThreadPool& pool, const KernelTable& k) {
  Bf16GemmJob job;
  job.rows = static_cast<const std::byte*>(w.data);
  job.row_stride = w.row_stride;
  job.n_rows = w.n_rows;
  job.pack = k[w.type].pack_bf16;
  job.gemm = k.gemm_bf16;
  Bf16GemmTask& t = job.task;
  t.k = w.row_elems;
  t.group_bytes = bf16_group_bytes(w.row_elems);
  t.x_stride = align_up(static_cast<size_t>(bf16_pairs(w.row_elems)) * 4) / sizeof(uint16_t);
  t.n_vectors = n_vectors;
  t.y = y;
  t.ldy = w.n_rows;
  const int64_t max_slots = std::max<int64_t>(1, kSlotsPerThread * pool.size());
  job.slot_rows = round_up((w.n_rows + max_slots - 1) / max_slots, kBf16GroupRows);
  job.n_slots = (w.n_rows + job.slot_rows - 1) / job.slot_rows;
  job.tile_groups = std::max<int64_t>(kMinTileGroups, static_cast<int64_t>(kTileBytes / t.group_bytes));
  job.tile_groups = std::min(job.tile_groups, job.slot_rows / kBf16GroupRows);
  job.tile_bytes = t.group_bytes * static_cast<size_t>(job.tile_groups);
  return job;
}

// Everything the rounding workers need, behind one captured pointer.
struct Rounding {
  RoundBf16Fn round = nullptr;
  const float* x = nullptr;
  int64_t k = 0;
  uint16_t* out = nullptr;
  size_t stride = 0;
};

}  // namespace

bool bf16_gemm_available(const MatrixView& w, const KernelTable& k) {
  return k.gemm_bf16 != nullptr && k.round_bf16 != nullptr && k[w.type].pack_bf16 != nullptr;
}

void matmat_bf16(const MatrixView& w, const float* x, int64_t n_vectors, float* y, ThreadPool& pool,
                 MatmulScratch& scratch, const KernelTable& k) {
  Bf16GemmJob job = make_job(w, n_vectors, y, pool, k);
  const size_t x_bytes = job.task.x_stride * sizeof(uint16_t) * static_cast<size_t>(n_vectors);
  const size_t needed = kAlign + align_up(x_bytes) + job.tile_bytes * static_cast<size_t>(job.n_slots);
  if (scratch.activations.size() < needed) scratch.activations.resize(needed);
  const auto base = reinterpret_cast<uintptr_t>(scratch.activations.data());
  auto* p = reinterpret_cast<std::byte*>((base + kAlign - 1) / kAlign * kAlign);
  auto* rounded = reinterpret_cast<uint16_t*>(p);
  job.tiles = p + align_up(x_bytes);
  job.task.x = rounded;

  const Rounding rounding{k.round_bf16, x, w.row_elems, rounded, job.task.x_stride};
  const int64_t min_vectors = std::max<int64_t>(1, 256 * 1024 / (w.row_elems * 4));
  pool.parallel_for(
      n_vectors,
      [r = &rounding](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) r->round(r->x + j * r->k, r->out + static_cast<size_t>(j) * r->stride, r->k);
      },
      min_vectors);
  pool.parallel_for(job.n_slots, [&job](int64_t begin, int64_t end) {
    for (int64_t slot = begin; slot < end; ++slot) run_packed_slot<kBf16GroupRows>(job, slot);
  });
}

}  // namespace sieve::tensor
