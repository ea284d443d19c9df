#pragma once
// On-disk block layouts of the "legacy" GGUF quantized types: 32 values per
// block, one or two fp16 scales in front, then the packed quants. These
// structs are read straight out of mapped files, so their sizes must match the
// GGUF format exactly (checked below and against tensor_type.cpp).
//
// Nibble order (Q4_x, Q5_x): byte j of `qs` holds value j in its low nibble and
// value j + 16 in its high nibble. Q5_x keep the fifth bit of value j in bit j
// of `qh`, read as a little-endian 32-bit word.
//
// Decoded values:
//   Q4_0  x = d * (q - 8)        q in [0, 15]
//   Q4_1  x = d * q + m          q in [0, 15]
//   Q5_0  x = d * (q - 16)       q in [0, 31]
//   Q5_1  x = d * q + m          q in [0, 31]
//   Q8_0  x = d * q              q in [-127, 127] (we never write -128)
//   Q8_1  x = d * q, and s = d * sum(q) so a dot with Q4_1 / Q5_1 weights can
//         apply their offset m as m * s without touching the quants again.

#include <cstdint>

namespace sieve::tensor {

inline constexpr int kLegacyBlockElems = 32;

struct BlockQ4_0 {
  uint16_t d;      // fp16 scale
  uint8_t qs[16];  // nibbles
};

struct BlockQ4_1 {
  uint16_t d;  // fp16 scale
  uint16_t m;  // fp16 offset (the block minimum)
  uint8_t qs[16];
};

struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // fifth bits
  uint8_t qs[16];
};

struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[16];
};

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};

struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;  // fp16 of d * sum(qs)
  int8_t qs[32];
};

static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes");
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must be 20 bytes");
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block must be 22 bytes");
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block must be 24 bytes");
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block must be 36 bytes");

}  // namespace sieve::tensor
