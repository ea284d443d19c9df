#pragma once
// 64-bit checksums of pack tensors: the XXH64 algorithm (a public, fast,
// well-distributed non-cryptographic hash; this is our own implementation of
// its published specification). It guards against truncation, bit rot and
// bad copies, not against deliberate tampering.
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

 private:
  void consume_stripe(const std::byte* stripe);

  uint64_t seed_;
  uint64_t acc_[4];
  uint64_t total_ = 0;
  std::byte pending_[32];
  size_t pending_bytes_ = 0;
};

uint64_t hash64(std::span<const std::byte> bytes, uint64_t seed = 0);

}  // namespace sieve::flash
