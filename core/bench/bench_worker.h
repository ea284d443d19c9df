#pragma once
// One measurement of `sieve bench`, run inside its own process (`sieve
// bench-worker`, started by the bench with a memory limit): load the model
// in one mode, prefill a prompt, decode greedily, and report what it cost.

#include <cstdint>
#include <filesystem>

#include "engine.h"
#include "util/json_text.h"

namespace sieve::flash {

struct WorkerRequest {
  std::filesystem::path model;
  EngineMode mode = EngineMode::flash;
  DramBudget budget;
  int64_t prompt_tokens = 16;
  int64_t decode_tokens = 16;
  int threads = 0;
  int64_t context = 512;
  int64_t batch = 0;  // prompt tokens per prefill step; 0: the engine's default
  FlashTuning tuning;
  sparse::SparseOptions sparse;  // sparse mode
};

// Runs the measurement; the JSON object holds load/prefill/decode times, the
// decode phase's disk reads (/proc/self/io) and flash statistics (sparse
// mode: neurons predicted, loaded and found in DRAM), peak RSS and the
// memory plan. Throws sieve::Error when the model cannot run.
Json run_bench_worker(const WorkerRequest& request);

// Bytes this process has read from block devices so far (/proc/self/io
// read_bytes: page faults of a mapping and direct reads alike); 0 if unknown.
uint64_t process_disk_read_bytes();

}  // namespace sieve::flash
