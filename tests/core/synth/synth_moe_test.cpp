// Mixture-of-Experts presets: small versions of qwen3-30b-a3b, mixtral-8x7b,
// gpt-oss-20b and qwen2-57b-a14b are written with llama.cpp's names, shapes, types and keys,
// load in the engine, and give the same logits with every expert in RAM
// (dense mode) as with experts streamed into a small cache (flash mode).

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/synth/synth_test_util.h"
#include "engine.h"
#include "gguf/gguf_file.h"
#include "synth/model_plan.h"
#include "synth/type_mix.h"

namespace sieve::synth {
namespace {

using tensor::TensorType;
using testing::ScratchDir;

// A preset cut down to 2-3 layers of dim 256 with 8-16 experts.
SynthSpec small_moe(const std::string& preset, const std::string& type = "") {
  SynthSpec spec;
  spec.shape = *shape_preset(preset);
  spec.shape.dim = 256;
  spec.shape.n_layers = spec.shape.arch == Architecture::GptOss ? 3 : 2;
  spec.shape.n_heads = 4;
  spec.shape.n_kv_heads = 2;
  if (spec.shape.head_dim != 0) spec.shape.head_dim = 64;
  spec.shape.context_length = 256;
  spec.shape.rope_original_context = spec.shape.rope_original_context != 0 ? 64 : 0;
  spec.shape.n_experts = spec.shape.n_experts == 8 ? 8 : 16;
  spec.shape.n_experts_used = spec.shape.n_experts == 8 ? 2 : 4;
  spec.shape.n_ff = 512;
  if (spec.shape.n_ff_expert != 0) spec.shape.n_ff_expert = 256;
  if (spec.shape.n_ff_shared != 0) spec.shape.n_ff_shared = 512;
  spec.type = type.empty() ? preset_default_type(preset) : type;
  spec.seed = 7;
  spec.threads = 2;
  return spec;
}

const gguf::TensorInfo& tensor_named(const gguf::GgufFile& f, const std::string& name) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  if (t == nullptr) throw std::runtime_error("missing tensor " + name);
  return *t;
}

TEST(SynthMoe, PresetsMatchThePublishedConfigs) {
  const ModelShape q = *shape_preset("qwen3-30b-a3b");
  EXPECT_EQ(q.arch, Architecture::Qwen3Moe);
  EXPECT_EQ(q.dim, 2048);
  EXPECT_EQ(q.n_layers, 48);
  EXPECT_EQ(q.n_heads * q.head_size(), 4096);  // q is wider than dim
  EXPECT_EQ(q.n_kv_heads, 4);
  EXPECT_EQ(q.n_experts, 128);
  EXPECT_EQ(q.n_experts_used, 8);
  EXPECT_EQ(q.expert_ff(), 768);
  EXPECT_FLOAT_EQ(q.rope_base, 1e6f);
  const ModelShape m = *shape_preset("mixtral-8x7b");
  EXPECT_EQ(m.arch, Architecture::Llama);
  EXPECT_EQ(m.dim, 4096);
  EXPECT_EQ(m.n_layers, 32);
  EXPECT_EQ(m.n_kv_heads, 8);
  EXPECT_EQ(m.n_experts, 8);
  EXPECT_EQ(m.n_experts_used, 2);
  EXPECT_EQ(m.expert_ff(), 14336);
  const ModelShape g = *shape_preset("gpt-oss-20b");
  EXPECT_EQ(g.arch, Architecture::GptOss);
  EXPECT_EQ(g.dim, 2880);
  EXPECT_EQ(g.n_layers, 24);
  EXPECT_EQ(g.n_heads, 64);
  EXPECT_EQ(g.head_size(), 64);
  EXPECT_EQ(g.n_kv_heads, 8);
  EXPECT_EQ(g.n_experts, 32);
  EXPECT_EQ(g.n_experts_used, 4);
  EXPECT_EQ(g.expert_ff(), 2880);
  EXPECT_EQ(g.sliding_window, 128);
  EXPECT_EQ(preset_default_type("gpt-oss-20b"), "mxfp4_moe");
  const ModelShape q2 = *shape_preset("qwen2-57b-a14b");
  EXPECT_EQ(q2.arch, Architecture::Qwen2Moe);
  EXPECT_EQ(q2.dim, 3584);
  EXPECT_EQ(q2.n_layers, 28);
  EXPECT_EQ(q2.n_heads, 28);
  EXPECT_EQ(q2.head_size(), 128);
  EXPECT_EQ(q2.n_kv_heads, 4);
  EXPECT_EQ(q2.n_experts, 64);
  EXPECT_EQ(q2.n_experts_used, 8);
  EXPECT_EQ(q2.expert_ff(), 2560);
  EXPECT_EQ(q2.shared_expert_ff(), 20480);
  EXPECT_FLOAT_EQ(q2.rope_base, 1e6f);
  EXPECT_FLOAT_EQ(q2.rms_eps, 1e-6f);
  EXPECT_TRUE(q2.has_shared_expert());
  const ModelShape q15 = *shape_preset("Qwen1.5-MoE-A2.7B");
  EXPECT_EQ(q15.arch, Architecture::Qwen2Moe);
  EXPECT_EQ(q15.dim, 2048);
  EXPECT_EQ(q15.n_layers, 24);
  EXPECT_EQ(q15.n_heads, 16);
  EXPECT_EQ(q15.n_kv_heads, 16);
  EXPECT_EQ(q15.n_experts, 60);
  EXPECT_EQ(q15.n_experts_used, 4);
  EXPECT_EQ(q15.expert_ff(), 1408);
  EXPECT_EQ(q15.shared_expert_ff(), 5632);
  EXPECT_FALSE(q.has_shared_expert());
}

TEST(SynthMoe, FullSizeQwen2MoePresetsHaveThePublishedParameterCounts) {
  // The plans alone: 57.4 B and 14.3 B parameters (the model cards' totals).
  auto billions = [](const std::string& preset) {
    uint64_t params = 0;
    for (const PlannedTensor& t : plan_tensors(*shape_preset(preset), 151936, *TypeMix::from_name("q4_k_m"))) {
      params += t.n_elements();
    }
    return static_cast<double>(params) / 1e9;
  };
  EXPECT_NEAR(billions("qwen2-57b-a14b"), 57.4, 0.3);
  EXPECT_NEAR(billions("qwen1.5-moe-a2.7b"), 14.3, 0.2);
}

TEST(SynthMoe, FullSizeQwen3InQ4KMIsAbout17GB) {
  // The plan alone (nothing written): the benchmark's headline file.
  const ModelShape q = *shape_preset("qwen3-30b-a3b");
  uint64_t bytes = 0, params = 0;
  for (const PlannedTensor& t : plan_tensors(q, 259, *TypeMix::from_name("q4_k_m"))) {
    bytes += tensor::bytes_for(t.type, t.n_elements());
    params += t.n_elements();
    if (is_expert_matrix(t.role)) {
      EXPECT_TRUE(t.direct) << t.name;
    }
  }
  EXPECT_NEAR(static_cast<double>(params) / 1e9, 30.0, 1.0);
  EXPECT_NEAR(static_cast<double>(bytes) / 1e9, 18.0, 1.0);
}

TEST(SynthMoe, WhichTensorsAreDrawnDirectly) {
  ModelShape q = *shape_preset("qwen3-30b-a3b");
  q.n_layers = 2;
  const TypeMix mix = *TypeMix::from_name("q4_k_m");
  for (const PlannedTensor& t : plan_tensors(q, 259, mix, RouterKind::Even)) {
    // Every quantized matrix of an MoE model; routers, norms and biases stay F32 floats.
    EXPECT_EQ(t.direct, !is_always_f32(t.role)) << t.name;
  }
  for (const PlannedTensor& t : plan_tensors(q, 259, mix, RouterKind::Skewed)) {
    // The skewed router adds terms to embedding, attention and router rows: those take the float path.
    EXPECT_EQ(t.direct, is_expert_matrix(t.role) || t.role == TensorRole::Output) << t.name;
  }
  for (const PlannedTensor& t : plan_tensors(*shape_preset("tinyllama-1.1b"), 259, mix)) {
    EXPECT_FALSE(t.direct) << t.name;  // dense models keep the quantizer's bytes
  }
}

TEST(SynthMoe, Qwen3TensorsAndKeysAreLlamaCppsNames) {
  ScratchDir dir;
  const SynthSpec spec = small_moe("qwen3-30b-a3b", "q4_k_m");
  write_synthetic_model(spec, dir.file("q.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("q.gguf"));
  EXPECT_EQ(f.architecture(), "qwen3moe");
  EXPECT_EQ(f.get_int("qwen3moe.expert_count"), 16);
  EXPECT_EQ(f.get_int("qwen3moe.expert_used_count"), 4);
  EXPECT_EQ(f.get_int("qwen3moe.expert_feed_forward_length"), 256);
  EXPECT_EQ(f.get_int("qwen3moe.attention.key_length"), 64);
  EXPECT_EQ(f.get_string("sieve.synth.router"), "even");
  EXPECT_EQ(f.find("sieve.ffn.activation"), nullptr);
  EXPECT_EQ(tensor_named(f, "blk.0.attn_q.weight").dims, (std::vector<uint64_t>{256, 256}));
  EXPECT_EQ(tensor_named(f, "blk.0.attn_q_norm.weight").dims, (std::vector<uint64_t>{64}));
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_gate_inp.weight").type, TensorType::F32);
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_gate_exps.weight").dims, (std::vector<uint64_t>{256, 256, 16}));
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_down_exps.weight").dims, (std::vector<uint64_t>{256, 256, 16}));
  // Q4_K_M: gate/up in the base type, down in Q6_K where use_more_bits says
  // so (of 2 layers: layer 1, as layer >= 7 * 2 / 8).
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_gate_exps.weight").type, TensorType::Q4_K);
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_up_exps.weight").type, TensorType::Q4_K);
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_down_exps.weight").type, TensorType::Q4_K);
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_down_exps.weight").type, TensorType::Q6_K);
  EXPECT_EQ(tensor_named(f, "output.weight").type, TensorType::Q6_K);
}

// Every tensor llama.cpp's qwen2moe loader requires (Q/K/V biases, and per
// layer the router, the stacked experts and the shared expert with its [dim]
// F32 gate), its keys, and the Q4_K_M types: the shared expert's down matrix
// follows ffn_down's layer rule as ffn_down_exps does (llama-quantize matches
// "ffn_down" in the name), its gate and up keep the base type.
TEST(SynthMoe, Qwen2MoeTensorsAndKeysAreLlamaCppsNames) {
  ScratchDir dir;
  const SynthSpec spec = small_moe("qwen2-57b-a14b", "q4_k_m");
  write_synthetic_model(spec, dir.file("q.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("q.gguf"));
  EXPECT_EQ(f.architecture(), "qwen2moe");
  EXPECT_EQ(f.get_int("qwen2moe.expert_count"), 16);
  EXPECT_EQ(f.get_int("qwen2moe.expert_used_count"), 4);
  EXPECT_EQ(f.get_int("qwen2moe.expert_feed_forward_length"), 256);
  EXPECT_EQ(f.get_int("qwen2moe.expert_shared_feed_forward_length"), 512);
  EXPECT_EQ(f.get_int("qwen2moe.feed_forward_length"), 512);
  EXPECT_EQ(f.find("qwen2moe.attention.key_length"), nullptr);
  EXPECT_EQ(f.find("blk.0.attn_q_norm.weight"), nullptr);
  EXPECT_EQ(f.find("blk.0.attn_output.bias"), nullptr);
  EXPECT_EQ(tensor_named(f, "blk.0.attn_q.bias").dims, (std::vector<uint64_t>{256}));
  EXPECT_EQ(tensor_named(f, "blk.0.attn_k.bias").dims, (std::vector<uint64_t>{128}));
  EXPECT_EQ(tensor_named(f, "blk.0.attn_v.bias").type, TensorType::F32);
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_gate_exps.weight").dims, (std::vector<uint64_t>{256, 256, 16}));
  const gguf::TensorInfo& gate = tensor_named(f, "blk.1.ffn_gate_inp_shexp.weight");
  EXPECT_EQ(gate.dims, (std::vector<uint64_t>{256}));
  EXPECT_EQ(gate.type, TensorType::F32);
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_gate_shexp.weight").dims, (std::vector<uint64_t>{256, 512}));
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_up_shexp.weight").dims, (std::vector<uint64_t>{256, 512}));
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_down_shexp.weight").dims, (std::vector<uint64_t>{512, 256}));
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_gate_shexp.weight").type, TensorType::Q4_K);
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_up_shexp.weight").type, TensorType::Q4_K);
  EXPECT_EQ(tensor_named(f, "blk.0.ffn_down_shexp.weight").type, TensorType::Q4_K);
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_down_shexp.weight").type, TensorType::Q6_K);
  EXPECT_EQ(tensor_named(f, "blk.1.ffn_down_exps.weight").type, TensorType::Q6_K);
  // 16 experts, not 8: attn_k keeps the base type.
  EXPECT_EQ(tensor_named(f, "blk.0.attn_k.weight").type, TensorType::Q4_K);
}

TEST(SynthMoe, MixesPlaceExpertTensorsAsTheReferenceQuantizer) {
  const TypeMix q4km = *TypeMix::from_name("q4_k_m");
  auto slot = [](TensorRole role, int layer, int n_experts) {
    TensorSlot s;
    s.name = "t";
    s.role = role;
    s.layer = layer;
    s.n_layers = 48;
    s.n_gqa = 8;
    s.n_experts = n_experts;
    s.row_length = 2048;
    return s;
  };
  // ffn_down_exps follows ffn_down's layer rule; gate/up keep the base type.
  EXPECT_EQ(q4km.type_for(slot(TensorRole::FfnDownExps, 0, 128)), TensorType::Q6_K);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::FfnDownExps, 7, 128)), TensorType::Q4_K);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::FfnDownExps, 8, 128)), TensorType::Q6_K);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::FfnGateExps, 0, 128)), TensorType::Q4_K);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::FfnUpExps, 0, 128)), TensorType::Q4_K);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::Router, 0, 128)), TensorType::F32);
  // Exactly 8 experts (Mixtral): attn_k / attn_v in Q8_0, attn_output in Q5_K.
  EXPECT_EQ(q4km.type_for(slot(TensorRole::AttnK, 5, 8)), TensorType::Q8_0);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::AttnV, 5, 8)), TensorType::Q8_0);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::AttnOutput, 5, 8)), TensorType::Q5_K);
  EXPECT_EQ(q4km.type_for(slot(TensorRole::AttnK, 5, 128)), TensorType::Q4_K);
  // MXFP4_MOE: experts MXFP4, other matrices Q8_0, routers F32.
  const TypeMix mx = *TypeMix::from_name("mxfp4_moe");
  EXPECT_EQ(mx.type_for(slot(TensorRole::FfnDownExps, 0, 32)), TensorType::MXFP4);
  EXPECT_EQ(mx.type_for(slot(TensorRole::AttnQ, 0, 32)), TensorType::Q8_0);
  EXPECT_EQ(mx.type_for(slot(TensorRole::Output, -1, 32)), TensorType::Q8_0);
  EXPECT_EQ(mx.type_for(slot(TensorRole::Router, 0, 32)), TensorType::F32);
  EXPECT_EQ(mx.type_for(slot(TensorRole::Bias, 0, 32)), TensorType::F32);
}

EngineOptions options_for(const std::filesystem::path& model, EngineMode mode, uint64_t budget = 0) {
  EngineOptions o;
  o.model_path = model;
  o.mode = mode;
  o.threads = 1;
  o.context = 64;
  o.dram_budget.bytes = budget;
  return o;
}

std::vector<std::vector<float>> greedy_logits(Engine& engine, int steps) {
  std::vector<std::vector<float>> out;
  std::span<const float> logits = engine.prefill(engine.tokenize("Once upon a time", engine.model().add_bos));
  for (int i = 0;; ++i) {
    out.emplace_back(logits.begin(), logits.end());
    if (i == steps) return out;
    int32_t best = 0;
    for (size_t t = 1; t < logits.size(); ++t) {
      if (logits[t] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(t);
    }
    logits = engine.decode(best);
  }
}

struct PresetCase {
  std::string preset;
  std::string type;
  std::string router;
};

class SynthMoeRuns : public ::testing::TestWithParam<PresetCase> {};

TEST_P(SynthMoeRuns, LoadsAndStreamsExpertsBitForBit) {
  ScratchDir dir;
  SynthSpec spec = small_moe(GetParam().preset, GetParam().type);
  spec.router = *router_from_name(GetParam().router);
  const auto path = dir.file("moe.gguf");
  write_synthetic_model(spec, path);
  const auto dense = Engine::load(options_for(path, EngineMode::dense));
  const std::vector<std::vector<float>> expected = greedy_logits(*dense, 6);
  for (const std::vector<float>& step : expected) {
    for (float v : step) ASSERT_TRUE(std::isfinite(v));
  }
  const MemoryPlan all = Engine::plan(options_for(path, EngineMode::flash));
  const auto streamed = Engine::load(options_for(path, EngineMode::flash, all.minimum + all.expert_slot_bytes));
  const std::vector<std::vector<float>> got = greedy_logits(*streamed, 6);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), expected[i].size());
    EXPECT_EQ(std::memcmp(got[i].data(), expected[i].data(), got[i].size() * sizeof(float)), 0) << "step " << i;
  }
  EXPECT_GT(streamed->stats().expert_misses, 0u);
}

INSTANTIATE_TEST_SUITE_P(Presets, SynthMoeRuns,
                         ::testing::Values(PresetCase{"qwen3-30b-a3b", "q4_k_m", "even"},
                                           PresetCase{"qwen3-30b-a3b", "f16", "skewed"},
                                           PresetCase{"mixtral-8x7b", "q4_k_m", "even"},
                                           PresetCase{"mixtral-8x7b", "q8_0", "skewed"},
                                           PresetCase{"gpt-oss-20b", "", "even"},
                                           PresetCase{"gpt-oss-20b", "q4_k_m", "skewed"},
                                           PresetCase{"qwen2-57b-a14b", "q4_k_m", "even"},
                                           PresetCase{"qwen2-57b-a14b", "q8_0", "skewed"}),
                         [](const auto& info) {
                           std::string name = info.param.preset + "_" +
                                              (info.param.type.empty() ? "default" : info.param.type) + "_" +
                                              info.param.router;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(SynthMoe, SameSeedSameBytesWhateverTheThreads) {
  ScratchDir dir;
  SynthSpec spec = small_moe("qwen3-30b-a3b", "q4_k_m");
  spec.router = RouterKind::Skewed;
  spec.threads = 1;
  write_synthetic_model(spec, dir.file("a.gguf"));
  spec.threads = 2;
  write_synthetic_model(spec, dir.file("b.gguf"));
  EXPECT_EQ(testing::read_bytes(dir.file("a.gguf")), testing::read_bytes(dir.file("b.gguf")));
  spec.seed = 8;
  write_synthetic_model(spec, dir.file("c.gguf"));
  EXPECT_NE(testing::read_bytes(dir.file("a.gguf")), testing::read_bytes(dir.file("c.gguf")));
}

TEST(SynthMoe, BadExpertSettingsAreClearErrors) {
  SynthSpec spec = small_moe("qwen3-30b-a3b");
  spec.shape.n_experts_used = 17;
  EXPECT_THROW(validate_spec(spec), Error);
  spec = small_moe("qwen3-30b-a3b");
  spec.router_skew = -1;
  spec.router = RouterKind::Skewed;
  EXPECT_THROW(validate_spec(spec), Error);
  spec = testing::small_spec();
  spec.router = RouterKind::Skewed;  // a dense model has no router
  EXPECT_THROW(validate_spec(spec), Error);
  spec = small_moe("gpt-oss-20b");
  spec.shape.n_experts = 0;
  EXPECT_THROW(validate_spec(spec), Error);
  spec = small_moe("qwen2-57b-a14b");
  spec.shape.n_experts = 0;  // qwen2moe needs its experts too
  EXPECT_THROW(validate_spec(spec), Error);
}

}  // namespace
}  // namespace sieve::synth
