// The architecture recipes (model/arch_recipe.h) and what read_hyper_params
// makes of them with each shared architecture file's metadata: windows and
// their layer pattern, per-layer RoPE, soft caps, scales, activations.
// Whether the forward pass then matches the reference is reference_test.cpp's
// (Architectures/ReferenceTest.*).

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "core/model/reference_case.h"
#include "gguf/gguf_file.h"
#include "model/arch_recipe.h"
#include "model/hparams.h"
#include "tensor/ops.h"

namespace sieve::model {
namespace {

HyperParams arch_params(const std::string& name) {
  return read_hyper_params(gguf::GgufFile::open(test::shared_dir() / "models" / "arch" / (name + ".gguf")));
}

TEST(ArchRecipes, EveryNameIsFoundAndUnique) {
  std::set<std::string_view> names;
  for (const ArchRecipe& r : recipes()) {
    EXPECT_TRUE(names.insert(r.name).second) << r.name;
    EXPECT_EQ(find_recipe(r.name), &r);
  }
  for (const char* name : {"llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"}) EXPECT_NE(find_recipe(name), nullptr) << name;
  EXPECT_EQ(find_recipe("gpt2"), nullptr);
  EXPECT_EQ(find_recipe(""), nullptr);
}

TEST(ArchRecipes, Gemma2LocalAndGlobalLayersCapsAndScales) {
  const HyperParams hp = arch_params("gemma2");
  EXPECT_EQ(hp.ffn_activation, FfnActivation::Gelu);
  EXPECT_TRUE(hp.recipe.post_norms);
  EXPECT_EQ(hp.sliding_window, 8);
  EXPECT_EQ(hp.sliding_pattern, 2);
  for (int64_t l = 0; l < hp.n_layers; ++l) EXPECT_EQ(hp.windowed(l), l % 2 == 0) << l;
  EXPECT_FLOAT_EQ(hp.attn_softcap, 5.0f);    // the file's keys win over the recipe's 50 and 30
  EXPECT_FLOAT_EQ(hp.final_softcap, 15.0f);
  EXPECT_FLOAT_EQ(hp.attn_scale, 1.0f / 8.0f);  // 1/sqrt(head_dim 64): not the 27B shape
  EXPECT_EQ(hp.recipe.query_scaling, QueryScaling::Queries);
  EXPECT_FLOAT_EQ(hp.embed_scale, std::sqrt(128.0f));
  EXPECT_EQ(hp.layer_rope(0).freq_base, hp.layer_rope(1).freq_base);
}

TEST(ArchRecipes, Gemma3FiveLocalLayersThenAGlobalOneWithItsOwnRope) {
  const HyperParams hp = arch_params("gemma3");
  EXPECT_TRUE(hp.recipe.qk_norm);
  EXPECT_EQ(hp.sliding_pattern, 6);
  for (int64_t l = 0; l < hp.n_layers; ++l) EXPECT_EQ(hp.windowed(l), l != 5) << l;
  EXPECT_DOUBLE_EQ(hp.layer_rope(0).freq_base, 10000.0);  // rope.freq_base_swa, unscaled
  EXPECT_DOUBLE_EQ(hp.layer_rope(0).linear_factor, 1.0);
  EXPECT_DOUBLE_EQ(hp.layer_rope(5).freq_base, 1e6);
  EXPECT_DOUBLE_EQ(hp.layer_rope(5).linear_factor, 8.0);
  EXPECT_EQ(hp.attn_softcap, 0.0f);
  EXPECT_EQ(hp.final_softcap, 0.0f);
}

TEST(ArchRecipes, Qwen3AndPhi3) {
  const HyperParams qwen3 = arch_params("qwen3");
  EXPECT_TRUE(qwen3.recipe.qk_norm);
  EXPECT_EQ(qwen3.recipe.rope_style, tensor::RopeStyle::Neox);
  EXPECT_EQ(qwen3.head_dim, 64);  // key_length, not dim / heads = 32
  EXPECT_EQ(qwen3.sliding_window, 0);
  EXPECT_EQ(qwen3.recipe.query_scaling, QueryScaling::Scores);

  const HyperParams phi3 = arch_params("phi3-q8_0");
  EXPECT_TRUE(phi3.recipe.fused_qkv);
  EXPECT_TRUE(phi3.recipe.fused_gate_up);
  EXPECT_EQ(phi3.ffn_activation, FfnActivation::Silu);
  EXPECT_EQ(phi3.sliding_window, 0);
}

TEST(ArchRecipes, OnlyTheReluFamilyHasExactZeros) {
  EXPECT_FALSE(exact_zeros(FfnActivation::Silu));
  EXPECT_FALSE(exact_zeros(FfnActivation::Gelu));
  EXPECT_TRUE(exact_zeros(FfnActivation::Relu));
  EXPECT_TRUE(exact_zeros(FfnActivation::FatRelu));
  EXPECT_TRUE(exact_zeros(FfnActivation::ShiftedRelu));
  EXPECT_STREQ(activation_name(FfnActivation::Gelu), "gelu");
}

TEST(GeluHalf, RoundsAsTheReferenceTableAndSaturates) {
  EXPECT_EQ(tensor::gelu_half(0.0f), 0.0f);
  EXPECT_EQ(tensor::gelu_half(-10.0f), 0.0f);
  EXPECT_EQ(tensor::gelu_half(-30.0f), 0.0f);
  EXPECT_EQ(tensor::gelu_half(12.5f), 12.5f);
  EXPECT_NEAR(tensor::gelu_half(1.0f), 0.8412, 1e-3);
  EXPECT_NEAR(tensor::gelu_half(-0.75f), -0.1700, 1e-3);  // the dip sparse mode's gate predictor knows
  // Inputs that round to the same half give the same output.
  EXPECT_EQ(tensor::gelu_half(1.0f), tensor::gelu_half(1.0001f));
}

}  // namespace
}  // namespace sieve::model
