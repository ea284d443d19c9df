#pragma once
// Measures a disk's random-read throughput per read size and queue depth
// (the engine of `sieve probe-disk`), bypassing the page cache.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flash/io/disk_profile.h"
#include "flash/io/io_engine.h"
#include "util/error.h"

namespace sieve::flash {

struct ProbeOptions {
  std::string folder = ".";
  uint64_t file_bytes = uint64_t{1} << 30;
  std::vector<uint32_t> chunk_sizes = {4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20};
  std::vector<uint32_t> queue_depths = {1, 4, 16, 64};
  double seconds_per_point = 1.0;
  bool keep_file = false;
  IoBackend backend = IoBackend::automatic;
  uint64_t seed = 0x5eed;
};

struct ProbeEvents {
  std::function<void(const std::string&)> on_message;  // "writing 1.00 GiB test file ..."
  std::function<void(const DiskPoint&)> on_point;       // each point as it is measured
  // Asked before the test file is written and before each point; true stops
  // the probe with ProbeCancelled (the test file is removed as usual).
  std::function<bool()> cancelled;
};

class ProbeCancelled : public Error {
 public:
  ProbeCancelled() : Error("the disk measurement was cancelled") {}
};

// The test file's name inside the probed folder.
std::string probe_file_path(const std::string& folder);

// Writes `bytes` of random data to `path` bypassing the cache where possible
// (O_DIRECT / FILE_FLAG_NO_BUFFERING, else buffered) and syncs it to disk.
void write_probe_file(const std::string& path, uint64_t bytes, uint64_t seed);

// Creates (or reuses, when one of the right size exists) the test file,
// measures every chunk x depth point (chunks larger than the file are
// skipped), and removes the file unless keep_file. Throws sieve::Error on bad
// options or I/O failure.
DiskProfile probe_disk(const ProbeOptions& options, const ProbeEvents& events = {});

}  // namespace sieve::flash
