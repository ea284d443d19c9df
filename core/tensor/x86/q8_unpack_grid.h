#pragma once
// Widening of the grid and ternary types (IQ3_*, IQ2_*, IQ1_*, TQ*_0) to the
// unsigned bytes of the int8 prefill GEMM (gemm_q8.h), for
// x86/gemm_q8_avx2.cpp. Plain C++ from the blocks_*.h decoders (the AVX-512
// file has its own, vectorised with AVX-512 in x86/iq1_ternary_unpack.h,
// iq2_avx512.cpp and iq3_avx512.cpp, except TQ2_0's, which is only shifts and
// serves both): packing runs once per row per matmat,
// the GEMM once per row per vector, so for prompts this stays a small part.
// The values, offsets and scales (including their float operation order) are
// those of the AVX-512 unpackers, so both tables' GEMMs give equal bits.
//
// Anonymous namespace on purpose (see x86/q8_unpack.h).

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tensor/blocks_iq1.h"
#include "tensor/blocks_iq2.h"
#include "tensor/blocks_iq3.h"
#include "tensor/blocks_ternary.h"
#include "tensor/gemm_q8.h"
#include "tensor/iq1_grid.h"
#include "tensor/iq2_grids.h"
#include "tensor/iq3_grids.h"
#include "tensor/iq_signs.h"
#include "tensor/x86/kquant_simd_common.h"

namespace sieve::tensor {
namespace {

// u = magnitude (byte i of `grid`) with its sign bit applied, + 128.
inline void signed_grid_u8(uint64_t grid, uint32_t signs, int n, uint8_t* u) {
  for (int i = 0; i < n; ++i) {
    const int m = static_cast<int>((grid >> (8 * i)) & 0xff);
    u[i] = static_cast<uint8_t>(((signs >> i) & 1) != 0 ? 128 - m : 128 + m);
  }
}

// IQ2_XXS (32-value scales), IQ2_XS and IQ2_S (16-value scales): 8-value
// groups of grid magnitudes with 8 sign bits each; scale d (ls + 1/2) / 4.
template <class B, int kSub>
struct IQ2UnpackScalar {
  using Block = B;
  static constexpr int kValues = kIq2BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    for (int g = 0; g < kIq2Groups; ++g) signed_grid_u8(iq2_grid(b, g), iq2_signs(b, g), 8, u + 8 * g);
    const float d = x86::half_to_float(b.d);
    for (int j = 0; j < kValues / kSub; ++j) {
      scale[static_cast<size_t>(j) * stride] = d * (0.5f + static_cast<float>(iq2_scale(b, j * kSub / 16))) * 0.25f;
    }
  }
};

// IQ3_XXS and IQ3_S: 32-value sub-blocks of 8 grid entries (4 magnitudes
// each) and 32 sign bits; scale (d / 4) (2 ls + 1) resp. d (2 ls + 1).
struct IQ3_XXSUnpackScalar {
  using Block = BlockIQ3XXS;
  static constexpr int kValues = kIq3BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const float d = 0.25f * x86::half_to_float(b.d);
    for (int s = 0; s < kIq3BlockElems / kIq3SubBlockElems; ++s) {
      const uint32_t aux = iq3xxs_aux(b, s), signs = iq3xxs_sign_bits(aux);
      for (int j = 0; j < 8; ++j) signed_grid_u8(kIq3xxsGrid[b.qs[8 * s + j]], signs >> (4 * j), 4, u + 32 * s + 4 * j);
      scale[static_cast<size_t>(s) * stride] = d * static_cast<float>(iq3xxs_scale(aux));
    }
  }
};

struct IQ3_SUnpackScalar {
  using Block = BlockIQ3S;
  static constexpr int kValues = kIq3BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const float d = x86::half_to_float(b.d);
    for (int s = 0; s < kIq3BlockElems / kIq3SubBlockElems; ++s) {
      uint32_t signs = 0;
      std::memcpy(&signs, b.signs + 4 * s, sizeof(signs));  // little-endian: bit i = value i
      for (int j = 0; j < 8; ++j) signed_grid_u8(kIq3sGrid[iq3s_index(b, s, j)], signs >> (4 * j), 4, u + 32 * s + 4 * j);
      scale[static_cast<size_t>(s) * stride] = d * static_cast<float>(iq3s_scale(b, s));
    }
  }
};

// IQ1: u = 8 grid + delta + 9 (grid in -1..1, delta +-1) per 8-value group.
inline void iq1_group_u8(int index, int delta, uint8_t* u) {
  int8_t grid[kIq1GroupElems];
  std::memcpy(grid, &kIq1sGrid[index], kIq1GroupElems);
  for (int j = 0; j < kIq1GroupElems; ++j) u[j] = static_cast<uint8_t>(8 * grid[j] + delta + 9);
}
static_assert(q8_gemm_layout(TensorType::IQ1_S).offset == 9 && q8_gemm_layout(TensorType::IQ1_M).offset == 9);

struct IQ1_SUnpackScalar {
  using Block = BlockIQ1S;
  static constexpr int kValues = kIq1BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    for (int s = 0; s < 8; ++s) {
      for (int l = 0; l < 4; ++l) iq1_group_u8(iq1s_index(b, s, l), iq1s_delta(b, s), u + 32 * s + 8 * l);
    }
    const float d = x86::half_to_float(b.d) * 0.125f;
    for (int s = 0; s < 8; ++s) scale[static_cast<size_t>(s) * stride] = d * static_cast<float>(iq1s_scale(b, s));
  }
};

struct IQ1_MUnpackScalar {
  using Block = BlockIQ1M;
  static constexpr int kValues = kIq1BlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    for (int g = 0; g < 32; ++g) iq1_group_u8(iq1m_index(b, g), iq1m_delta(b, g), u + 8 * g);
    const float d = x86::half_to_float(iq1m_d_bits(b)) * 0.125f;
    for (int h = 0; h < 16; ++h) scale[static_cast<size_t>(h) * stride] = d * static_cast<float>(iq1m_scale(b, h));
  }
};

// Ternary: u = the stored digit (0..2, TQ2_0 also 3), offset 1, scale d.
static_assert(q8_gemm_layout(TensorType::TQ1_0).offset == 1 && q8_gemm_layout(TensorType::TQ2_0).offset == 1);

struct TQ1_0UnpackScalar {
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

struct TQ2_0UnpackScalar {
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
