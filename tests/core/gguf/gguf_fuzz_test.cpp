// Seeded random corruption of a small valid file: every mutant must either
// parse into something self-consistent or raise sieve::Error — never crash,
// hang, read outside the mapping (ASan) or allocate from a garbage count.

#include <gtest/gtest.h>

#include <random>

#include "core/gguf/gguf_test_util.h"
#include "gguf/gguf_file.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

using testing::Bytes;

constexpr int kMutants = 3000;

// Interesting values to drop into 8-byte fields: boundaries of every width.
constexpr uint64_t kEdgeValues[] = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256,
                                    65535, 65536, 0x7FFFFFFF, 0xFFFFFFFF, 0x100000000ull,
                                    0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFFull};

Bytes mutate(const Bytes& base, size_t header_size, std::mt19937_64& rng) {
  Bytes b = base;
  const int kind = static_cast<int>(rng() % 4);
  // Most mutations hit the header, where the parser makes its decisions.
  // Each rng() call is its own statement so the mutant sequence is the same
  // whatever order a compiler evaluates operands in.
  const auto pick = [&] {
    const bool anywhere = rng() % 5 == 0;
    return static_cast<size_t>(rng() % (anywhere ? b.size() : header_size));
  };
  const auto random_byte = [&] { return static_cast<uint8_t>(rng()); };
  if (kind == 0) {  // flip a few bits
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const size_t at = pick();
      b[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
  } else if (kind == 1) {  // random bytes
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      const size_t at = pick();
      b[at] = random_byte();
    }
  } else if (kind == 2) {  // an edge value over an 8- or 4-byte field
    const size_t at = pick();
    const uint64_t v = kEdgeValues[rng() % std::size(kEdgeValues)];
    const int width = rng() % 2 ? 8 : 4;
    for (int i = 0; i < width && at + i < b.size(); ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  } else {  // truncate, possibly after a flip
    const size_t at = pick();
    b[at] ^= random_byte();
    b.resize(static_cast<size_t>(rng() % b.size()));
  }
  return b;
}

// Touches everything a parsed file exposes, so out-of-bounds spans show up.
uint64_t touch_everything(const GgufFile& f) {
  uint64_t sum = f.metadata().size();
  for (const KeyValue& kv : f.metadata()) sum += kv.value.to_display_string().size();
  for (const TensorInfo& t : f.tensors()) {
    const auto data = f.tensor_data(t);
    EXPECT_EQ(data.size(), t.size_bytes);
    if (!data.empty()) sum += std::to_integer<uint8_t>(data.front()) + std::to_integer<uint8_t>(data.back());
  }
  return sum;
}

TEST(GgufFuzz, RandomMutantsParseOrRaiseSieveError) {
  testing::ScratchDir dir;
  const testing::ByteBuilder base = testing::build_raw(testing::small_spec());
  const size_t header_size = base.marks.at("data");
  const auto path = dir.file("mutant.gguf");
  std::mt19937_64 rng(20240611);
  int parsed = 0, refused = 0;
  for (int i = 0; i < kMutants; ++i) {
    const Bytes mutant = mutate(base.bytes, header_size, rng);
    testing::write_file(path, mutant);
    try {
      const GgufFile f = GgufFile::open(path);
      touch_everything(f);
      ++parsed;
    } catch (const Error& e) {
      const std::string message = e.what();
      ASSERT_NE(message.find("mutant.gguf: "), std::string::npos) << "mutant " << i << ": " << message;
      ++refused;
    }
  }
  // Both outcomes must occur, or the mutator is not exercising the parser.
  EXPECT_GT(parsed, 50);
  EXPECT_GT(refused, 500);
  std::printf("%d mutants parsed, %d refused\n", parsed, refused);
}

}  // namespace
}  // namespace sieve::gguf
