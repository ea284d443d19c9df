#pragma once
// Packs of the shared models, made once per test process in the test temp
// folder, and helpers to run engines side by side.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#ifdef _WIN32
#include <process.h>
#else
#include <unistd.h>
#endif

#include "engine.h"
#include "engine/pack_backend.h"
#include "flash/pack_file.h"
#include "flash/pack_writer.h"

namespace sieve::flash::testing_util {

inline std::filesystem::path shared_model(const std::string& name) {
  return std::filesystem::path(SIEVE_SHARED_DIR) / "models" / (name + ".gguf");
}

inline const std::vector<std::string>& shared_model_names() {
  static const std::vector<std::string> names = {"stories260K",      "llama-2-tiny-random", "synthA-f16",
                                                 "synthA-bf16",      "synthA-q8_0",         "synthA-q4_0",
                                                 "synthA-q4_k_m",    "synthA-q6_k",         "synthI-iq4_nl",
                                                 "synthI-iq4_xs",    "synthI-iq2_xxs",      "synthI-iq2_xs",
                                                 "synthI-iq2_s",     "synthI-iq3_s",        "synthI-iq3_xxs",
                                                 "synthI-iq1_s",     "synthI-iq1_m",
                                                 // every architecture without experts (models/arch)
                                                 "arch/qwen3",       "arch/qwen3-bpe-q8_0", "arch/gemma2",
                                                 "arch/gemma3",      "arch/phi3-q8_0",      "arch/llama3rope"};
  return names;
}

// One folder per test process: ctest runs tests as separate processes,
// possibly at once, and each writes its own packs. Removed at exit by the
// environment registered in pack_test.cpp.
inline std::filesystem::path temp_folder() {
#ifdef _WIN32
  const int pid = _getpid();
#else
  const int pid = static_cast<int>(::getpid());
#endif
  const auto folder = std::filesystem::path(::testing::TempDir()) / ("sieve_flash_tests_" + std::to_string(pid));
  std::filesystem::create_directories(folder);
  return folder;
}

// The pack of a shared model (written on first use).
inline std::filesystem::path packed(const std::string& name) {
  static std::map<std::string, std::filesystem::path> done;  // one test thread
  if (auto it = done.find(name); it != done.end()) return it->second;
  const auto out = temp_folder() / (name + ".sieve");
  std::filesystem::create_directories(out.parent_path());  // "arch/NAME"
  pack_model(shared_model(name), out);
  done[name] = out;
  return out;
}

// copy_file(overwrite_existing) that also works with MinGW's libstdc++, which
// fails with "File exists" when the target exists: the target is removed first.
inline void copy_over(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::remove(to);
  std::filesystem::copy_file(from, to);
}

inline std::filesystem::path copy_of(const std::filesystem::path& file, const std::string& name) {
  const auto out = temp_folder() / name;
  copy_over(file, out);
  return out;
}

inline void flip_byte(const std::filesystem::path& file, uint64_t offset) {
  std::FILE* f = std::fopen(file.string().c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
  const int c = std::fgetc(f);
  ASSERT_NE(c, EOF);
  ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
  std::fputc(c ^ 0x40, f);
  std::fclose(f);
}

inline EngineOptions engine_options(const std::filesystem::path& model, EngineMode mode, int64_t context = 64,
                                    int64_t batch = 9) {
  EngineOptions o;
  o.model_path = model;
  o.mode = mode;
  o.threads = 2;
  o.context = context;
  o.batch = batch;
  return o;
}

// The planner's split of a pack with no budget: everything pinned, and the
// minimum a budget must reach (for the same context, batch and threads).
inline MemoryPlan unlimited_plan(const EngineOptions& o) {
  const PackFile pack = PackFile::open(o.model_path);
  BackendOptions b;
  b.mode = EngineMode::flash;
  b.context = o.context;
  b.batch = o.batch;
  return plan_pack_memory(pack, b, o.threads);
}

inline std::vector<int32_t> some_tokens(int64_t n_vocab, size_t n) {
  std::vector<int32_t> ids{1};
  for (size_t i = 1; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(n_vocab)));
  return ids;
}

inline int32_t argmax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

// Logits after a prompt (prefilled in batches) and after each of `steps`
// greedy decode steps.
inline std::vector<std::vector<float>> run_greedy(Engine& engine, const std::vector<int32_t>& prompt, int steps) {
  std::vector<std::vector<float>> out;
  std::span<const float> logits = engine.prefill(prompt);
  out.emplace_back(logits.begin(), logits.end());
  for (int i = 0; i < steps; ++i) {
    logits = engine.decode(argmax(logits));
    out.emplace_back(logits.begin(), logits.end());
  }
  return out;
}

inline bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace sieve::flash::testing_util
