#pragma once
// `sieve bench --reference SCRIPT`: times the reference implementation
// (llama.cpp, through ../shared/tools/reference/refbench.mjs) on the same
// GGUF, under the same memory limit, in the same run as Sieve's modes, so a
// ratio compares like with like. The reference reads the model through mmap,
// as its users do. It is a measuring instrument, never a dependency: without
// --reference nothing of it is needed.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/json_text.h"

namespace sieve::cli {

struct ReferenceRun {
  std::string script;  // refbench.mjs
  std::filesystem::path model;
  int64_t prompt_tokens = 16;
  int64_t decode_tokens = 16;
  int threads = 0;  // 0: every core
};

// The command line: node (found on PATH through /usr/bin/env) and the script.
std::vector<std::string> reference_argv(const ReferenceRun& run);

// The script's one JSON line in bench-worker's field names (mode
// "reference"). Throws sieve::Error when `out` holds no such line.
Json reference_result(const std::string& out);

}  // namespace sieve::cli
