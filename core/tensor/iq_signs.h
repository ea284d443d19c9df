#pragma once
// The sign table of the IQ2 and IQ3_XXS grid types: a group of 8 values
// stores 7 sign bits, and the 8th sign makes the number of minus signs even
// (the quantizer flips the smallest value's sign to keep it so). Entry s is
// the full sign byte of stored bits s: bit j set = value j negative.
//
// Derived, not stored. `constexpr` at namespace scope has internal linkage:
// each file built with its own -m flags keeps its own copy (no weak symbol
// that the linker could merge across ISAs; see SimdObjectsHaveNoWeakSymbols).

#include <array>
#include <bit>
#include <cstdint>

namespace sieve::tensor {

constexpr std::array<uint8_t, 128> kIqEvenSigns = [] {
  std::array<uint8_t, 128> t{};
  for (int s = 0; s < 128; ++s) t[s] = static_cast<uint8_t>(s | ((std::popcount(static_cast<unsigned>(s)) & 1) << 7));
  return t;
}();

}  // namespace sieve::tensor
