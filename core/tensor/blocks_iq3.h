#pragma once
// On-disk layouts of the 3-bit grid types IQ3_XXS and IQ3_S (GGUF ids 18 and
// 21). Both store 256 values in 8 sub-blocks of 32; each group of 4 values is
// one entry of a fixed grid (iq3_grids.h) of 4 unsigned magnitudes, and every
// value has its own sign bit. Values are small integers times a per-sub-block
// scale, so dot products sum exact integer products.
//
//   IQ3_XXS  98 bytes: fp16 d, qs[64] grid indices (8 per sub-block, 256-entry
//            grid of magnitudes 4..62), then per sub-block s one little-endian
//            uint32 a_s = scales_signs[4 s .. 4 s + 3]: bits 7 l .. 7 l + 6 are
//            the signs of values 8 l .. 8 l + 6 (l = 0..3), the sign of value
//            8 l + 7 is their parity (an even number of minus signs in each
//            group of 8), and bits 28..31 the scale ls:
//            x = d * (2 ls + 1) / 4 * grid[qs[8 s + j]][i] * sign
//   IQ3_S    110 bytes: fp16 d, qs[64] low 8 bits of the grid indices, qh[8]
//            (bit j of qh[s] is bit 8 of index 8 s + j: a 512-entry grid of
//            magnitudes 1..15), signs[32] (bit j of signs[4 s + l] is the sign
//            of value 32 s + 8 l + j, set = negative), scales[4] (sub-block s
//            uses nibble s % 2 of scales[s / 2]):
//            x = d * (2 ls + 1) * grid[qs[8 s + j] | bit 8][i] * sign
//
// Index j of sub-block s covers values 32 s + 4 j .. 32 s + 4 j + 3, in the
// grid entry's byte order. Grid indices are masked to their table by
// construction (a byte, or a byte plus one bit below 512), so any block read
// from an untrusted file decodes without reading outside the tables.

#include <array>
#include <bit>
#include <cstdint>

#include "tensor/iq_signs.h"

namespace sieve::tensor {

inline constexpr int kIq3BlockElems = 256;
inline constexpr int kIq3SubBlockElems = 32;

struct BlockIQ3XXS {
  uint16_t d;                // fp16 factor of the sub-block scales
  uint8_t qs[64];            // grid indices, 8 per sub-block
  uint8_t scales_signs[32];  // per sub-block: 4 x 7 sign bits, 4-bit scale
};
static_assert(sizeof(BlockIQ3XXS) == 98, "IQ3_XXS block must be 98 bytes");

struct BlockIQ3S {
  uint16_t d;          // fp16 factor of the sub-block scales
  uint8_t qs[64];      // grid indices, low 8 bits
  uint8_t qh[8];       // grid indices, bit 8: one byte per sub-block
  uint8_t signs[32];   // one bit per value, set = negative
  uint8_t scales[4];   // 4-bit sub-block scales, two per byte
};
static_assert(sizeof(BlockIQ3S) == 110, "IQ3_S block must be 110 bytes");

// `static` on purpose (as in blocks_k.h): included by files built with
// different -m flags.

// Sub-block s's stored scale word of an IQ3_XXS block (signs and scale).
static inline uint32_t iq3xxs_aux(const BlockIQ3XXS& b, int s) {
  const uint8_t* p = b.scales_signs + 4 * s;
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

// The 32 sign bits of an IQ3_XXS sub-block from its scale word, bit i = value i.
static inline uint32_t iq3xxs_sign_bits(uint32_t aux) {
  return static_cast<uint32_t>(kIqEvenSigns[aux & 127]) | static_cast<uint32_t>(kIqEvenSigns[(aux >> 7) & 127]) << 8 |
         static_cast<uint32_t>(kIqEvenSigns[(aux >> 14) & 127]) << 16 |
         static_cast<uint32_t>(kIqEvenSigns[(aux >> 21) & 127]) << 24;
}

// Integer scale factor 2 ls + 1 of a sub-block (1..31).
static inline int iq3xxs_scale(uint32_t aux) { return 2 * static_cast<int>(aux >> 28) + 1; }
static inline int iq3s_scale(const BlockIQ3S& b, int s) { return 2 * ((b.scales[s / 2] >> (4 * (s % 2))) & 15) + 1; }

// Grid index j (0..7) of IQ3_S sub-block s, 0..511.
static inline int iq3s_index(const BlockIQ3S& b, int s, int j) {
  return b.qs[8 * s + j] | (((b.qh[s] >> j) & 1) << 8);
}

}  // namespace sieve::tensor
