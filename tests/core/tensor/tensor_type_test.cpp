#include "tensor/tensor_type.h"

#include <gtest/gtest.h>

namespace sieve::tensor {
namespace {

TEST(TensorType, KnownGeometry) {
  EXPECT_EQ(type_info(TensorType::Q4_0).block_elems, 32u);
  EXPECT_EQ(type_info(TensorType::Q4_0).block_bytes, 18u);
  EXPECT_EQ(type_info(TensorType::Q4_K).block_bytes, 144u);
  EXPECT_EQ(type_info(TensorType::Q6_K).block_bytes, 210u);
  EXPECT_EQ(bytes_for(TensorType::Q8_0, 64), 68u);
  EXPECT_EQ(bytes_for(TensorType::F16, 10), 20u);
  EXPECT_TRUE(is_whole_blocks(TensorType::Q2_K, 512));
  EXPECT_FALSE(is_whole_blocks(TensorType::Q2_K, 100));
}

TEST(TensorType, UnknownIdsAreRejected) {
  EXPECT_FALSE(find_type_info(4).has_value());   // removed Q4_2
  EXPECT_FALSE(find_type_info(31).has_value());
  EXPECT_FALSE(find_type_info(1000).has_value());
  EXPECT_TRUE(find_type_info(30).has_value());   // BF16
}

TEST(TensorType, NamesRoundTrip) {
  for (uint32_t id = 0; id < kTypeIdLimit; ++id) {
    const auto info = find_type_info(id);
    if (!info) continue;
    const auto parsed = type_from_name(info->name);
    ASSERT_TRUE(parsed.has_value()) << info->name;
    EXPECT_EQ(static_cast<uint32_t>(*parsed), id);
  }
  EXPECT_EQ(type_from_name("q4_k"), TensorType::Q4_K);
  EXPECT_FALSE(type_from_name("q4_k_m").has_value());  // a mix, not a type
}

}  // namespace
}  // namespace sieve::tensor
