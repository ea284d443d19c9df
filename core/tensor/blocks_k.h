#pragma once
// On-disk layouts of the K-quant super-blocks (GGUF types Q2_K..Q8_K). Every
// block holds 256 values split into sub-blocks of 16 or 32 that share a small
// integer scale (and min); the sub-block scales are themselves quantized
// against one or two fp16 super-block factors `d` / `dmin`.
//
// Value order inside a block (the reference engine's, so files interoperate):
//   Q2_K  value 128*h + 32*k + l (h<2, k<4, l<32) = (qs[32*h + l] >> 2k) & 3;
//         16-value group g uses scales[g]: low nibble scale, high nibble min.
//   Q3_K  low 2 bits as Q2_K; bit 2 is bit (4*h + k) of hmask[l]; the stored
//         value is that 3-bit number minus 4. Sixteen 6-bit signed scales
//         (minus 32) packed in 12 bytes, see unpack_q3k_scales.
//   Q4_K  value 64*j + l = low nibble of qs[32*j + l], 64*j + 32 + l = high
//         nibble; 32-value group g uses 6-bit scale/min g (unpack_k4_scales).
//   Q5_K  as Q4_K plus bit 4 from bit g of qh[l] (g the 32-value group).
//   Q6_K  value 128*h + 32*k + l: low 4 bits from ql[64*h + l + 32*(k&1)],
//         nibble k>>1; high 2 bits from qh[32*h + l] >> 2k; minus 32. 16-value
//         group g uses the signed 8-bit scales[g].
//   Q8_K  activation blocks: float d, int8 qs, and bsums[g] = the sum of the
//         16 quants of group g (lets dot products fold in mins and offsets).
//
// Blocks are read in place from files and scratch buffers; they need 2-byte
// alignment (4 for Q8_K), which GGUF's 32-byte data alignment guarantees.

#include <bit>
#include <cstdint>
#include <cstring>

namespace sieve::tensor {

static_assert(std::endian::native == std::endian::little,
              "K-quant scale unpacking reads little-endian 32-bit words");

inline constexpr int kQK = 256;          // values per super-block
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales of Q3_K/Q4_K/Q5_K
// Q8_K quantization treats a block whose largest magnitude is below this as
// all zeros: 127/amax would overflow to infinity for denormal magnitudes.
inline constexpr float kQ8KZeroBelow = 1e-30f;

struct BlockQ2K {
  uint8_t scales[kQK / 16];  // low nibble: scale, high nibble: min
  uint8_t qs[kQK / 4];       // 2-bit quants
  uint16_t d;                // fp16 factor for the scales
  uint16_t dmin;             // fp16 factor for the mins
};
static_assert(sizeof(BlockQ2K) == 84);

struct BlockQ3K {
  uint8_t hmask[kQK / 8];       // bit 2 of each quant
  uint8_t qs[kQK / 4];          // low 2 bits of each quant
  uint8_t scales[kKScaleBytes];  // sixteen 6-bit scales
  uint16_t d;                   // fp16 factor for the scales
};
static_assert(sizeof(BlockQ3K) == 110);

struct BlockQ4K {
  uint16_t d;                    // fp16 factor for the scales
  uint16_t dmin;                 // fp16 factor for the mins
  uint8_t scales[kKScaleBytes];  // eight 6-bit scales and eight 6-bit mins
  uint8_t qs[kQK / 2];           // 4-bit quants
};
static_assert(sizeof(BlockQ4K) == 144);

struct BlockQ5K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK / 8];  // bit 4 of each quant
  uint8_t qs[kQK / 2];  // low 4 bits of each quant
};
static_assert(sizeof(BlockQ5K) == 176);

struct BlockQ6K {
  uint8_t ql[kQK / 2];      // low 4 bits
  uint8_t qh[kQK / 4];      // high 2 bits
  int8_t scales[kQK / 16];  // signed 8-bit scales
  uint16_t d;
};
static_assert(sizeof(BlockQ6K) == 210);

struct BlockQ8K {
  float d;
  int8_t qs[kQK];
  int16_t bsums[kQK / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

// The helpers below are `static` on purpose: this header is included by
// translation units built with different -m flags (scalar, AVX2, AVX-512).
// Ordinary inline functions would be merged by the linker, and an AVX-512
// copy could end up called from the scalar path on a CPU without AVX-512.

// Q4_K / Q5_K: eight 6-bit scales and mins packed in 12 bytes. Groups 0..3
// keep their scale/min in the low 6 bits of bytes 0..3 / 4..7; groups 4..7
// keep the low 4 bits in the nibbles of bytes 8..11 and the top 2 bits in the
// spare top bits of bytes 0..3 (scales) / 4..7 (mins). Outputs are 8 bytes
// each, packed little-endian into a uint64 (byte g = group g).
struct K4Scales {
  uint64_t scales;
  uint64_t mins;
};

static inline K4Scales unpack_k4_scales(const uint8_t* packed) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  const uint32_t low6 = 0x3f3f3f3fu, low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
  const uint32_t scales_lo = w[0] & low6;
  const uint32_t mins_lo = w[1] & low6;
  const uint32_t scales_hi = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);
  const uint32_t mins_hi = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4);
  return {scales_lo | (uint64_t{scales_hi} << 32), mins_lo | (uint64_t{mins_hi} << 32)};
}

// Q3_K: sixteen 6-bit scales. Scale g keeps its low 4 bits in byte g (g < 8,
// low nibble) or byte g-8 (high nibble), and its top 2 bits in byte 8 + g%4 at
// bit 2*(g/4). Returns the sixteen stored values (0..63, the scale plus 32)
// as bytes of four little-endian words; SIMD code loads them as one vector.
struct Q3KScaleWords {
  uint32_t w[4];
};

static inline Q3KScaleWords unpack_q3k_scale_words(const uint8_t* packed) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  const uint32_t low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
  return {{(w[0] & low4) | ((w[2] & low2) << 4), (w[1] & low4) | (((w[2] >> 2) & low2) << 4),
           ((w[0] >> 4) & low4) | (((w[2] >> 4) & low2) << 4), ((w[1] >> 4) & low4) | (((w[2] >> 6) & low2) << 4)}};
}

// The signed Q3_K scales (stored value minus 32).
static inline void unpack_q3k_scales(const uint8_t* packed, int8_t out[16]) {
  const Q3KScaleWords words = unpack_q3k_scale_words(packed);
  uint8_t bytes[16];
  std::memcpy(bytes, words.w, sizeof(bytes));
  for (int g = 0; g < 16; ++g) out[g] = static_cast<int8_t>(bytes[g] - 32);
}

}  // namespace sieve::tensor
