#pragma once
// On-disk layouts of the 1-bit codebook types IQ1_S and IQ1_M (GGUF ids 19
// and 29). Both store 256 values as 32 groups of eight; a group is an 11-bit
// index into kIq1sGrid (iq1_grid.h: eight values in {-1, 0, +1}) plus a
// shift of +-1/8 ("delta"), times a scale:
//
//   x = dl * (grid[j] + delta) = (dl / 8) * (8 * grid[j] +- 1)
//
// so every value is an integer in [-9, 9] times a per-sub-block scale.
//
//   IQ1_S  fp16 d; qs[32] the low 8 index bits of each group; qh[8], one
//          16-bit word per 32 values: bits 3l..3l+2 the top 3 index bits of
//          group l (0..3), bits 12..14 the scale s, bit 15 the delta sign.
//          dl = d * (2 s + 1), delta = bit 15 ? -1/8 : +1/8.
//   IQ1_M  no d field: the fp16 super-block scale is spread over the top
//          nibbles of the four 16-bit words of scales[8] (word w's bits
//          12..15 are bits 4w..4w+3 of the fp16). qs[32] the low index bits;
//          qh[16], one byte per two groups: low nibble for the even group,
//          high nibble for the odd one, each holding 3 top index bits and
//          (bit 3) the delta sign. Each 16 values have a 3-bit scale s:
//          sub-block 2w + h of 32 takes bits 6h, 6h + 3 of word w for its
//          first and second 16 values. dl = d * (2 s + 1).
//
// Every index is 11 bits by construction, so blocks from untrusted files
// cannot address past the 2048-entry table.

#include <cstdint>
#include <cstring>

namespace sieve::tensor {

inline constexpr int kIq1BlockElems = 256;
inline constexpr int kIq1GroupElems = 8;  // values per grid entry

struct BlockIQ1S {
  uint16_t d;       // fp16 super-block scale
  uint8_t qs[32];   // low 8 bits of the 32 group indices
  uint16_t qh[8];   // per 32 values: top index bits, scale, delta sign
};
static_assert(sizeof(BlockIQ1S) == 50, "IQ1_S block must be 50 bytes");

struct BlockIQ1M {
  uint8_t qs[32];      // low 8 bits of the 32 group indices
  uint8_t qh[16];      // per two groups: top index bits and delta signs
  uint8_t scales[8];   // four 16-bit words: 3-bit scales, fp16 scale in the top nibbles
};
static_assert(sizeof(BlockIQ1M) == 56, "IQ1_M block must be 56 bytes");

// `static` on purpose (as in blocks_k.h): included by files built with
// different -m flags.

// ---- IQ1_S, sub-block s of 32 values (0..7), group l of 8 in it (0..3) ----
static inline int iq1s_index(const BlockIQ1S& b, int s, int l) {
  return b.qs[4 * s + l] | (((b.qh[s] >> (3 * l)) & 7) << 8);
}
static inline int iq1s_scale(const BlockIQ1S& b, int s) { return 2 * ((b.qh[s] >> 12) & 7) + 1; }
static inline int iq1s_delta(const BlockIQ1S& b, int s) { return (b.qh[s] & 0x8000) ? -1 : 1; }

// ---- IQ1_M, group g of 8 (0..31), half-sub-block h of 16 (0..15) ----
static inline uint16_t iq1m_word(const BlockIQ1M& b, int w) {
  uint16_t v;
  std::memcpy(&v, b.scales + 2 * w, sizeof(v));
  return v;
}
// The fp16 bits of the super-block scale.
static inline uint16_t iq1m_d_bits(const BlockIQ1M& b) {
  return static_cast<uint16_t>((iq1m_word(b, 0) >> 12) | ((iq1m_word(b, 1) >> 8) & 0x00f0) |
                               ((iq1m_word(b, 2) >> 4) & 0x0f00) | (iq1m_word(b, 3) & 0xf000));
}
static inline int iq1m_index(const BlockIQ1M& b, int g) {
  const int nibble = (b.qh[g / 2] >> (4 * (g % 2))) & 0xf;
  return b.qs[g] | ((nibble & 7) << 8);
}
static inline int iq1m_delta(const BlockIQ1M& b, int g) { return ((b.qh[g / 2] >> (4 * (g % 2))) & 8) ? -1 : 1; }
static inline int iq1m_scale(const BlockIQ1M& b, int h) {
  return 2 * ((iq1m_word(b, h / 4) >> (3 * (h % 4))) & 7) + 1;
}

}  // namespace sieve::tensor
