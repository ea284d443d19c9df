// The architecture recipes (model/arch_recipe.h) and what read_hyper_params
// makes of them with each shared architecture file's metadata: windows and
// their layer pattern, per-layer RoPE, soft caps, scales, activations.
// Whether the forward pass then matches the reference is reference_test.cpp's
// (Architectures/ReferenceTest.*).

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include <unistd.h>

#include <algorithm>

#include "core/model/reference_case.h"
#include "engine.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
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

// Mistral-style files are `llama` with `llama.attention.sliding_window`:
// every layer is windowed. Positions within the window see what full
// attention sees; later ones do not.
TEST(ArchRecipes, LlamaWithASlidingWindowKeyWindowsEveryLayer) {
  const std::filesystem::path source = test::shared_dir() / "models" / "arch" / "llama3rope.gguf";
  const std::filesystem::path windowed =
      std::filesystem::temp_directory_path() / ("sieve-mistral-window-" + std::to_string(::getpid()) + ".gguf");
  {
    const gguf::GgufFile src = gguf::GgufFile::open(source);
    gguf::GgufWriter w(windowed);
    for (const gguf::KeyValue& kv : src.metadata()) w.set(kv.key, kv.value);
    w.set("llama.attention.sliding_window", gguf::Value::u32(4));
    for (const gguf::TensorInfo& t : src.tensors()) w.add_tensor(t.name, t.type, t.dims);
    w.begin_data();
    for (size_t i = 0; i < src.tensors().size(); ++i) w.write_tensor_data(i, src.tensor_data(src.tensors()[i]));
    w.finish();
  }
  const HyperParams hp = read_hyper_params(gguf::GgufFile::open(windowed));
  EXPECT_EQ(hp.sliding_window, 4);
  for (int64_t l = 0; l < hp.n_layers; ++l) EXPECT_TRUE(hp.windowed(l)) << l;

  EngineOptions o;
  o.threads = 1;
  o.context = 64;
  o.model_path = source;
  auto full = Engine::load(o);
  o.model_path = windowed;
  auto window = Engine::load(o);
  for (int32_t pos = 0; pos < 8; ++pos) {
    const int32_t token = 3 + pos * 17;
    const std::span<const float> a = full->decode(token);
    const std::vector<float> expected(a.begin(), a.end());
    const std::span<const float> b = window->decode(token);
    const bool same = std::equal(expected.begin(), expected.end(), b.begin());
    EXPECT_EQ(same, pos < 4) << "position " << pos;
  }
  std::filesystem::remove(windowed);
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
