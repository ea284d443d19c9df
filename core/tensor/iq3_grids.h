#pragma once
// The grids of the 3-bit grid types (blocks_iq3.h): each entry packs the
// magnitudes of 4 consecutive values, one per byte, value 0 in the lowest
// byte. Format data, defined in iq3_grids.cpp.

#include <cstdint>

namespace sieve::tensor {

inline constexpr int kIq3xxsGridSize = 256;  // magnitudes 4, 12, 20, 28, 36, 44, 52, 62
inline constexpr int kIq3sGridSize = 512;    // magnitudes 1, 3, 5, ..., 15

extern const uint32_t kIq3xxsGrid[kIq3xxsGridSize];
extern const uint32_t kIq3sGrid[kIq3sGridSize];

}  // namespace sieve::tensor
