#include "flash/checksum.h"

#include <new>

// The whole of xxHash compiled into this file (static functions): nothing
// links libxxhash.so, so the packages need no libxxhash0 and the Windows build
// needs only the header.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sieve::flash {
namespace {

static_assert(sizeof(XXH64_state_t) <= Hasher64::kStateBytes, "Hasher64::kStateBytes is too small for XXH64_state_t");
static_assert(alignof(XXH64_state_t) <= 8, "Hasher64's state storage is 8-byte aligned");

XXH64_state_t* state_in(std::byte* storage) { return std::launder(reinterpret_cast<XXH64_state_t*>(storage)); }
const XXH64_state_t* state_in(const std::byte* storage) {
  return std::launder(reinterpret_cast<const XXH64_state_t*>(storage));
}

}  // namespace

Hasher64::Hasher64(uint64_t seed) { XXH64_reset(new (state_) XXH64_state_t, seed); }

void Hasher64::update(std::span<const std::byte> bytes) {
  XXH64_update(state_in(state_), bytes.data(), bytes.size());
}

uint64_t Hasher64::digest() const { return XXH64_digest(state_in(state_)); }

uint64_t hash64(std::span<const std::byte> bytes, uint64_t seed) { return XXH64(bytes.data(), bytes.size(), seed); }

}  // namespace sieve::flash
