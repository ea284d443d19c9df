#include "tensor/tensor_type.h"

#include <gtest/gtest.h>

#include <utility>

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

// The codebook types Sieve computes with, at the ids and sizes GGUF gives them.
TEST(TensorType, CodebookTypes) {
  const auto nl = find_type_info(20), xs = find_type_info(23), mx = find_type_info(39);
  ASSERT_TRUE(nl && xs && mx);
  EXPECT_EQ(nl->name, "IQ4_NL");
  EXPECT_EQ(nl->block_elems, 32u);
  EXPECT_EQ(nl->block_bytes, 18u);
  EXPECT_EQ(xs->name, "IQ4_XS");
  EXPECT_EQ(xs->block_elems, 256u);
  EXPECT_EQ(xs->block_bytes, 136u);
  EXPECT_EQ(mx->name, "MXFP4");
  EXPECT_EQ(mx->block_elems, 32u);
  EXPECT_EQ(mx->block_bytes, 17u);
  for (const auto& info : {*nl, *xs, *mx}) EXPECT_TRUE(info.computable) << info.name;
  // The 1-bit codebook and ternary types: 256 values per block.
  const std::pair<TensorType, uint32_t> bytes256[] = {
      {TensorType::IQ1_S, 50u}, {TensorType::IQ1_M, 56u}, {TensorType::TQ1_0, 54u}, {TensorType::TQ2_0, 66u}};
  for (const auto& [type, bytes] : bytes256) {
    EXPECT_TRUE(type_info(type).computable) << type_name(type);
    EXPECT_EQ(type_info(type).block_elems, 256u) << type_name(type);
    EXPECT_EQ(type_info(type).block_bytes, bytes) << type_name(type);
  }
  EXPECT_EQ(type_from_name("mxfp4"), TensorType::MXFP4);
  EXPECT_GT(kTypeIdLimit, static_cast<uint32_t>(TensorType::MXFP4));
}

TEST(TensorType, UnknownIdsAreRejected) {
  EXPECT_FALSE(find_type_info(4).has_value());   // removed Q4_2
  EXPECT_FALSE(find_type_info(31).has_value());
  for (uint32_t removed = 36; removed <= 38; ++removed) EXPECT_FALSE(find_type_info(removed).has_value());  // Q4_0_4_4 ...
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
