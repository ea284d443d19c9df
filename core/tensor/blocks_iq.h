#pragma once
// On-disk layouts of the 4-bit codebook types: IQ4_NL, IQ4_XS (GGUF ids 20
// and 23) and MXFP4 (id 39). Each stores 4-bit indices into a fixed table of
// 16 signed values instead of evenly spaced levels.
//
//   IQ4_NL  32 values: fp16 d, 16 bytes of indices.
//           x = d * kIq4nlValues[i]
//   IQ4_XS  256 values in 8 sub-blocks of 32: fp16 d, 6-bit sub-block
//           scales ls (low 4 bits in scales_l, top 2 in scales_h), indices.
//           x = d * (ls - 32) * kIq4nlValues[i]
//   MXFP4   32 values (OCP microscaling): an E8M0 exponent e, 16 bytes of
//           FP4 E2M1 codes. The table holds the E2M1 values doubled (so they
//           are integers), and the scale is halved to match:
//           x = 2^(e - 128) * kMxfp4Values[i]
//
// Index order inside 32 values (every type, as Q4_0): byte j holds value j in
// its low nibble and value j + 16 in its high nibble. IQ4_XS sub-block s uses
// qs[16 s .. 16 s + 15] and scale ls = ((scales_l[s / 2] >> 4 (s % 2)) & 15)
// | (((scales_h >> 2 s) & 3) << 4).
//
// Every index is a valid table entry, so blocks read from untrusted files
// need no validation beyond their size. As in the reference engine, E8M0 255
// (NaN in the OCP format) decodes as 2^127, and exponents from 253 up make
// the largest levels overflow to infinity (our quantizer never writes them).

#include <bit>
#include <cstdint>

namespace sieve::tensor {

inline constexpr int kIqBlockElems = 32;     // IQ4_NL, MXFP4, and an IQ4_XS sub-block
inline constexpr int kIq4xsBlockElems = 256;  // IQ4_XS super-block

// The non-linear IQ4 levels, denser near zero where weights cluster.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
// E2M1 values times two: codes 0..7 are +0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 is the sign.
inline constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

struct BlockIQ4NL {
  uint16_t d;      // fp16 scale
  uint8_t qs[16];  // indices
};
static_assert(sizeof(BlockIQ4NL) == 18, "IQ4_NL block must be 18 bytes");

struct BlockIQ4XS {
  uint16_t d;          // fp16 factor of the sub-block scales
  uint16_t scales_h;   // top 2 bits of the 8 sub-block scales
  uint8_t scales_l[4];  // low 4 bits, two sub-blocks per byte
  uint8_t qs[128];     // indices
};
static_assert(sizeof(BlockIQ4XS) == 136, "IQ4_XS block must be 136 bytes");

struct BlockMXFP4 {
  uint8_t e;       // E8M0 shared exponent
  uint8_t qs[16];  // E2M1 codes
};
static_assert(sizeof(BlockMXFP4) == 17, "MXFP4 block must be 17 bytes");

// `static` on purpose (as in blocks_k.h): included by files built with
// different -m flags, and merged inline copies could run AVX-512 code on a
// CPU without it.

// Stored sub-block scale of IQ4_XS sub-block s, 0..63 (the factor is ls - 32).
static inline int iq4xs_scale(const BlockIQ4XS& b, int s) {
  return ((b.scales_l[s / 2] >> (4 * (s % 2))) & 0xf) | (((b.scales_h >> (2 * s)) & 3) << 4);
}

// 2^(e - 128): the E8M0 scale halved, matching the doubled table. Built from
// bits: e >= 2 is a normal float, e = 0 and 1 the subnormals 2^-128, 2^-127.
static inline float e8m0_half_to_float(uint8_t e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
  return std::bit_cast<float>(bits);
}

}  // namespace sieve::tensor
