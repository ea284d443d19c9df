// Bad llama2.c checkpoints and tokenizer files: each gets a sieve::Error with
// one clear sentence naming the file and the problem, and no output is left.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include <unistd.h>

#include "core/import/llama2c_writer.h"
#include "core/model/tiny_model.h"
#include "import/llama2c.h"
#include "util/error.h"

namespace sieve::test {
namespace {

class Llama2cErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sieve-import-errors-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    TinyWeights w = make_tiny_weights(spec_);
    good_v0_ = llama2c_checkpoint_bytes(spec_, w, 0);
    w = make_tiny_weights(spec_);
    good_v1_ = llama2c_checkpoint_bytes(spec_, w, 1);
    good_tokenizer_ = llama2c_tokenizer_bytes(tiny_vocab(spec_.n_vocab));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The error message of importing these bytes ("" when it succeeds).
  std::string import_error(const std::string& model, const std::string& tokenizer,
                           const importer::Llama2cActivation& activation = {}) {
    write_bytes(dir_ / "model.bin", model);
    write_bytes(dir_ / "tokenizer.bin", tokenizer);
    importer::Llama2cImportOptions o;
    o.model_path = dir_ / "model.bin";
    o.tokenizer_path = dir_ / "tokenizer.bin";
    o.output_path = dir_ / "out.gguf";
    o.activation = activation;
    std::filesystem::remove(o.output_path);
    try {
      importer::import_llama2c(o);
    } catch (const Error& e) {
      EXPECT_FALSE(std::filesystem::exists(o.output_path)) << "output left behind after: " << e.what();
      EXPECT_FALSE(std::filesystem::exists(dir_ / "out.gguf.partial"));
      return e.what();
    }
    return "";
  }

  std::string model_error(const std::string& model) { return import_error(model, good_tokenizer_); }
  std::string tokenizer_error(const std::string& tokenizer) { return import_error(good_v0_, tokenizer); }

  // The legacy header with one of its 7 values replaced.
  std::string legacy_with(int field, int32_t value) const {
    std::string bytes = good_v0_;
    std::memcpy(bytes.data() + 4 * field, &value, 4);
    return bytes;
  }

  std::filesystem::path dir_;
  TinySpec spec_;  // dim 16, 4 heads / 2 KV heads, 2 layers, vocab 40
  std::string good_v0_, good_v1_, good_tokenizer_;
};

#define EXPECT_ERROR_HAS(message, text) EXPECT_NE((message).find(text), std::string::npos) << (message)

TEST_F(Llama2cErrors, TheWellFormedFilesImport) {
  EXPECT_EQ(import_error(good_v0_, good_tokenizer_), "");
  EXPECT_EQ(import_error(good_v1_, good_tokenizer_), "");
}

TEST_F(Llama2cErrors, TooShortOrAnotherFormat) {
  EXPECT_ERROR_HAS(model_error(""), "model.bin: the file is too short to be a llama2.c checkpoint");
  EXPECT_ERROR_HAS(model_error(std::string(10, '\1')), "too short");
  EXPECT_ERROR_HAS(model_error("GGUF" + std::string(300, '\0')), "model.bin: this is already a GGUF file");
}

TEST_F(Llama2cErrors, UnknownVersionOrCutHeader) {
  std::string v7 = good_v1_;
  const int32_t seven = 7;
  std::memcpy(v7.data() + 4, &seven, 4);
  EXPECT_ERROR_HAS(model_error(v7), "llama2.c checkpoint version 7 is not supported");
  EXPECT_ERROR_HAS(model_error(good_v1_.substr(0, 100)), "the llama2.c header is cut short (100 of 256 bytes)");
}

TEST_F(Llama2cErrors, AbsurdOrInconsistentDimensions) {
  EXPECT_ERROR_HAS(model_error(legacy_with(0, 1 << 30)), "model.bin: llama2.c header field 'dim' is 1073741824");
  EXPECT_ERROR_HAS(model_error(legacy_with(0, -16)), "'dim' is -16");
  EXPECT_ERROR_HAS(model_error(legacy_with(1, 0)), "'hidden_dim' is 0");
  EXPECT_ERROR_HAS(model_error(legacy_with(2, -1)), "'n_layers' is -1");
  EXPECT_ERROR_HAS(model_error(legacy_with(3, 3)), "dim 16 is not a multiple of n_heads 3");
  EXPECT_ERROR_HAS(model_error(legacy_with(4, 3)), "n_heads 4 is not a multiple of n_kv_heads 3");
  EXPECT_ERROR_HAS(model_error(legacy_with(4, 8)), "'n_kv_heads' is 8, expected 1 to 4");
  EXPECT_ERROR_HAS(model_error(legacy_with(3, 16)), "the head size 1 is odd");
  EXPECT_ERROR_HAS(model_error(legacy_with(5, 2)), "'vocab_size' is 2");
  EXPECT_ERROR_HAS(model_error(legacy_with(5, std::numeric_limits<int32_t>::min())), "'vocab_size' is 2147483648");
  EXPECT_ERROR_HAS(model_error(legacy_with(6, 0)), "'seq_len' is 0");
  // Plausible values that do not match the file's length.
  EXPECT_ERROR_HAS(model_error(legacy_with(2, 3)), "header describes");
  EXPECT_ERROR_HAS(model_error(legacy_with(5, 41)), "header describes");
}

TEST_F(Llama2cErrors, TruncatedOrLongerFile) {
  const std::string truncated = good_v0_.substr(0, good_v0_.size() - 4);
  EXPECT_ERROR_HAS(model_error(truncated), "model.bin: the file is " + std::to_string(truncated.size()) +
                                               " bytes but its llama2.c version 0 header describes " +
                                               std::to_string(good_v0_.size()));
  EXPECT_ERROR_HAS(model_error(good_v0_ + "1234"), "header describes");
  EXPECT_ERROR_HAS(model_error(good_v1_.substr(0, good_v1_.size() / 2)), "version 1 header describes");
}

TEST_F(Llama2cErrors, BadVersionedHeaderFlags) {
  std::string flag = good_v1_;
  flag[36] = 7;
  EXPECT_ERROR_HAS(model_error(flag), "'shared_classifier' is 7");

  TinyWeights w = make_tiny_weights(spec_);
  std::string v2 = llama2c_checkpoint_bytes(spec_, w, 2, 8);
  const auto with_group = [&](int32_t group) {
    std::string bytes = v2;
    std::memcpy(bytes.data() + 37, &group, 4);
    return bytes;
  };
  EXPECT_EQ(model_error(v2), "");
  EXPECT_ERROR_HAS(model_error(with_group(0)), "'group_size' is 0");
  EXPECT_ERROR_HAS(model_error(with_group(-8)), "'group_size' is -8");
  EXPECT_ERROR_HAS(model_error(with_group(7)), "not a whole number of quantization groups of 7");
  EXPECT_ERROR_HAS(model_error(with_group(16)), "header describes");
}

TEST_F(Llama2cErrors, WeightsThatAreNotNumbers) {
  std::string bytes = good_v1_;
  const float nan = std::nanf("");
  std::memcpy(bytes.data() + 256 + 4 * 3, &nan, 4);  // blk.0.attn_norm.weight[3]
  EXPECT_ERROR_HAS(model_error(bytes), "model.bin: value 3 of tensor 'blk.0.attn_norm.weight' is not a finite number");
}

TEST_F(Llama2cErrors, BadTokenizerFiles) {
  EXPECT_ERROR_HAS(tokenizer_error(""), "tokenizer.bin: the tokenizer file ends inside the header");
  EXPECT_ERROR_HAS(tokenizer_error(good_tokenizer_.substr(0, good_tokenizer_.size() - 2)),
                   "tokenizer.bin: the tokenizer file ends inside token 39");
  EXPECT_ERROR_HAS(tokenizer_error(good_tokenizer_ + "xyz"), "3 bytes follow the last of the model's 40 tokens");
  EXPECT_ERROR_HAS(tokenizer_error(llama2c_tokenizer_bytes(tiny_vocab(10))),
                   "too short for the model's 40 tokens");
  EXPECT_ERROR_HAS(tokenizer_error(llama2c_tokenizer_bytes(tiny_vocab(40), 0)), "max_token_length is 0");
  EXPECT_ERROR_HAS(tokenizer_error(llama2c_tokenizer_bytes(tiny_vocab(40), 3)),
                   "token 0 has length 5, expected 0 to 3 (max_token_length)");
  std::vector<TokenizerEntry> vocab = tiny_vocab(40);
  vocab[5].score = std::numeric_limits<float>::infinity();
  EXPECT_ERROR_HAS(tokenizer_error(llama2c_tokenizer_bytes(vocab)), "the score of token 5 is not a finite number");
  std::string negative_length = llama2c_tokenizer_bytes(tiny_vocab(40));
  const int32_t minus = -1;
  std::memcpy(negative_length.data() + 8, &minus, 4);  // token 0's length
  EXPECT_ERROR_HAS(tokenizer_error(negative_length), "token 0 has length -1");
}

TEST_F(Llama2cErrors, BadOptionsAndPaths) {
  importer::Llama2cActivation gelu;
  gelu.ffn = "gelu";
  EXPECT_ERROR_HAS(import_error(good_v0_, good_tokenizer_, gelu), "'gelu' is not one of");
  importer::Llama2cActivation infinite;
  infinite.ffn = "shifted_relu";
  infinite.ffn_relu_shift = std::numeric_limits<float>::infinity();
  EXPECT_ERROR_HAS(import_error(good_v0_, good_tokenizer_, infinite), "finite");

  importer::Llama2cImportOptions o;
  o.model_path = dir_ / "missing.bin";
  o.tokenizer_path = dir_ / "tokenizer.bin";
  o.output_path = dir_ / "out.gguf";
  try {
    importer::import_llama2c(o);
    ADD_FAILURE() << "a missing checkpoint was accepted";
  } catch (const Error& e) {
    EXPECT_ERROR_HAS(std::string(e.what()), "missing.bin");
  }

  write_bytes(dir_ / "model.bin", good_v0_);
  o.model_path = dir_ / "model.bin";
  o.output_path = dir_ / "model.bin";
  EXPECT_THROW(importer::import_llama2c(o), Error);
  EXPECT_EQ(std::filesystem::file_size(dir_ / "model.bin"), good_v0_.size());
}

// Any header byte of any version set to extreme values: the import either
// succeeds or raises sieve::Error, never crashes or allocates absurdly.
TEST_F(Llama2cErrors, EveryCorruptedHeaderByteIsHandled) {
  TinyWeights w = make_tiny_weights(spec_);
  const std::string good_v2 = llama2c_checkpoint_bytes(spec_, w, 2, 8);
  for (const std::string* good : std::initializer_list<const std::string*>{&good_v0_, &good_v1_, &good_v2}) {
    const size_t header = good == &good_v0_ ? 28 : 44;
    for (size_t at = 0; at < header; ++at) {
      for (const unsigned char value : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
        std::string bytes = *good;
        bytes[at] = static_cast<char>(value);
        try {
          import_error(bytes, good_tokenizer_);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "byte " << at << " = " << int{value} << ": " << e.what();
        }
      }
    }
  }
}

}  // namespace
}  // namespace sieve::test
