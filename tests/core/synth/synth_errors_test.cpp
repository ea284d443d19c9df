// Bad specs fail with one clear sentence and leave no file behind.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/synth/synth_test_util.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace sieve::synth {
namespace {

using testing::ScratchDir;
using testing::small_spec;

// Writing `spec` fails with a message containing `fragment`, and no file is left.
void expect_rejected(const SynthSpec& spec, const std::string& fragment) {
  ScratchDir dir;
  const auto path = dir.file("bad.gguf");
  try {
    write_synthetic_model(spec, path);
    ADD_FAILURE() << "accepted a spec that should fail with '" << fragment << "'";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

SynthSpec changed(const std::function<void(SynthSpec&)>& change) {
  SynthSpec spec = small_spec();
  change(spec);
  return spec;
}

TEST(SynthErrors, BadShapes) {
  expect_rejected(changed([](SynthSpec& s) { s.shape.n_heads = 3; }), "does not divide dim");
  expect_rejected(changed([](SynthSpec& s) { s.shape.n_kv_heads = 3; }), "does not divide the head count");
  expect_rejected(changed([](SynthSpec& s) { s.shape.dim = 0; }), "dim must be between");
  expect_rejected(changed([](SynthSpec& s) { s.shape.n_layers = -2; }), "layer count");
  expect_rejected(changed([](SynthSpec& s) { s.shape.n_ff = int64_t{1} << 40; }), "n_ff");
  expect_rejected(changed([](SynthSpec& s) { s.shape.rms_eps = 0; }), "epsilon");
  expect_rejected(changed([](SynthSpec& s) { s.shape.n_heads = 256; s.shape.n_kv_heads = 1; }),
                  "must be even");
}

TEST(SynthErrors, BadTypes) {
  expect_rejected(changed([](SynthSpec& s) { s.type = "q7_k"; }), "unknown tensor type 'q7_k'");
  // Q4_0 blocks hold 32 values; 48 is not a multiple.
  expect_rejected(changed([](SynthSpec& s) {
                    s.type = "q4_0";
                    s.shape.dim = 48;
                    s.shape.n_heads = 2;
                    s.shape.n_kv_heads = 2;
                  }),
                  "not a multiple of the Q4_0 block size (32 values)");
  expect_rejected(changed([](SynthSpec& s) {
                    s.type = "q8_0";
                    s.shape.n_ff = 100;
                  }),
                  "blk.0.ffn_down.weight");
}

TEST(SynthErrors, KQuantsFallBackInsteadOfFailing) {
  ScratchDir dir;
  SynthSpec spec = small_spec("q4_k_m");
  spec.shape.n_ff = 96;  // ffn_down rows of 96: Q4_K -> Q5_0 (and Q6_K -> Q8_0)
  EXPECT_NO_THROW(write_synthetic_model(spec, dir.file("ok.gguf")));
}

TEST(SynthErrors, BadActivationChoices) {
  expect_rejected(changed([](SynthSpec& s) { s.target_sparsity = 0.9; }), "silu");
  expect_rejected(changed([](SynthSpec& s) {
                    s.activation = Activation::Relu;
                    s.target_sparsity = 0.9;
                  }),
                  "relu-threshold");
  expect_rejected(changed([](SynthSpec& s) { s.activation = Activation::ReluThreshold; }),
                  "exactly one of a threshold or a sparsity");
  expect_rejected(changed([](SynthSpec& s) {
                    s.activation = Activation::ReluThreshold;
                    s.target_sparsity = 1.0;
                  }),
                  "strictly between 0 and 1");
  expect_rejected(changed([](SynthSpec& s) {
                    s.activation = Activation::ReluThreshold;
                    s.target_sparsity = 0.5;
                    s.relu_threshold = 0.1;
                  }),
                  "exactly one");
}

TEST(SynthErrors, BadOutputAndVocabulary) {
  ScratchDir dir;
  EXPECT_THROW(write_synthetic_model(small_spec(), dir.file("no/such/folder/x.gguf")), Error);
  EXPECT_THROW(write_synthetic_model(small_spec(), dir.path()), Error);
  expect_rejected(changed([](SynthSpec& s) { s.vocab_from = "/no/such/vocab.gguf"; }),
                  "/no/such/vocab.gguf");

  // A GGUF without a tokenizer is refused as a vocabulary source.
  const auto no_vocab = dir.file("empty.gguf");
  {
    gguf::GgufWriter w(no_vocab);
    w.set("general.architecture", gguf::Value::string("llama"));
    w.finish();
  }
  expect_rejected(changed([&](SynthSpec& s) { s.vocab_from = no_vocab; }), "tokenizer.ggml.tokens");
}

TEST(SynthErrors, ValidateSpecAcceptsEveryPreset) {
  for (const std::string& name : shape_preset_names()) {
    SynthSpec spec;
    spec.shape = *shape_preset(name);
    spec.type = "q4_k_m";
    EXPECT_NO_THROW(validate_spec(spec)) << name;
  }
  EXPECT_FALSE(shape_preset("gpt-5"));
  const ModelShape tiny = *shape_preset("TinyLlama-1.1B");
  EXPECT_EQ(tiny.dim, 2048);
  EXPECT_EQ(tiny.n_layers, 22);
  EXPECT_EQ(tiny.n_ff, 5632);
  EXPECT_EQ(tiny.n_heads, 32);
  EXPECT_EQ(tiny.n_kv_heads, 4);
  const ModelShape llama7 = *shape_preset("llama2-7b");
  EXPECT_EQ(llama7.dim, 4096);
  EXPECT_EQ(llama7.n_layers, 32);
  EXPECT_EQ(llama7.n_ff, 11008);
  EXPECT_EQ(llama7.n_kv_heads, 32);
}

}  // namespace
}  // namespace sieve::synth
