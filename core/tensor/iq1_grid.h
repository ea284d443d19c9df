#pragma once
// The codebook shared by IQ1_S and IQ1_M (blocks_iq1.h): 2048 groups of eight
// values in {-1, 0, +1}, each a 64-bit word of eight signed bytes in value
// order. Data in iq1_grid.cpp.

#include <cstdint>

namespace sieve::tensor {

inline constexpr int kIq1sGridSize = 2048;  // indices are 11 bits: always in range
extern const uint64_t kIq1sGrid[kIq1sGridSize];

}  // namespace sieve::tensor
