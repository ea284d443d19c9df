// Bundle geometry, the bundle <-> dense round trip, and the down-row gather
// (tiled transposes for float types, block copies for quantized ones).

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/transpose.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using tensor::TensorType;

std::vector<std::byte> random_bytes(size_t n, uint32_t seed) {
  std::vector<std::byte> v(n);
  uint32_t s = seed;
  for (std::byte& b : v) {
    s = s * 1664525u + 1013904223u;
    b = static_cast<std::byte>(s >> 24);
  }
  return v;
}

TEST(BundleLayout, GeometryFollowsTheDownType) {
  const BundleLayout f16 = make_bundle_layout(2048, 5632, TensorType::F16, TensorType::F16, TensorType::F16, "m");
  EXPECT_EQ(f16.cluster, 1);
  EXPECT_EQ(f16.n_clusters, 5632);
  EXPECT_EQ(f16.up_offset, 4096u);
  EXPECT_EQ(f16.down_offset, 8192u);
  EXPECT_EQ(f16.bundle_bytes, 12288u);  // gate row + up row + down column, already a multiple of 64

  const BundleLayout q4 = make_bundle_layout(256, 768, TensorType::Q4_K, TensorType::Q4_K, TensorType::Q6_K, "m");
  EXPECT_EQ(q4.cluster, 256);
  EXPECT_EQ(q4.n_clusters, 3);
  EXPECT_EQ(q4.gate_row_bytes, 144u);
  EXPECT_EQ(q4.down_offset, 2u * 256 * 144);
  EXPECT_EQ(q4.bundle_bytes % kBundleAlignment, 0u);
  EXPECT_GE(q4.bundle_bytes, q4.down_offset + 256 * 210);
  EXPECT_EQ(q4.dense_bytes(), 2u * 768 * 144 + 256u * 3 * 210);
}

TEST(BundleLayout, RefusesShapesThatAreNotWholeBlocks) {
  EXPECT_THROW(make_bundle_layout(100, 768, TensorType::Q4_0, TensorType::Q4_0, TensorType::Q4_0, "m"), Error);
  EXPECT_THROW(make_bundle_layout(256, 100, TensorType::F16, TensorType::F16, TensorType::Q8_0, "m"), Error);
  try {
    make_bundle_layout(256, 100, TensorType::F16, TensorType::F16, TensorType::Q8_0, "model.gguf: layer 3");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.gguf: layer 3"), std::string::npos) << e.what();
  }
}

struct Case {
  int64_t dim, n_ff;
  TensorType gate, up, down;
};

class BundleRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(BundleRoundTrip, UnbundleRestoresTheMatricesAndGatherRebuildsDownRows) {
  const Case c = GetParam();
  const BundleLayout l = make_bundle_layout(c.dim, c.n_ff, c.gate, c.up, c.down, "m");
  const auto gate = random_bytes(l.gate_bytes(), 1), up = random_bytes(l.up_bytes(), 2),
             down = random_bytes(l.down_bytes(), 3);
  std::vector<std::byte> bundles(l.layer_bytes(), std::byte{0xEE});
  // Built in two uneven pieces, as the packer builds chunks.
  const int64_t split = l.n_clusters / 3;
  build_bundles(l, {gate.data(), up.data(), down.data()}, 0, split, bundles.data());
  build_bundles(l, {gate.data(), up.data(), down.data()}, split, l.n_clusters,
                bundles.data() + static_cast<size_t>(split) * l.bundle_bytes);
  // Padding is zeroed, so packs are reproducible.
  const size_t used = l.down_offset + static_cast<size_t>(l.dim) * l.down_block_bytes;
  for (size_t b = used; b < l.bundle_bytes; ++b) ASSERT_EQ(bundles[b], std::byte{0});

  std::vector<std::byte> g2(gate.size()), u2(up.size()), d2(down.size());
  unbundle(l, bundles.data(), 0, l.n_clusters, {g2.data(), u2.data(), d2.data()});
  EXPECT_EQ(g2, gate);
  EXPECT_EQ(u2, up);
  EXPECT_EQ(d2, down);

  // Every row range, including ragged ones, gathers the dense rows' bytes.
  const size_t row_bytes = l.down_row_bytes();
  for (int64_t r0 : {int64_t{0}, int64_t{3}, c.dim / 2}) {
    for (int64_t n : {int64_t{1}, int64_t{8}, int64_t{13}, c.dim - r0}) {
      const int64_t r1 = std::min(c.dim, r0 + n);
      std::vector<std::byte> rows(static_cast<size_t>(r1 - r0) * row_bytes);
      gather_down_rows(l, bundles.data(), r0, r1, rows.data());
      ASSERT_EQ(0, std::memcmp(rows.data(), down.data() + static_cast<size_t>(r0) * row_bytes, rows.size()))
          << "rows " << r0 << ".." << r1;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, BundleRoundTrip,
    ::testing::Values(Case{64, 172, TensorType::F32, TensorType::F32, TensorType::F32},   // stories260K
                      Case{8, 32, TensorType::F16, TensorType::F16, TensorType::F16},     // llama-2-tiny
                      Case{40, 27, TensorType::F16, TensorType::F16, TensorType::F16},    // ragged tiles
                      Case{24, 13, TensorType::BF16, TensorType::BF16, TensorType::BF16},
                      Case{64, 96, TensorType::Q8_0, TensorType::Q8_0, TensorType::Q4_0},
                      Case{256, 512, TensorType::Q4_K, TensorType::Q4_K, TensorType::Q6_K}));

TEST(Transpose, MatchesAScalarTransposeForEveryShape) {
  for (int64_t cols = 1; cols <= 19; cols += 3) {
    for (int64_t rows = 1; rows <= 21; rows += 4) {
      const size_t src_stride = static_cast<size_t>(rows) * 4 + 12;
      const auto src = random_bytes(static_cast<size_t>(cols) * src_stride, static_cast<uint32_t>(cols * 100 + rows));
      for (size_t width : {size_t{2}, size_t{4}}) {
        const size_t dst_stride = static_cast<size_t>(cols) * width + 6;
        std::vector<std::byte> dst(static_cast<size_t>(rows) * dst_stride), expected(dst.size());
        for (int64_t c = 0; c < cols; ++c) {
          for (int64_t k = 0; k < rows; ++k) {
            std::memcpy(&expected[static_cast<size_t>(k) * dst_stride + static_cast<size_t>(c) * width],
                        &src[static_cast<size_t>(c) * src_stride + static_cast<size_t>(k) * width], width);
          }
        }
        if (width == 2) detail::transpose_u16(src.data(), src_stride, cols, rows, dst.data(), dst_stride);
        else detail::transpose_u32(src.data(), src_stride, cols, rows, dst.data(), dst_stride);
        ASSERT_EQ(dst, expected) << cols << " x " << rows << ", width " << width;
      }
    }
  }
}

}  // namespace
}  // namespace sieve::flash
