#include "flash/checksum.h"

#include <bit>
#include <cstring>

namespace sieve::flash {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

// Little-endian loads whatever the host, so packs hash the same everywhere.
template <class T>
T load_le(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    T swapped = 0;
    for (size_t i = 0; i < sizeof(T); ++i) swapped = (swapped << 8) | ((v >> (8 * i)) & 0xFF);
    v = swapped;
  }
  return v;
}
uint64_t load64(const std::byte* p) { return load_le<uint64_t>(p); }
uint32_t load32(const std::byte* p) { return load_le<uint32_t>(p); }

uint64_t round(uint64_t acc, uint64_t input) {
  acc += input * kPrime2;
  acc = std::rotl(acc, 31);
  return acc * kPrime1;
}

uint64_t merge_round(uint64_t acc, uint64_t value) {
  acc ^= round(0, value);
  return acc * kPrime1 + kPrime4;
}

uint64_t avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace

Hasher64::Hasher64(uint64_t seed)
    : seed_(seed), acc_{seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1} {}

void Hasher64::consume_stripe(const std::byte* stripe) {
  for (int lane = 0; lane < 4; ++lane) acc_[lane] = round(acc_[lane], load64(stripe + 8 * lane));
}

void Hasher64::update(std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  size_t n = bytes.size();
  total_ += n;
  if (pending_bytes_ > 0) {
    const size_t take = std::min(n, sizeof(pending_) - pending_bytes_);
    std::memcpy(pending_ + pending_bytes_, p, take);
    pending_bytes_ += take;
    p += take;
    n -= take;
    if (pending_bytes_ < sizeof(pending_)) return;
    consume_stripe(pending_);
    pending_bytes_ = 0;
  }
  // The hot loop: four independent lanes, 32 bytes per step.
  uint64_t a0 = acc_[0], a1 = acc_[1], a2 = acc_[2], a3 = acc_[3];
  for (; n >= 32; p += 32, n -= 32) {
    a0 = round(a0, load64(p));
    a1 = round(a1, load64(p + 8));
    a2 = round(a2, load64(p + 16));
    a3 = round(a3, load64(p + 24));
  }
  acc_[0] = a0, acc_[1] = a1, acc_[2] = a2, acc_[3] = a3;
  std::memcpy(pending_, p, n);
  pending_bytes_ = n;
}

uint64_t Hasher64::digest() const {
  uint64_t h;
  if (total_ >= 32) {
    h = std::rotl(acc_[0], 1) + std::rotl(acc_[1], 7) + std::rotl(acc_[2], 12) + std::rotl(acc_[3], 18);
    for (uint64_t a : acc_) h = merge_round(h, a);
  } else {
    h = seed_ + kPrime5;
  }
  h += total_;
  const std::byte* p = pending_;
  size_t n = pending_bytes_;
  for (; n >= 8; p += 8, n -= 8) {
    h ^= round(0, load64(p));
    h = std::rotl(h, 27) * kPrime1 + kPrime4;
  }
  if (n >= 4) {
    h ^= static_cast<uint64_t>(load32(p)) * kPrime1;
    h = std::rotl(h, 23) * kPrime2 + kPrime3;
    p += 4;
    n -= 4;
  }
  for (; n > 0; ++p, --n) {
    h ^= static_cast<uint64_t>(std::to_integer<uint8_t>(*p)) * kPrime5;
    h = std::rotl(h, 11) * kPrime1;
  }
  return avalanche(h);
}

uint64_t hash64(std::span<const std::byte> bytes, uint64_t seed) {
  Hasher64 h(seed);
  h.update(bytes);
  return h.digest();
}

}  // namespace sieve::flash
