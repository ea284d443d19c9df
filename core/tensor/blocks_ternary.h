#pragma once
// On-disk layouts of the ternary types TQ1_0 and TQ2_0 (GGUF ids 34 and 35,
// BitNet b1.58 / TriLM weights): 256 values in {-1, 0, +1} times one fp16
// scale d per block, stored as q in {0, 1, 2} (x = d * (q - 1)).
//
//   TQ2_0  qs[64], 2 bits per value: value 128 c + 32 l + m (c = 0, 1;
//          l, m < 32) is bits 2l..2l+1 of qs[32 c + m]. A stored 3 (never
//          written) decodes as +2, as in the reference.
//   TQ1_0  five values per byte in base 3, stored as a fraction of 256 so
//          that trit n is one multiply away: with q' = (byte * 3^n) mod 256,
//          trit n = (3 q') >> 8 (n = 0 the most significant). qs[0..31] hold
//          values 0..159 (value 32 n + m in byte m), qs[32..47] values
//          160..239 (value 160 + 16 n + m in byte 32 + m), qh[0..3] values
//          240..255 (value 240 + 4 n + j in qh[j], four trits, n < 4).
//
// Every byte decodes to trits 0..2 (TQ1_0) or 0..3 (TQ2_0), so blocks from
// untrusted files need no validation.

#include <cstdint>

namespace sieve::tensor {

inline constexpr int kTernaryBlockElems = 256;

struct BlockTQ1_0 {
  uint8_t qs[48];  // 5 trits per byte
  uint8_t qh[4];   // 4 trits per byte
  uint16_t d;      // fp16 scale
};
static_assert(sizeof(BlockTQ1_0) == 54, "TQ1_0 block must be 54 bytes");

struct BlockTQ2_0 {
  uint8_t qs[64];  // 2 bits per value
  uint16_t d;      // fp16 scale
};
static_assert(sizeof(BlockTQ2_0) == 66, "TQ2_0 block must be 66 bytes");

// Trit n (0..4) of a TQ1_0 byte: 0, 1 or 2.
static inline int tq1_trit(uint8_t byte, int n) {
  constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const auto shifted = static_cast<uint8_t>(byte * kPow3[n]);
  return (shifted * 3) >> 8;
}

}  // namespace sieve::tensor
