#pragma once
// The IQ2 grids (data in iq2_grids.cpp): eight magnitudes per entry, value j
// in byte j, each 8, 25 or 43. Indices into them are masked to the table
// size by the block layouts (blocks_iq2.h), so any stored bits are valid.

#include <cstdint>

namespace sieve::tensor {

extern const uint64_t kIq2xxsGrid[256];  // IQ2_XXS: 8-bit indices
extern const uint64_t kIq2xsGrid[512];   // IQ2_XS:  9-bit indices
extern const uint64_t kIq2sGrid[1024];   // IQ2_S:  10-bit indices

}  // namespace sieve::tensor
