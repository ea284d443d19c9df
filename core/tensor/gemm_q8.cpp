// Activation layout of the int8 GEMM (gemm_q8.h): portable, run once per
// vector per matmat call, so its cost is a few values' worth per weight row.

#include "tensor/gemm_q8.h"

#include <cstring>

#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"

namespace sieve::tensor {
namespace {

Q8Meta meta_for(float dx, int32_t sum, const Q8GemmLayout& l) {
  return {dx, -l.offset * sum, dx * static_cast<float>(sum), 0.0f};
}

void prepare_from_q8_0(const BlockQ8_0* blocks, int64_t k, const Q8GemmLayout& l, int8_t* x, Q8Meta* meta) {
  const int per_block = kLegacyBlockElems / l.sub_block;
  for (int64_t b = 0; b < k / kLegacyBlockElems; ++b) {
    const float dx = fp16_to_fp32(blocks[b].d);
    std::memcpy(x + b * kLegacyBlockElems, blocks[b].qs, kLegacyBlockElems);
    for (int s = 0; s < per_block; ++s) {
      int32_t sum = 0;
      for (int i = 0; i < l.sub_block; ++i) sum += blocks[b].qs[s * l.sub_block + i];
      meta[b * per_block + s] = meta_for(dx, sum, l);
    }
  }
}

void prepare_from_q8_k(const BlockQ8K* blocks, int64_t k, const Q8GemmLayout& l, int8_t* x, Q8Meta* meta) {
  const int per_block = kQK / l.sub_block;
  const int sums_per_sub = l.sub_block / 16;  // bsums cover 16 values each
  for (int64_t b = 0; b < k / kQK; ++b) {
    std::memcpy(x + b * kQK, blocks[b].qs, kQK);
    for (int s = 0; s < per_block; ++s) {
      int32_t sum = 0;
      for (int i = 0; i < sums_per_sub; ++i) sum += blocks[b].bsums[s * sums_per_sub + i];
      meta[b * per_block + s] = meta_for(blocks[b].d, sum, l);
    }
  }
}

}  // namespace

namespace detail {
void clear_gemm_q8(KernelTable& table) {
  table.gemm_q8 = nullptr;
  table.q8_group_rows = 0;
  table.q8_group_bytes = nullptr;
  for (TypeKernels& t : table.by_type) t.pack_q8 = nullptr;
}
}  // namespace detail

void prepare_q8_activation(TensorType dot_type, const void* blocks, int64_t k, const Q8GemmLayout& layout, int8_t* x,
                           Q8Meta* meta) {
  if (dot_type == TensorType::Q8_0) {
    prepare_from_q8_0(static_cast<const BlockQ8_0*>(blocks), k, layout, x, meta);
  } else {
    prepare_from_q8_k(static_cast<const BlockQ8K*>(blocks), k, layout, x, meta);
  }
}

}  // namespace sieve::tensor
