#pragma once
// relu260K (../shared/models/relu260K, a ReLU llama2.c model) imported and
// packed once per test process, and its activations recorded with the dense
// engine.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine.h"
#include "flash/pack_writer.h"
#include "import/llama2c.h"
#include "calibration/calibration.h"

namespace sieve::sparse::testing_util {

inline std::filesystem::path shared(const std::string& path) { return std::filesystem::path(SIEVE_SHARED_DIR) / path; }

inline std::filesystem::path temp_folder() {
  const auto folder = std::filesystem::path(::testing::TempDir()) / ("sieve_sparse_tests_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  return folder;
}

inline bool have_relu260k() { return std::filesystem::exists(shared("models/relu260K/model_qint80.bin")); }

// relu260K as a GGUF (the activations of cli_llama2c_test.cpp).
inline std::filesystem::path relu260k_gguf() {
  const auto out = temp_folder() / "relu260K.gguf";
  if (std::filesystem::exists(out)) return out;
  importer::Llama2cImportOptions o;
  o.model_path = shared("models/relu260K/model_qint80.bin");
  o.tokenizer_path = shared("models/relu260K/tok1024.bin");
  o.output_path = out;
  o.activation.ffn = "shifted_relu";
  o.activation.ffn_relu_shift = 0.25f;
  o.activation.norm_relu_shift = 1.0f;
  importer::import_llama2c(o);
  return out;
}

// Its pack, with the SVD predictors `sieve pack` adds (passed in `extras`).
inline std::filesystem::path relu260k_pack(const std::string& name = "relu260K.sieve",
                                           const flash::PackExtras& extras = {}) {
  const auto out = temp_folder() / name;
  if (std::filesystem::exists(out)) return out;
  flash::PackOptions o;
  o.extras = extras;
  flash::pack_model(relu260k_gguf(), out, o);
  return out;
}

// Records `tokens` self-generated tokens (sampled with `seed`).
inline std::unique_ptr<ActivationRecorder> record(const std::filesystem::path& pack, const model::HyperParams& hp,
                                                  int64_t tokens, uint64_t seed) {
  auto rec = std::make_unique<ActivationRecorder>(hp, tokens);
  CalibrationRun run;
  run.pack = pack;
  run.self_generate = tokens;
  run.context = 256;
  run.threads = 2;
  run.seed = seed;
  record_activations(run, *rec);
  return rec;
}

}  // namespace sieve::sparse::testing_util
