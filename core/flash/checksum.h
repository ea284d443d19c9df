#pragma once
// 64-bit checksums of pack tensors: XXH64 (a public, fast, well-distributed
// non-cryptographic hash), computed by libxxhash. It guards against
// truncation, bit rot and bad copies, not against deliberate tampering.
//
// Hasher64 takes the bytes in any number of pieces and gives the same result
// as hash64 over their concatenation, so tensors written or read in chunks
// are hashed without a second pass.

#include <cstddef>
#include <cstdint>
#include <span>

namespace sieve::flash {

class Hasher64 {
 public:
  explicit Hasher64(uint64_t seed = 0);
  void update(std::span<const std::byte> bytes);
  uint64_t digest() const;

  // Room for libxxhash's XXH64_state_t (88 bytes in xxHash 0.8; checksum.cpp
  // asserts it fits), held inline so a hasher needs no allocation and
  // xxhash.h stays out of this header.
  static constexpr size_t kStateBytes = 96;

 private:
  alignas(8) std::byte state_[kStateBytes];
};

uint64_t hash64(std::span<const std::byte> bytes, uint64_t seed = 0);

}  // namespace sieve::flash
