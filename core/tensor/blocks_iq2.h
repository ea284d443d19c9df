#pragma once
// On-disk layouts of the 2-bit grid types IQ2_XXS, IQ2_XS and IQ2_S (GGUF ids
// 16, 17, 22). A block holds 256 values as 32 groups of eight; each group is
// an index into a grid of 8-value magnitude patterns (iq2_grids.h, every
// magnitude 8, 25 or 43) plus eight sign bits, and each 16- or 32-value
// sub-block has a 4-bit scale ls. With d the block's fp16 factor:
//
//   x = d * (ls + 1/2) / 4 * grid[j] * (sign bit j ? -1 : 1)
//     = d * (2 ls + 1) * (±grid[j]) / 8
//
//   IQ2_XXS  66 bytes: d, then per 32-value sub-block s two 32-bit words of
//            qs: word 2s holds the four 8-bit grid indices of groups 4s..4s+3
//            (byte l for group l); word 2s+1 holds 7 sign bits per group
//            (bits 7l..7l+6) and ls in its top 4 bits.
//   IQ2_XS   74 bytes: d, 32 16-bit qs (group g: index = qs[g] & 511, 7 sign
//            bits = qs[g] >> 9), then 8 bytes of scales: 16-value sub-block t
//            uses nibble t % 2 of scales[t / 2].
//   IQ2_S    82 bytes: d, 32 bytes of low index bits qs[g], then 32 full
//            sign bytes (qs[32 + g]), then qh: group g's index is
//            qs[g] | ((qh[g / 4] >> 2 (g % 4)) & 3) << 8 (10 bits), then the
//            scales as IQ2_XS.
//
// Seven stored sign bits (XXS, XS) give the eighth by even parity: the
// number of minus signs in a group is always even (kIqEvenSigns).
//
// Every index is masked to its grid's size by construction (8, 9 or 10
// bits), so blocks read from untrusted files need no validation beyond their
// size.

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "tensor/iq2_grids.h"
#include "tensor/iq_signs.h"

namespace sieve::tensor {

inline constexpr int kIq2BlockElems = 256;
inline constexpr int kIq2Groups = kIq2BlockElems / 8;  // 8-value groups per block

struct BlockIQ2XXS {
  uint16_t d;       // fp16 factor
  uint16_t qs[32];  // per 32 values: 4 grid indices, then 4 x 7 sign bits + 4-bit scale
};
static_assert(sizeof(BlockIQ2XXS) == 66, "IQ2_XXS block must be 66 bytes");

struct BlockIQ2XS {
  uint16_t d;         // fp16 factor
  uint16_t qs[32];    // per group: 9-bit grid index, 7 sign bits
  uint8_t scales[8];  // 4-bit scales, two 16-value sub-blocks per byte
};
static_assert(sizeof(BlockIQ2XS) == 74, "IQ2_XS block must be 74 bytes");

struct BlockIQ2S {
  uint16_t d;         // fp16 factor
  uint8_t qs[64];     // low 8 index bits per group, then one sign byte per group
  uint8_t qh[8];      // top 2 index bits, four groups per byte
  uint8_t scales[8];  // as IQ2_XS
};
static_assert(sizeof(BlockIQ2S) == 82, "IQ2_S block must be 82 bytes");

// `static` on purpose (as in blocks_k.h): included by files built with
// different -m flags, and merged inline copies could run AVX-512 code on a
// CPU without it.

// IQ2_XXS sub-block s (32 values): word 0 = the four grid indices, word 1 =
// sign bits and scale.
static inline uint32_t iq2xxs_word(const BlockIQ2XXS& b, int s, int w) {
  uint32_t v;
  std::memcpy(&v, b.qs + 4 * s + 2 * w, sizeof(v));
  return v;
}

// 4-bit scale ls of 16-value sub-block t (0..15); the factor is 2 ls + 1.
static inline int iq2_scale(const BlockIQ2XXS& b, int t) { return static_cast<int>(iq2xxs_word(b, t / 2, 1) >> 28); }
static inline int iq2_scale(const BlockIQ2XS& b, int t) { return (b.scales[t / 2] >> (4 * (t % 2))) & 0xf; }
static inline int iq2_scale(const BlockIQ2S& b, int t) { return (b.scales[t / 2] >> (4 * (t % 2))) & 0xf; }

// Grid entry (eight magnitudes) of group g (0..31).
static inline uint64_t iq2_grid(const BlockIQ2XXS& b, int g) { return kIq2xxsGrid[(iq2xxs_word(b, g / 4, 0) >> (8 * (g % 4))) & 0xff]; }
static inline uint64_t iq2_grid(const BlockIQ2XS& b, int g) { return kIq2xsGrid[b.qs[g] & 511]; }
static inline uint64_t iq2_grid(const BlockIQ2S& b, int g) {
  return kIq2sGrid[b.qs[g] | (((b.qh[g / 4] >> (2 * (g % 4))) & 3) << 8)];
}

// Sign byte of group g: bit j set = value j negative.
static inline uint8_t iq2_signs(const BlockIQ2XXS& b, int g) {
  return kIqEvenSigns[(iq2xxs_word(b, g / 4, 1) >> (7 * (g % 4))) & 127];
}
static inline uint8_t iq2_signs(const BlockIQ2XS& b, int g) { return kIqEvenSigns[b.qs[g] >> 9]; }
static inline uint8_t iq2_signs(const BlockIQ2S& b, int g) { return b.qs[kIq2Groups + g]; }

}  // namespace sieve::tensor
