// The per-tensor type rules of the llama.cpp mixes, checked against a public
// quantized file and against the reference's layer pattern.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/synth/synth_test_util.h"
#include "gguf/gguf_file.h"
#include "synth/model_plan.h"
#include "synth/type_mix.h"
#include "util/error.h"

namespace sieve::synth {
namespace {

using tensor::TensorType;

TypeMix mix(const std::string& name) {
  auto m = TypeMix::from_name(name);
  EXPECT_TRUE(m.has_value()) << name;
  return m.value_or(*TypeMix::from_name("f16"));
}

TEST(TypeMix, NamesParseCaseInsensitivelyAndUnknownOnesDoNot) {
  for (const std::string& name : TypeMix::names()) EXPECT_TRUE(TypeMix::from_name(name)) << name;
  EXPECT_EQ(TypeMix::from_name("Q4_K_M")->name(), "q4_k_m");
  EXPECT_FALSE(TypeMix::from_name("q4_k_x"));
  EXPECT_FALSE(TypeMix::from_name(""));
  EXPECT_FALSE(TypeMix::from_name("iq3_s"));
  EXPECT_EQ(TypeMix::from_name("iq4_nl")->base_type(), TensorType::IQ4_NL);
  EXPECT_EQ(TypeMix::from_name("IQ4_XS")->file_type(), 30u);
  EXPECT_EQ(TypeMix::from_name("mxfp4")->file_type(), 38u);
  EXPECT_EQ(TypeMix::from_name("tq1_0")->base_type(), TensorType::TQ1_0);  // llama_ftype MOSTLY_TQ1_0
  EXPECT_EQ(TypeMix::from_name("tq1_0")->file_type(), 36u);
  EXPECT_EQ(TypeMix::from_name("TQ2_0")->file_type(), 37u);
  EXPECT_FALSE(TypeMix::from_name("iq1_s"));  // read only: no quantizer
}

TEST(TypeMix, FileTypesAreLlamaFtypeNumbers) {
  EXPECT_EQ(mix("f32").file_type(), 0u);
  EXPECT_EQ(mix("f16").file_type(), 1u);
  EXPECT_EQ(mix("q4_0").file_type(), 2u);
  EXPECT_EQ(mix("q4_1").file_type(), 3u);
  EXPECT_EQ(mix("q8_0").file_type(), 7u);
  EXPECT_EQ(mix("q5_0").file_type(), 8u);
  EXPECT_EQ(mix("q5_1").file_type(), 9u);
  EXPECT_EQ(mix("q2_k_mix").file_type(), 10u);
  EXPECT_EQ(mix("q3_k_m").file_type(), 12u);
  EXPECT_EQ(mix("q4_k_s").file_type(), 14u);
  EXPECT_EQ(mix("q4_k_m").file_type(), 15u);
  EXPECT_EQ(mix("q5_k_m").file_type(), 17u);
  EXPECT_EQ(mix("q6_k").file_type(), 18u);
  EXPECT_EQ(mix("bf16").file_type(), 32u);
}

TEST(TypeMix, PureTypesPutEveryMatrixInOneTypeAndNormsInF32) {
  ModelShape shape;  // synthA-like
  for (const char* name : {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k",
                           "q3_k", "q4_k", "q5_k", "q6_k"}) {
    const TypeMix m = mix(name);
    for (const PlannedTensor& t : plan_tensors(shape, 259, m)) {
      SCOPED_TRACE(std::string(name) + " " + t.name);
      EXPECT_EQ(t.type, t.role == TensorRole::Norm ? TensorType::F32 : m.base_type());
    }
  }
}

// synthA-q4_k_m.gguf was made by the reference quantizer; the Q4_K_M rule must
// give every one of its tensors the same type.
TEST(TypeMix, Q4KMMatchesTheReferenceFile) {
  const auto path = testing::shared_path("models/synthA-q4_k_m.gguf");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const gguf::GgufFile reference = gguf::GgufFile::open(path);
  ModelShape shape;  // synthA: dim 256, 4 layers, n_ff 768, 8/4 heads
  const auto plan = plan_tensors(shape, 32000, mix("q4_k_m"));
  ASSERT_EQ(plan.size(), reference.tensors().size());
  std::set<TensorType> seen;
  for (const PlannedTensor& t : plan) {
    const gguf::TensorInfo* ref = reference.find_tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    EXPECT_EQ(t.type, ref->type) << t.name;
    EXPECT_EQ(t.dims, ref->dims) << t.name;
    seen.insert(t.type);
  }
  EXPECT_EQ(seen, (std::set<TensorType>{TensorType::F32, TensorType::Q4_K, TensorType::Q6_K}));
  EXPECT_EQ(reference.get_int("general.file_type"), mix("q4_k_m").file_type());
}

TensorSlot slot(TensorRole role, int layer, int n_layers, uint64_t row = 2048, int n_gqa = 8) {
  TensorSlot s;
  s.name = "t";
  s.role = role;
  s.layer = layer;
  s.n_layers = n_layers;
  s.n_gqa = n_gqa;
  s.row_length = row;
  return s;
}

TEST(TypeMix, Q4KMSpendsMoreBitsOnTheReferenceLayerPattern) {
  // 22 layers: first and last eighth (0,1 and 19..21) and every third layer between.
  const std::set<int> q6k_layers = {0, 1, 4, 7, 10, 13, 16, 19, 20, 21};
  const TypeMix m = mix("q4_k_m");
  for (int i = 0; i < 22; ++i) {
    const TensorType want = q6k_layers.count(i) ? TensorType::Q6_K : TensorType::Q4_K;
    EXPECT_EQ(m.type_for(slot(TensorRole::AttnV, i, 22)), want) << "attn_v " << i;
    EXPECT_EQ(m.type_for(slot(TensorRole::FfnDown, i, 22, 5632)), want) << "ffn_down " << i;
    EXPECT_EQ(m.type_for(slot(TensorRole::FfnGate, i, 22)), TensorType::Q4_K);
    EXPECT_EQ(m.type_for(slot(TensorRole::AttnOutput, i, 22)), TensorType::Q4_K);
  }
  EXPECT_EQ(m.type_for(slot(TensorRole::Output, -1, 22)), TensorType::Q6_K);
  EXPECT_EQ(m.type_for(slot(TensorRole::TokenEmbd, -1, 22)), TensorType::Q4_K);
  EXPECT_EQ(m.type_for(slot(TensorRole::Norm, 3, 22)), TensorType::F32);
}

TEST(TypeMix, OtherMixesFollowTheReferenceRules) {
  const int n = 32;
  const TypeMix q2 = mix("q2_k_mix");
  EXPECT_EQ(q2.type_for(slot(TensorRole::AttnV, 5, n, 4096, 1)), TensorType::Q3_K);  // n_gqa < 4
  EXPECT_EQ(q2.type_for(slot(TensorRole::AttnV, 5, n, 2048, 8)), TensorType::Q4_K);  // n_gqa >= 4
  EXPECT_EQ(q2.type_for(slot(TensorRole::FfnDown, 5, n)), TensorType::Q3_K);
  EXPECT_EQ(q2.type_for(slot(TensorRole::AttnOutput, 5, n)), TensorType::Q3_K);
  EXPECT_EQ(q2.type_for(slot(TensorRole::FfnUp, 5, n)), TensorType::Q2_K);
  EXPECT_EQ(q2.type_for(slot(TensorRole::Output, -1, n)), TensorType::Q6_K);

  const TypeMix q3m = mix("q3_k_m");
  EXPECT_EQ(q3m.type_for(slot(TensorRole::AttnV, 1, n)), TensorType::Q5_K);
  EXPECT_EQ(q3m.type_for(slot(TensorRole::AttnV, 2, n)), TensorType::Q4_K);
  EXPECT_EQ(q3m.type_for(slot(TensorRole::FfnDown, 1, n)), TensorType::Q5_K);  // < n/16
  EXPECT_EQ(q3m.type_for(slot(TensorRole::FfnDown, 2, n)), TensorType::Q4_K);
  EXPECT_EQ(q3m.type_for(slot(TensorRole::AttnOutput, 9, n)), TensorType::Q4_K);
  EXPECT_EQ(q3m.type_for(slot(TensorRole::AttnQ, 9, n)), TensorType::Q3_K);

  const TypeMix q4s = mix("q4_k_s");
  EXPECT_EQ(q4s.type_for(slot(TensorRole::AttnV, 3, n)), TensorType::Q5_K);
  EXPECT_EQ(q4s.type_for(slot(TensorRole::AttnV, 4, n)), TensorType::Q4_K);
  EXPECT_EQ(q4s.type_for(slot(TensorRole::FfnDown, 3, n)), TensorType::Q5_K);  // < n/8
  EXPECT_EQ(q4s.type_for(slot(TensorRole::FfnDown, 4, n)), TensorType::Q4_K);

  const TypeMix q5m = mix("q5_k_m");
  EXPECT_EQ(q5m.type_for(slot(TensorRole::AttnV, 0, n)), TensorType::Q6_K);
  EXPECT_EQ(q5m.type_for(slot(TensorRole::AttnV, 5, n)), TensorType::Q5_K);
  EXPECT_EQ(q5m.type_for(slot(TensorRole::FfnDown, 6, n)), TensorType::Q6_K);  // (6-4)%3 == 2
}

TEST(TypeMix, KQuantRowsThatAreNotWholeBlocksFallBackAsTheReferenceDoes) {
  EXPECT_EQ(fallback_type(TensorType::Q4_K, 256), TensorType::Q4_K);
  EXPECT_EQ(fallback_type(TensorType::Q4_K, 64), TensorType::Q5_0);
  EXPECT_EQ(fallback_type(TensorType::Q5_K, 64), TensorType::Q5_1);
  EXPECT_EQ(fallback_type(TensorType::Q6_K, 64), TensorType::Q8_0);
  EXPECT_EQ(fallback_type(TensorType::Q2_K, 64), TensorType::IQ4_NL);  // the reference's choice
  EXPECT_EQ(fallback_type(TensorType::Q3_K, 384), TensorType::IQ4_NL);
  EXPECT_EQ(fallback_type(TensorType::IQ4_XS, 384), TensorType::IQ4_NL);
  EXPECT_EQ(fallback_type(TensorType::IQ4_XS, 512), TensorType::IQ4_XS);
  EXPECT_EQ(fallback_type(TensorType::TQ1_0, 384), TensorType::Q4_0);  // the reference's choice
  EXPECT_EQ(fallback_type(TensorType::TQ2_0, 64), TensorType::Q4_0);
  EXPECT_EQ(fallback_type(TensorType::TQ2_0, 512), TensorType::TQ2_0);
  EXPECT_EQ(fallback_type(TensorType::Q4_K, 48), TensorType::F16);  // not even a Q5_0 block
  EXPECT_EQ(fallback_type(TensorType::F16, 7), TensorType::F16);
  EXPECT_EQ(fallback_type(TensorType::Q4_0, 48), std::nullopt);

  // Output with a row that no K block fits: Q8_0, as the reference chooses.
  EXPECT_EQ(mix("q4_k_m").type_for(slot(TensorRole::Output, -1, 4, 64)), TensorType::Q8_0);
  EXPECT_EQ(mix("q4_k_m").type_for(slot(TensorRole::FfnDown, 3, 4, 64)), TensorType::Q8_0);
  EXPECT_THROW(mix("q4_0").type_for(slot(TensorRole::AttnQ, 0, 4, 48)), Error);
}

}  // namespace
}  // namespace sieve::synth
