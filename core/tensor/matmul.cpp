#include "tensor/matmul.h"

#include <algorithm>
#include <string>

#if defined(_MSC_VER) && defined(_M_X64)
#include <xmmintrin.h>
#endif

#include "tensor/gemm_bf16.h"
#include "tensor/gemm_q8.h"
#include "tensor/packed_gemm_slot.h"
#include "util/error.h"

namespace sieve::tensor {
namespace {

// Rows handed to one thread at a time should carry at least this many weight
// bytes (times the number of vectors for matmat): ~10-25 us of streaming per
// chunk at 5-10 GB/s per core, so waking a worker and claiming a chunk (about
// a microsecond) stays noise, while big matrices still split into many chunks
// for balance.
constexpr size_t kMinChunkWorkBytes = 128 * 1024;

// matmat keeps a tile of weight rows this large in L1 while every activation
// vector passes over it, so each row is fetched from memory once per call.
constexpr size_t kRowTileBytes = 32 * 1024;

// Batches of at least this many vectors take the GEMM path: weight rows are
// dequantized to floats once per call and multiplied with float activations by
// the table's register-blocked gemm_f32 (compute-bound), instead of one vec_dot
// per (row, vector). Below it (decode: one vector) the vec_dot path stays, so
// its results are unchanged.
constexpr int64_t kGemmMinVectors = 8;
// The threshold when rows must be converted first (F16, BF16): with the SIMD
// conversions (a few G values/s per core) the conversion is paid back from
// about eight vectors on, as for F32.
constexpr int64_t kGemmMinVectorsDequantized = 8;

// Quantized weights take the GEMM path too: prefill multiplies their
// dequantized rows with float activations, which is more exact than decode's
// 8-bit activations (Q8_0/Q8_1/Q8_K) and ~2-5x faster for batches. The price:
// a quantized model is discontinuous in its inputs (a 1e-7 change upstream
// flips the rounding of a later 8-bit activation), so prompt logits differ
// from token-by-token decode by ~1-2% on the shared synthA models — inside
// the few percent the reference comparison allows for quantized models
// (tests/core/model: engine_test, reference_test). Float weights stay within 2e-5.
constexpr bool kGemmQuantizedWeights = true;

// A thread dequantizes this many bytes of float rows at a time: the tile stays
// in L2 (2 MiB per core here) while every vector block passes over it.
constexpr size_t kGemmTileBytes = 256 * 1024;
// Tiles and per-thread row ranges are whole multiples of this many rows (when
// there are that many), so the micro-kernel runs full register blocks. Long
// rows still get a tile of this many, past kGemmTileBytes (k = 5632: 352 KiB
// instead of 11 rows): the kernels walk k in blocks, so a block of the tile
// stays in cache, and 11 rows left the register blocks ragged (TinyLlama's
// down projection ran 25-35% faster with 16, AVX2 and AVX-512 alike).
constexpr int64_t kGemmRowQuantum = 16;
// Row ranges handed out per thread: more than one evens out the load.
constexpr int64_t kGemmSlotsPerThread = 4;

// Converted activation vectors start on cache-line boundaries.
constexpr size_t kActivationAlign = 64;

// matvec asks for the row about this far ahead while the current one is
// computed, one hint per cache line. Kernels that spend a while per byte
// (Q4_K, Q8_0) otherwise leave too few reads in flight for one core to reach
// DRAM bandwidth: on one thread streaming 1 GiB this gains 5-25% (flat from 4
// to 64 KiB ahead; hinting every second line loses most of it). The hints cost
// up to ~20% when the matrix already sits in L2 (F16), a case decode never
// hits: the model's weights are far bigger than any cache. Where the CPU's
// own prefetchers do better, the table turns the hints off
// (KernelTable::matvec_prefetch).
constexpr size_t kPrefetchAheadBytes = 8 * 1024;
constexpr size_t kCacheLine = 64;
// Rows handed to a kernel's vec_dot_rows at a time: it prepares the
// activation once per call (Q4_0: measured at about one row's time, so ~1.5%
// per row at 64 rows a call).
constexpr int64_t kRowsPerCall = 64;

// A matrix checked against the kernel table, with the byte sizes the loops need.
struct CheckedMatrix {
  VecDotFn vec_dot = nullptr;
  VecDotRowsFn vec_dot_rows = nullptr;
  QuantizeRowFn convert = nullptr;  // nullptr when the dot type is F32: x is used as is
  size_t row_bytes = 0;             // bytes of one row's values (<= row_stride)
  size_t activation_bytes = 0;      // bytes of one converted activation vector
  bool prefetch = true;             // the table's matvec_prefetch
};

std::string type_label(TensorType type) { return std::string(type_name(type)); }

// Error paths only: building the message allocates, the checks themselves do not.
[[noreturn]] void fail(const char* op, const MatrixView& w, const std::string& problem) {
  throw Error(std::string(op) + ": " + type_label(w.type) + " matrix " + problem);
}

[[noreturn]] void fail_no_kernel(const char* op, const std::string& what, const KernelTable& k) {
  throw Error(std::string(op) + ": no kernel " + what + " (ISA " + std::string(isa_name(k.isa)) + ")");
}

void check_shape(const char* op, const MatrixView& w) {
  if (static_cast<uint32_t>(w.type) >= kTypeIdLimit || type_info(w.type).block_bytes == 0) {
    throw Error(std::string(op) + ": unknown tensor type id " + std::to_string(static_cast<uint32_t>(w.type)));
  }
  if (w.n_rows < 0 || w.row_elems <= 0) {
    fail(op, w, "has an invalid shape (" + std::to_string(w.n_rows) + " rows of " + std::to_string(w.row_elems) +
                    " values)");
  }
  if (!is_whole_blocks(w.type, static_cast<uint64_t>(w.row_elems))) {
    fail(op, w, "row length " + std::to_string(w.row_elems) + " is not a multiple of the block size " +
                    std::to_string(type_info(w.type).block_elems));
  }
  const size_t row_bytes = bytes_for(w.type, static_cast<uint64_t>(w.row_elems));
  if (w.row_stride < row_bytes) {
    fail(op, w, "row stride " + std::to_string(w.row_stride) + " bytes is smaller than a row (" +
                    std::to_string(row_bytes) + " bytes)");
  }
  if (w.n_rows > 0 && w.data == nullptr) fail(op, w, "has no data");
}

CheckedMatrix check_matrix(const char* op, const MatrixView& w, const KernelTable& k) {
  check_shape(op, w);
  const TypeKernels& wk = k[w.type];
  if (wk.vec_dot == nullptr) fail_no_kernel(op, "for type " + type_label(w.type), k);
  CheckedMatrix m;
  m.vec_dot = wk.vec_dot;
  m.vec_dot_rows = wk.vec_dot_rows;
  m.row_bytes = bytes_for(w.type, static_cast<uint64_t>(w.row_elems));
  m.prefetch = k.matvec_prefetch;
  if (wk.dot_type == TensorType::F32) return m;
  if (!is_whole_blocks(wk.dot_type, static_cast<uint64_t>(w.row_elems))) {
    fail(op, w, "row length " + std::to_string(w.row_elems) + " is not a multiple of the " +
                    type_label(wk.dot_type) + " block size its activations use");
  }
  m.convert = k[wk.dot_type].quantize;
  if (m.convert == nullptr) {
    fail_no_kernel(op, "to convert activations to " + type_label(wk.dot_type) + " for type " + type_label(w.type), k);
  }
  const size_t dot_bytes = bytes_for(wk.dot_type, static_cast<uint64_t>(w.row_elems));
  m.activation_bytes = (dot_bytes + kActivationAlign - 1) / kActivationAlign * kActivationAlign;
  return m;
}

// The activations in the weight type's dot type: n_vectors vectors, `stride`
// bytes apart. Points into scratch, or at x itself when no conversion is needed.
struct Activations {
  const std::byte* data = nullptr;
  size_t stride = 0;
};

// Everything a chunk of rows needs. Workers get it through one captured
// pointer, small enough for std::function to hold without allocating.
struct RowJob {
  const std::byte* rows = nullptr;
  size_t row_stride = 0;
  int64_t n_rows = 0;
  int64_t row_elems = 0;
  VecDotFn vec_dot = nullptr;
  VecDotRowsFn vec_dot_rows = nullptr;
  Activations act;
  int64_t n_vectors = 1;
  int64_t tile_rows = 1;
  int64_t prefetch_rows = 1;  // how many rows ahead matvec prefetches; 0 = none
  size_t row_bytes = 0;
  float* y = nullptr;
};

// A hint into L2: never faults, and costs one instruction per cache line.
inline void prefetch_row(const std::byte* row, size_t row_bytes) {
#if defined(__GNUC__) || defined(__clang__)
  for (size_t off = 0; off < row_bytes; off += kCacheLine) __builtin_prefetch(row + off, 0, 2);
#elif defined(_M_X64)
  for (size_t off = 0; off < row_bytes; off += kCacheLine) {
    _mm_prefetch(reinterpret_cast<const char*>(row + off), _MM_HINT_T1);
  }
#else
  (void)row;
  (void)row_bytes;
#endif
}

void convert_range(const QuantizeRowFn convert, const float* x, int64_t row_elems, std::byte* out, size_t stride,
                   int64_t begin, int64_t end) {
  for (int64_t j = begin; j < end; ++j) convert(x + j * row_elems, out + static_cast<size_t>(j) * stride, row_elems);
}

Activations convert_activations(const CheckedMatrix& m, const float* x, int64_t row_elems, int64_t n_vectors,
                                ThreadPool& pool, MatmulScratch& scratch) {
  if (m.convert == nullptr) {
    return {reinterpret_cast<const std::byte*>(x), static_cast<size_t>(row_elems) * sizeof(float)};
  }
  const size_t needed = m.activation_bytes * static_cast<size_t>(n_vectors);
  if (scratch.activations.size() < needed) scratch.activations.resize(needed);
  const Activations out{scratch.activations.data(), m.activation_bytes};
  auto* dst = scratch.activations.data();
  if (n_vectors == 1) {
    m.convert(x, dst, row_elems);
    return out;
  }
  // One vector converts in microseconds: only big batches are worth splitting.
  struct Job {
    QuantizeRowFn convert;
    const float* x;
    int64_t row_elems;
    std::byte* dst;
    size_t stride;
  } job{m.convert, x, row_elems, dst, m.activation_bytes};
  const int64_t min_vectors = std::max<int64_t>(1, 256 * 1024 / (row_elems * 4));
  pool.parallel_for(
      n_vectors,
      [&job](int64_t begin, int64_t end) {
        convert_range(job.convert, job.x, job.row_elems, job.dst, job.stride, begin, end);
      },
      min_vectors);
  return out;
}

int64_t min_chunk_rows(size_t bytes_per_row) {
  return static_cast<int64_t>(std::max<size_t>(1, kMinChunkWorkBytes / std::max<size_t>(1, bytes_per_row)));
}

RowJob make_job(const MatrixView& w, const CheckedMatrix& m, const Activations& act, int64_t n_vectors, float* y) {
  RowJob job;
  job.rows = static_cast<const std::byte*>(w.data);
  job.row_stride = w.row_stride;
  job.n_rows = w.n_rows;
  job.row_elems = w.row_elems;
  job.vec_dot = m.vec_dot;
  job.vec_dot_rows = m.vec_dot_rows;
  job.act = act;
  job.n_vectors = n_vectors;
  job.tile_rows = std::max<int64_t>(1, static_cast<int64_t>(kRowTileBytes / m.row_bytes));
  job.prefetch_rows = m.prefetch ? static_cast<int64_t>((kPrefetchAheadBytes + m.row_bytes - 1) / m.row_bytes) : 0;
  job.row_bytes = m.row_bytes;
  job.y = y;
  return job;
}

void matvec_rows(const RowJob& job, int64_t begin, int64_t end) {
  const std::byte* row = job.rows + static_cast<size_t>(begin) * job.row_stride;
  const size_t ahead = static_cast<size_t>(job.prefetch_rows) * job.row_stride;
  const int64_t stop_prefetch = end - job.prefetch_rows;  // stay inside this chunk
  if (job.vec_dot_rows != nullptr) {
    // A few rows per call, sharing the activation's work. These kernels
    // prefetch their own rows, spread over their compute: the hints below,
    // issued as a burst of a call's rows, made Q4_0 10-15% slower from DRAM.
    for (int64_t r = begin; r < end; r += kRowsPerCall) {
      const int64_t count = std::min(kRowsPerCall, end - r);
      job.vec_dot_rows(job.row_elems, job.rows + static_cast<size_t>(r) * job.row_stride, job.row_stride, count,
                       job.act.data, job.y + r);
    }
    return;
  }
  for (int64_t r = begin; r < end; ++r, row += job.row_stride) {
    if (job.prefetch_rows > 0 && r < stop_prefetch) prefetch_row(row + ahead, job.row_bytes);
    job.y[r] = job.vec_dot(job.row_elems, row, job.act.data);
  }
}

// The tile of rows stays in L1 while every vector passes over it.
void matmat_rows(const RowJob& job, int64_t begin, int64_t end) {
  for (int64_t r0 = begin; r0 < end; r0 += job.tile_rows) {
    const int64_t r1 = std::min(end, r0 + job.tile_rows);
    for (int64_t j = 0; j < job.n_vectors; ++j) {
      const std::byte* xj = job.act.data + static_cast<size_t>(j) * job.act.stride;
      float* yj = job.y + j * job.n_rows;
      const std::byte* row = job.rows + static_cast<size_t>(r0) * job.row_stride;
      for (int64_t r = r0; r < r1; ++r, row += job.row_stride) yj[r] = job.vec_dot(job.row_elems, row, xj);
    }
  }
}

// The GEMM path. Rows are split into `n_slots` contiguous ranges; slot s owns
// float tile buffer s, so ranges running at the same time never share one.
struct GemmJob {
  const std::byte* rows = nullptr;
  size_t row_stride = 0;
  int64_t n_rows = 0;
  int64_t row_elems = 0;
  DequantizeRowFn dequantize = nullptr;  // nullptr: F32 rows are used in place
  GemmF32Fn gemm = nullptr;
  const float* x = nullptr;
  int64_t n_vectors = 0;
  float* y = nullptr;
  int64_t tile_rows = 1;
  int64_t slot_rows = 1;
  int64_t n_slots = 1;
  float* tiles = nullptr;
  size_t tile_floats = 0;
};

bool f32_in_place(const MatrixView& w) {
  return w.type == TensorType::F32 && w.row_stride % sizeof(float) == 0 &&
         reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0;
}

bool gemm_for_type(const MatrixView& w, const KernelTable& k) {
  if (f32_in_place(w)) return true;
  if (k[w.type].dequantize == nullptr) return false;
  return kGemmQuantizedWeights || k[w.type].dot_type == TensorType::F32;
}

bool use_gemm(const MatrixView& w, int64_t n_vectors, const KernelTable& k) {
  if (k.gemm_f32 == nullptr) return false;
  if (n_vectors < (f32_in_place(w) ? kGemmMinVectors : kGemmMinVectorsDequantized)) return false;
  return gemm_for_type(w, k);
}

int64_t round_up(int64_t value, int64_t quantum) { return (value + quantum - 1) / quantum * quantum; }

GemmJob make_gemm_job(const MatrixView& w, const float* x, int64_t n_vectors, float* y, const ThreadPool& pool,
                      const KernelTable& k) {
  GemmJob job;
  job.rows = static_cast<const std::byte*>(w.data);
  job.row_stride = w.row_stride;
  job.n_rows = w.n_rows;
  job.row_elems = w.row_elems;
  job.gemm = k.gemm_f32;
  job.x = x;
  job.n_vectors = n_vectors;
  job.y = y;
  job.dequantize = f32_in_place(w) ? nullptr : k[w.type].dequantize;
  const size_t row_floats_bytes = static_cast<size_t>(w.row_elems) * sizeof(float);
  job.tile_rows = std::max<int64_t>(1, static_cast<int64_t>(kGemmTileBytes / row_floats_bytes));
  job.tile_rows = std::max(kGemmRowQuantum, job.tile_rows / kGemmRowQuantum * kGemmRowQuantum);
  const int64_t max_slots = std::max<int64_t>(1, kGemmSlotsPerThread * pool.size());
  job.slot_rows = round_up((w.n_rows + max_slots - 1) / max_slots, std::min(kGemmRowQuantum, w.n_rows));
  job.n_slots = (w.n_rows + job.slot_rows - 1) / job.slot_rows;
  job.tile_rows = std::min(job.tile_rows, job.slot_rows);
  job.tile_floats = static_cast<size_t>(job.tile_rows) * static_cast<size_t>(w.row_elems);
  return job;
}

// Float tiles for every slot, carved from the scratch on a cache-line boundary.
void attach_tiles(GemmJob& job, MatmulScratch& scratch) {
  if (job.dequantize == nullptr) return;
  const size_t needed = job.tile_floats * sizeof(float) * static_cast<size_t>(job.n_slots) + kActivationAlign;
  if (scratch.activations.size() < needed) scratch.activations.resize(needed);
  const auto base = reinterpret_cast<uintptr_t>(scratch.activations.data());
  const uintptr_t aligned = (base + kActivationAlign - 1) / kActivationAlign * kActivationAlign;
  job.tiles = reinterpret_cast<float*>(aligned);
}

void gemm_slot(const GemmJob& job, int64_t slot) {
  const int64_t begin = slot * job.slot_rows;
  const int64_t end = std::min(job.n_rows, begin + job.slot_rows);
  float* tile = job.tiles == nullptr ? nullptr : job.tiles + static_cast<size_t>(slot) * job.tile_floats;
  for (int64_t r0 = begin; r0 < end; r0 += job.tile_rows) {
    const int64_t r1 = std::min(end, r0 + job.tile_rows);
    const std::byte* row = job.rows + static_cast<size_t>(r0) * job.row_stride;
    const float* w = tile;
    int64_t ldw = job.row_elems;
    if (job.dequantize == nullptr) {
      w = reinterpret_cast<const float*>(row);
      ldw = static_cast<int64_t>(job.row_stride / sizeof(float));
    } else {
      for (int64_t r = r0; r < r1; ++r, row += job.row_stride) {
        job.dequantize(row, tile + (r - r0) * job.row_elems, job.row_elems);
      }
    }
    job.gemm(r1 - r0, job.n_vectors, job.row_elems, w, ldw, job.x, job.row_elems, job.y + r0, job.n_rows);
  }
}

void matmat_gemm(const MatrixView& w, const float* x, int64_t n_vectors, float* y,
                 ThreadPool& pool, MatmulScratch& scratch, const KernelTable& k) {
  GemmJob job = make_gemm_job(w, x, n_vectors, y, pool, k);
  attach_tiles(job, scratch);
  pool.parallel_for(job.n_slots, [&job](int64_t begin, int64_t end) {
    for (int64_t slot = begin; slot < end; ++slot) gemm_slot(job, slot);
  });
}

// ---- the int8 GEMM path (gemm_q8.h) -------------------------------------------
// Where the table has an int8 GEMM and a packer for the weight type, batches
// multiply the quantized rows with 8-bit activations, quantized exactly as
// decode quantizes them: ~2-3x the float GEMM's speed with VNNI (integer
// products, four per 32-bit lane; AVX2 reaches about half of that), and
// closer to decode's results than float activations. The packed layout (rows
// per group, bytes per group) is the table's.

bool use_gemm_q8(const MatrixView& w, int64_t n_vectors, const KernelTable& k) {
  // The group sizes matmat_q8 has a slot loop for.
  const bool known_layout = k.q8_group_rows == kQ8GroupRows || k.q8_group_rows == kQ8GroupRowsAvx2;
  return k.gemm_q8 != nullptr && k.q8_group_bytes != nullptr && known_layout && k[w.type].pack_q8 != nullptr &&
         n_vectors >= kGemmMinVectorsDequantized && q8_gemm_layout(w.type).sub_block != 0;
}

struct Q8GemmJob {
  const std::byte* rows = nullptr;
  size_t row_stride = 0;
  int64_t n_rows = 0;
  PackRowsQ8Fn pack = nullptr;
  GemmQ8Fn gemm = nullptr;
  int64_t group_rows = 0;  // the table's layout: kQ8GroupRows (AVX-512) or 8 (AVX2)
  Q8GemmTask task;  // activations, k, layout and group size; rows and y set per tile
  int64_t tile_groups = 1;
  int64_t slot_rows = 1;
  int64_t n_slots = 1;
  std::byte* tiles = nullptr;
  size_t tile_bytes = 0;
};

size_t align_up(size_t value) { return (value + kActivationAlign - 1) / kActivationAlign * kActivationAlign; }

// Scratch for the int8 path, carved from one buffer: converted activations
// (the dot type), their int8 values, their per-sub-block meta, and one packed
// tile per slot.
struct Q8Scratch {
  std::byte* converted = nullptr;
  int8_t* x = nullptr;
  Q8Meta* meta = nullptr;
  std::byte* tiles = nullptr;
};

Q8Scratch carve_q8_scratch(const CheckedMatrix& m, Q8GemmJob& job, int64_t n_vectors, MatmulScratch& scratch) {
  const auto n = static_cast<size_t>(n_vectors);
  const size_t converted = m.activation_bytes * n;
  const size_t values = job.task.x_stride * n;
  const size_t meta = job.task.meta_stride * sizeof(Q8Meta) * n;
  const size_t tiles = job.tile_bytes * static_cast<size_t>(job.n_slots);
  const size_t needed = kActivationAlign + align_up(converted) + align_up(values) + align_up(meta) + tiles;
  if (scratch.activations.size() < needed) scratch.activations.resize(needed);
  const auto base = reinterpret_cast<uintptr_t>(scratch.activations.data());
  auto* p = reinterpret_cast<std::byte*>((base + kActivationAlign - 1) / kActivationAlign * kActivationAlign);
  Q8Scratch out;
  out.converted = p;
  out.x = reinterpret_cast<int8_t*>(p += align_up(converted));
  out.meta = reinterpret_cast<Q8Meta*>(p += align_up(values));
  out.tiles = (p += align_up(meta));
  return out;
}

Q8GemmJob make_q8_job(const MatrixView& w, int64_t n_vectors, float* y, const ThreadPool& pool, const KernelTable& k) {
  Q8GemmJob job;
  job.rows = static_cast<const std::byte*>(w.data);
  job.row_stride = w.row_stride;
  job.n_rows = w.n_rows;
  job.pack = k[w.type].pack_q8;
  job.gemm = k.gemm_q8;
  job.group_rows = k.q8_group_rows;
  Q8GemmTask& t = job.task;
  t.type = w.type;
  t.layout = q8_gemm_layout(w.type);
  t.k = w.row_elems;
  t.group_bytes = k.q8_group_bytes(w.type, w.row_elems);
  t.x_stride = align_up(static_cast<size_t>(w.row_elems));
  t.meta_stride = align_up(static_cast<size_t>(w.row_elems / t.layout.sub_block) * sizeof(Q8Meta)) / sizeof(Q8Meta);
  t.n_vectors = n_vectors;
  t.y = y;
  t.ldy = w.n_rows;
  const int64_t max_slots = std::max<int64_t>(1, kGemmSlotsPerThread * pool.size());
  job.slot_rows = round_up((w.n_rows + max_slots - 1) / max_slots, job.group_rows);
  job.n_slots = (w.n_rows + job.slot_rows - 1) / job.slot_rows;
  job.tile_groups = std::max<int64_t>(1, static_cast<int64_t>(kGemmTileBytes / t.group_bytes));
  job.tile_groups = std::min(job.tile_groups, job.slot_rows / job.group_rows);
  job.tile_bytes = t.group_bytes * static_cast<size_t>(job.tile_groups);
  return job;
}

void prepare_q8_vectors(const CheckedMatrix& m, TensorType dot_type, const float* x, const Q8GemmTask& t,
                        const Q8Scratch& s, int64_t begin, int64_t end) {
  for (int64_t j = begin; j < end; ++j) {
    std::byte* converted = s.converted + static_cast<size_t>(j) * m.activation_bytes;
    m.convert(x + j * t.k, converted, t.k);
    prepare_q8_activation(dot_type, converted, t.k, t.layout, s.x + static_cast<size_t>(j) * t.x_stride,
                          s.meta + static_cast<size_t>(j) * t.meta_stride);
  }
}

void matmat_q8(const MatrixView& w, const CheckedMatrix& m, const float* x, int64_t n_vectors, float* y,
               ThreadPool& pool, MatmulScratch& scratch, const KernelTable& k) {
  Q8GemmJob job = make_q8_job(w, n_vectors, y, pool, k);
  const Q8Scratch s = carve_q8_scratch(m, job, n_vectors, scratch);
  job.tiles = s.tiles;
  job.task.x = s.x;
  job.task.meta = s.meta;
  // One captured pointer: small enough for std::function to hold without allocating.
  struct Prepare {
    const CheckedMatrix& m;
    TensorType dot_type;
    const float* x;
    const Q8GemmTask& task;
    const Q8Scratch& s;
  } prepare{m, k[w.type].dot_type, x, job.task, s};
  const int64_t min_vectors = std::max<int64_t>(1, 256 * 1024 / (w.row_elems * 4));
  pool.parallel_for(
      n_vectors,
      [p = &prepare](int64_t begin, int64_t end) {
        prepare_q8_vectors(p->m, p->dot_type, p->x, p->task, p->s, begin, end);
      },
      min_vectors);
  pool.parallel_for(job.n_slots, [&job](int64_t begin, int64_t end) {
    for (int64_t slot = begin; slot < end; ++slot) {
      if (job.group_rows == kQ8GroupRows) {
        run_packed_slot<kQ8GroupRows>(job, slot);
      } else {
        run_packed_slot<kQ8GroupRowsAvx2>(job, slot);
      }
    }
  });
}

// ---- choosing matmat's path -----------------------------------------------------
// One place decides how a batch is multiplied, from the most specific kernel
// the table has for the weight type to the most general.
enum class MatmatPath {
  VecDot,    // below kGemmMinVectors, or no GEMM for the type: vec_dot per (row, vector)
  GemmQ8,    // quantized rows x 8-bit activations (VNNI, or AVX2 maddubs / madd)
  GemmBf16,  // BF16 rows x BF16-rounded activations (AVX512-BF16, gemm_bf16.h)
  GemmF32,   // rows dequantized to floats x float activations
};

MatmatPath choose_matmat_path(const MatrixView& w, int64_t n_vectors, const KernelTable& k) {
  if (use_gemm_q8(w, n_vectors, k)) return MatmatPath::GemmQ8;
  if (n_vectors >= kGemmMinVectorsDequantized && bf16_gemm_available(w, k)) return MatmatPath::GemmBf16;
  if (use_gemm(w, n_vectors, k)) return MatmatPath::GemmF32;
  return MatmatPath::VecDot;
}

void matmat_vec_dot(const MatrixView& w, const CheckedMatrix& m, const float* x, int64_t n_vectors, float* y,
                    ThreadPool& pool, MatmulScratch& scratch) {
  const RowJob job = make_job(w, m, convert_activations(m, x, w.row_elems, n_vectors, pool, scratch), n_vectors, y);
  pool.parallel_for(
      w.n_rows, [&job](int64_t begin, int64_t end) { matmat_rows(job, begin, end); },
      min_chunk_rows(m.row_bytes * static_cast<size_t>(n_vectors)));
}

}  // namespace

void matvec(const MatrixView& w, const float* x, float* y, ThreadPool& pool, MatmulScratch& scratch,
            const KernelTable& k) {
  const CheckedMatrix m = check_matrix("matvec", w, k);
  if (w.n_rows == 0) return;
  const RowJob job = make_job(w, m, convert_activations(m, x, w.row_elems, 1, pool, scratch), 1, y);
  // Each chunk is a contiguous run of rows, so every thread streams its memory.
  pool.parallel_for(
      w.n_rows, [&job](int64_t begin, int64_t end) { matvec_rows(job, begin, end); }, min_chunk_rows(m.row_bytes));
}

void matmat(const MatrixView& w, const float* x, int64_t n_vectors, float* y, ThreadPool& pool,
            MatmulScratch& scratch, const KernelTable& k) {
  const CheckedMatrix m = check_matrix("matmat", w, k);
  if (n_vectors < 0) throw Error("matmat: negative vector count " + std::to_string(n_vectors));
  if (w.n_rows == 0 || n_vectors == 0) return;
  switch (choose_matmat_path(w, n_vectors, k)) {
    case MatmatPath::GemmQ8: return matmat_q8(w, m, x, n_vectors, y, pool, scratch, k);
    case MatmatPath::GemmBf16: return matmat_bf16(w, x, n_vectors, y, pool, scratch, k);
    case MatmatPath::GemmF32: return matmat_gemm(w, x, n_vectors, y, pool, scratch, k);
    case MatmatPath::VecDot: return matmat_vec_dot(w, m, x, n_vectors, y, pool, scratch);
  }
}

}  // namespace sieve::tensor
