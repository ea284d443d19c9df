#pragma once
// Widening of IQ1_S, IQ1_M, TQ1_0 and TQ2_0 blocks to the unsigned bytes of
// the int8 prefill GEMM (gemm_q8.h), for x86/gemm_q8_avx512.cpp only (it is
// compiled with AVX-512 VNNI; the plain loops here vectorise there).
//
//   TQ1_0, TQ2_0  u = the stored digit q (0..2, TQ2_0 also 3), offset 1,
//                 one scale d for every 32 values.
//   IQ1_S         u = 8 * grid + delta + 9 (0..18), offset 9, scale d * ls / 8
//                 per 32 values.
//   IQ1_M         the same values, scale d * ls / 8 per 16 values.
//
// Each struct writes a block's 256 values to u in value order and its
// sub-block scales to scale[j * stride] (the interface of gemm_q8_avx512.cpp).

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tensor/blocks_iq1.h"
#include "tensor/blocks_ternary.h"
#include "tensor/gemm_q8.h"
#include "tensor/iq1_grid.h"
#include "tensor/x86/kquant_simd_common.h"

namespace sieve::tensor {
namespace {

inline constexpr int kIq1GemmOffset = 9;  // 8 * grid + delta >= -9
inline constexpr int kTernaryGemmOffset = 1;
static_assert(q8_gemm_layout(TensorType::IQ1_S).offset == kIq1GemmOffset &&
              q8_gemm_layout(TensorType::IQ1_M).offset == kIq1GemmOffset &&
              q8_gemm_layout(TensorType::TQ1_0).offset == kTernaryGemmOffset &&
              q8_gemm_layout(TensorType::TQ2_0).offset == kTernaryGemmOffset,
              "gemm_q8.h's offsets must be the ones the bytes are widened with");

// The eight bytes 8 * grid + delta + 9 of one IQ1 group.
inline void iq1_group_bytes(int index, int delta, uint8_t* u) {
  int8_t grid[kIq1GroupElems];
  std::memcpy(grid, &kIq1sGrid[index], sizeof(grid));
  for (int j = 0; j < kIq1GroupElems; ++j) u[j] = static_cast<uint8_t>(8 * grid[j] + delta + kIq1GemmOffset);
}

struct IQ1_SUnpack {
  using Block = BlockIQ1S;
  static constexpr int kValues = kIq1BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const float d = x86::half_to_float(b.d) * 0.125f;
    for (int s = 0; s < 8; ++s) {
      for (int l = 0; l < 4; ++l) iq1_group_bytes(iq1s_index(b, s, l), iq1s_delta(b, s), u + 32 * s + 8 * l);
      scale[static_cast<size_t>(s) * stride] = d * static_cast<float>(iq1s_scale(b, s));
    }
  }
};

struct IQ1_MUnpack {
  using Block = BlockIQ1M;
  static constexpr int kValues = kIq1BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const float d = x86::half_to_float(iq1m_d_bits(b)) * 0.125f;
    for (int g = 0; g < 32; ++g) iq1_group_bytes(iq1m_index(b, g), iq1m_delta(b, g), u + 8 * g);
    for (int h = 0; h < 16; ++h) scale[static_cast<size_t>(h) * stride] = d * static_cast<float>(iq1m_scale(b, h));
  }
};

struct TQ1_0Unpack {
  using Block = BlockTQ1_0;
  static constexpr int kValues = kTernaryBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    for (int n = 0; n < 5; ++n) {
      for (int m = 0; m < 32; ++m) u[32 * n + m] = static_cast<uint8_t>(tq1_trit(b.qs[m], n));
      for (int m = 0; m < 16; ++m) u[160 + 16 * n + m] = static_cast<uint8_t>(tq1_trit(b.qs[32 + m], n));
    }
    for (int n = 0; n < 4; ++n) {
      for (int j = 0; j < 4; ++j) u[240 + 4 * n + j] = static_cast<uint8_t>(tq1_trit(b.qh[j], n));
    }
    const float d = x86::half_to_float(b.d);
    for (int s = 0; s < 8; ++s) scale[static_cast<size_t>(s) * stride] = d;
  }
};

struct TQ2_0Unpack {
  using Block = BlockTQ2_0;
  static constexpr int kValues = kTernaryBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    for (int c = 0; c < 2; ++c) {
      for (int l = 0; l < 4; ++l) {
        for (int m = 0; m < 32; ++m) u[128 * c + 32 * l + m] = static_cast<uint8_t>((b.qs[32 * c + m] >> (2 * l)) & 3);
      }
    }
    const float d = x86::half_to_float(b.d);
    for (int s = 0; s < 8; ++s) scale[static_cast<size_t>(s) * stride] = d;
  }
};

}  // namespace
}  // namespace sieve::tensor
