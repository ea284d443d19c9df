// Synthetic models written with every type and mix, re-read with GgufFile.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/synth/synth_test_util.h"
#include "gguf/gguf_file.h"
#include "synth/model_plan.h"
#include "synth/type_mix.h"
#include "synth/weight_gen.h"
#include "util/error.h"

namespace sieve::synth {
namespace {

using testing::ScratchDir;
using testing::small_spec;
using tensor::TensorType;

void expect_llama_metadata(const gguf::GgufFile& f, const SynthSpec& spec, uint64_t vocab) {
  const ModelShape& s = spec.shape;
  EXPECT_EQ(f.architecture(), "llama");
  EXPECT_EQ(f.get_string("general.name"), "sieve-synth-256x2");
  EXPECT_EQ(f.get_int("llama.context_length"), s.context_length);
  EXPECT_EQ(f.get_int("llama.embedding_length"), s.dim);
  EXPECT_EQ(f.get_int("llama.block_count"), s.n_layers);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), s.n_ff);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), s.n_heads);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), s.n_kv_heads);
  EXPECT_EQ(f.get_int("llama.rope.dimension_count"), s.dim / s.n_heads);
  EXPECT_EQ(f.get_int("llama.vocab_size"), static_cast<int64_t>(vocab));
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("llama.rope.freq_base")), s.rope_base);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("llama.attention.layer_norm_rms_epsilon")),
                  s.rms_eps);
  EXPECT_EQ(f.get_int("general.file_type"), TypeMix::from_name(spec.type)->file_type());
  EXPECT_EQ(f.get_int("sieve.synth.seed"), static_cast<int64_t>(spec.seed));
  EXPECT_EQ(f.get_string("sieve.ffn.activation"), "silu");
  EXPECT_EQ(f.find("sieve.ffn.relu_threshold"), nullptr);
  EXPECT_EQ(f.find("sieve.synth.target_sparsity"), nullptr);
}

// Values of a matrix come back with about the planned spread.
void expect_sane_values(const gguf::GgufFile& f, const gguf::TensorInfo& t,
                        const WeightDistribution& d) {
  double sum = 0, sum_sq = 0;
  uint64_t n = 0;
  for (uint64_t row = 0; row < std::min<uint64_t>(t.n_rows(), 16); ++row) {
    for (float v : testing::dequantize_row(f, t, row)) {
      ASSERT_TRUE(std::isfinite(v)) << t.name;
      sum += v;
      sum_sq += static_cast<double>(v) * v;
      ++n;
    }
  }
  const double mean = sum / static_cast<double>(n);
  const double sd = std::sqrt(sum_sq / static_cast<double>(n) - mean * mean);
  // A norm vector is one row of 256 values: its sample statistics vary more.
  const double sampling = n < 1024 ? 0.2 : 0.05;
  EXPECT_NEAR(mean, d.mean, sampling * d.stddev) << t.name;
  // Two- and three-bit types change the spread more; the rest stay close.
  const bool coarse = t.type == TensorType::Q2_K || t.type == TensorType::Q3_K;
  const double tolerance = (coarse ? 0.3 : 0.1) + sampling;
  EXPECT_NEAR(sd, d.stddev, tolerance * d.stddev) << t.name;
}

class SynthEveryType : public ::testing::TestWithParam<std::string> {};

TEST_P(SynthEveryType, WritesAFileThatReadsBackAsPlanned) {
  ScratchDir dir;
  const SynthSpec spec = small_spec(GetParam());
  const auto path = dir.file("model.gguf");
  const SynthSummary summary = write_synthetic_model(spec, path);
  EXPECT_FALSE(std::filesystem::exists(dir.file("model.gguf.partial")));

  const gguf::GgufFile f = gguf::GgufFile::open(path);
  expect_llama_metadata(f, spec, 259);
  EXPECT_EQ(summary.file_bytes, f.file_size());
  EXPECT_EQ(summary.vocab_size, 259u);
  const auto plan = plan_tensors(spec.shape, 259, *TypeMix::from_name(spec.type));
  ASSERT_EQ(f.tensors().size(), plan.size());
  ASSERT_EQ(summary.n_tensors, plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const gguf::TensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, plan[i].name);
    EXPECT_EQ(t.dims, plan[i].dims);
    EXPECT_EQ(t.type, plan[i].type);
    if (t.name == "blk.1.ffn_down.weight" || t.name == "token_embd.weight" ||
        t.name == "blk.0.attn_norm.weight" || t.name == "output.weight") {
      expect_sane_values(f, t, plan[i].distribution);
    }
  }
  const gguf::TensorInfo* up = f.find_tensor("blk.0.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->dims, (std::vector<uint64_t>{256, 512}));
  const gguf::TensorInfo* down = f.find_tensor("blk.1.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->dims, (std::vector<uint64_t>{512, 256}));
  const gguf::TensorInfo* k = f.find_tensor("blk.0.attn_k.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->dims, (std::vector<uint64_t>{256, 128}));  // 2 KV heads of 64
}

INSTANTIATE_TEST_SUITE_P(AllTypes, SynthEveryType,
                         ::testing::ValuesIn(TypeMix::names()),
                         [](const auto& info) { return info.param; });

TEST(SynthModel, ByteVocabularyIsSentencePieceStyle) {
  ScratchDir dir;
  write_synthetic_model(small_spec(), dir.file("m.gguf"));
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("m.gguf"));
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  ASSERT_EQ(tokens->size(), 259u);
  EXPECT_EQ((*tokens)[0], "<unk>");
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[2], "</s>");
  EXPECT_EQ((*tokens)[3], "<0x00>");
  EXPECT_EQ((*tokens)[3 + 0x41], "<0x41>");
  EXPECT_EQ((*tokens)[258], "<0xFF>");
  const auto types = f.get_int_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types);
  ASSERT_EQ(types->size(), 259u);
  EXPECT_EQ((*types)[0], 2);
  EXPECT_EQ((*types)[1], 3);
  EXPECT_EQ((*types)[2], 3);
  EXPECT_EQ((*types)[100], 6);
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores")->size(), 259u);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_EQ(f.get_int("tokenizer.ggml.unknown_token_id"), 0);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->dims, (std::vector<uint64_t>{256, 259}));
  EXPECT_EQ(f.find_tensor("output.weight")->dims, (std::vector<uint64_t>{256, 259}));
}

TEST(SynthModel, VocabularyIsCopiedFromAnotherGguf) {
  const auto source_path = testing::shared_path("vocab/ggml-vocab-llama-spm.gguf");
  if (!std::filesystem::exists(source_path)) GTEST_SKIP() << "no " << source_path;
  ScratchDir dir;
  SynthSpec spec = small_spec("q8_0");
  spec.vocab_from = source_path;
  const SynthSummary summary = write_synthetic_model(spec, dir.file("m.gguf"));
  const gguf::GgufFile source = gguf::GgufFile::open(source_path);
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("m.gguf"));
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  EXPECT_EQ(*tokens, *source.get_string_array("tokenizer.ggml.tokens"));
  EXPECT_EQ(tokens->size(), 32000u);
  EXPECT_EQ(summary.vocab_size, 32000u);
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores"),
            source.get_float_array("tokenizer.ggml.scores"));
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type"),
            source.get_int_array("tokenizer.ggml.token_type"));
  size_t copied = 0;
  for (const gguf::KeyValue& kv : source.metadata()) {
    if (kv.key.rfind("tokenizer.", 0) != 0) continue;
    ++copied;
    const gguf::Value* mine = f.find(kv.key);
    ASSERT_NE(mine, nullptr) << kv.key;
    EXPECT_EQ(mine->type(), kv.value.type()) << kv.key;
    EXPECT_EQ(mine->to_display_string(), kv.value.to_display_string()) << kv.key;
  }
  EXPECT_GT(copied, 5u);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->dims, (std::vector<uint64_t>{256, 32000}));
  EXPECT_EQ(f.get_int("llama.vocab_size"), 32000);
}

TEST(SynthModel, SameSeedGivesIdenticalBytesWhateverTheThreadCount) {
  ScratchDir dir;
  SynthSpec spec = small_spec("q4_k_m");
  spec.threads = 1;
  write_synthetic_model(spec, dir.file("a.gguf"));
  spec.threads = 3;
  write_synthetic_model(spec, dir.file("b.gguf"));
  spec.threads = 2;
  write_synthetic_model(spec, dir.file("c.gguf"));
  const auto a = testing::read_bytes(dir.file("a.gguf"));
  ASSERT_GT(a.size(), 100000u);
  EXPECT_TRUE(a == testing::read_bytes(dir.file("b.gguf")));
  EXPECT_TRUE(a == testing::read_bytes(dir.file("c.gguf")));

  spec.seed = 43;
  write_synthetic_model(spec, dir.file("d.gguf"));
  const auto d = testing::read_bytes(dir.file("d.gguf"));
  ASSERT_EQ(a.size(), d.size());
  EXPECT_FALSE(a == d);
}

TEST(SynthModel, TensorsLargerThanAChunkAreStreamedInPieces) {
  // ffn_gate of 2048 x 4200 F32 is 33 MiB: chunks of 2048, 2048 and 104 rows.
  ScratchDir dir;
  SynthSpec spec = small_spec("f32");
  spec.shape.dim = 2048;
  spec.shape.n_layers = 1;
  spec.shape.n_ff = 4200;
  spec.shape.n_heads = 16;
  spec.shape.n_kv_heads = 16;
  spec.threads = 2;
  int calls = 0;
  uint64_t last_done = 0, total = 0;
  spec.progress = [&](const SynthProgress& p) {
    ++calls;
    EXPECT_GE(p.bytes_done, last_done);
    last_done = p.bytes_done;
    total = p.bytes_total;
  };
  write_synthetic_model(spec, dir.file("big.gguf"));
  EXPECT_GT(calls, 8);
  EXPECT_EQ(last_done, total);
  const gguf::GgufFile f = gguf::GgufFile::open(dir.file("big.gguf"));
  size_t index = 0;
  while (index < f.tensors().size() && f.tensors()[index].name != "blk.0.ffn_gate.weight") ++index;
  ASSERT_LT(index, f.tensors().size());
  const gguf::TensorInfo& gate = f.tensors()[index];
  // Rows are a function of (seed, tensor, row) only: regenerate some past chunk edges.
  const RowGenerator gen(spec.seed, index, weight_distribution(TensorRole::FfnGate, 2048));
  std::vector<float> expected(2048);
  for (uint64_t row : {0u, 2047u, 2048u, 4100u, 4199u}) {
    gen.fill_row(row, expected);
    EXPECT_EQ(testing::dequantize_row(f, gate, row), expected) << "row " << row;
  }
}

}  // namespace
}  // namespace sieve::synth
