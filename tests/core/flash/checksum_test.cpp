// The pack checksum: published XXH64 test values, and chunked hashing equal
// to one-shot hashing whatever the split.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "flash/checksum.h"

namespace sieve::flash {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(Checksum, MatchesPublishedXxh64Values) {
  EXPECT_EQ(hash64(bytes_of("")), 0xEF46DB3751D8E999ull);
  EXPECT_EQ(hash64(bytes_of("a")), 0xD24EC4F1A98C6E5Bull);
  EXPECT_EQ(hash64(bytes_of("abc")), 0x44BC2CF5AD770999ull);
  // Lengths covering the tail paths (4..7, 8..31), one 32-byte stripe and beyond.
  EXPECT_EQ(hash64(bytes_of("1234")), 0xd8316e61d84f6ba4ull);
  EXPECT_EQ(hash64(bytes_of("123456789012345")), 0xc377d78ade001a3cull);
  EXPECT_EQ(hash64(bytes_of("12345678901234567890123456789012")), 0x40fd1aa52d98274cull);
  EXPECT_EQ(hash64(bytes_of("The quick brown fox jumps over the lazy dog")), 0x0b242d361fda71bcull);
  EXPECT_EQ(hash64(bytes_of("abc"), 5381), 0x19d1c1b5c673451full);
  EXPECT_EQ(hash64(bytes_of("12345678901234567890123456789012"), 5381), 0x38ea26e7c55f8095ull);
}

TEST(Checksum, ChunkedEqualsOneShot) {
  std::vector<std::byte> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>((i * 131 + 7) & 0xFF);
  for (size_t length : {size_t{0}, size_t{5}, size_t{31}, size_t{32}, size_t{33}, size_t{100}, size_t{1000}}) {
    const std::span<const std::byte> all(data.data(), length);
    const uint64_t expected = hash64(all, 42);
    for (size_t piece : {size_t{1}, size_t{3}, size_t{7}, size_t{32}, size_t{45}}) {
      Hasher64 h(42);
      for (size_t at = 0; at < length; at += piece) h.update(all.subspan(at, std::min(piece, length - at)));
      EXPECT_EQ(h.digest(), expected) << "length " << length << ", pieces of " << piece;
    }
  }
}

TEST(Checksum, OneFlippedBitChangesTheHash) {
  std::vector<std::byte> data(4096, std::byte{0x5a});
  const uint64_t before = hash64(data);
  data[1234] ^= std::byte{0x01};
  EXPECT_NE(hash64(data), before);
}

}  // namespace
}  // namespace sieve::flash
