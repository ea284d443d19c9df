#pragma once
// What a disk delivers for random reads: throughput and IOPS per read size
// (chunk) and queue depth, as measured by `sieve probe-disk`. The streaming
// planner uses it to pick read sizes and depths; it is saved as JSON.
//
// MB/s here are 10^6 bytes per second, as disk makers count.

#include <cstdint>
#include <string>
#include <vector>

namespace sieve::flash {

struct DiskPoint {
  uint32_t chunk_bytes = 0;
  uint32_t queue_depth = 0;
  double mb_per_s = 0;
  double iops = 0;
  double mean_latency_us = 0;  // queue_depth / iops (Little's law)
  uint64_t reads = 0;
  double seconds = 0;
};

struct DiskProfile {
  std::string folder;      // where the test file lived
  std::string backend;     // "io_uring" or "threads"
  std::string cache_mode;  // e.g. "O_DIRECT"
  uint64_t file_bytes = 0;
  std::vector<DiskPoint> points;

  // The fastest point, nullptr when there are none.
  const DiskPoint* best() const;
  // The smallest chunk (then the lowest depth) reaching `fraction` of the
  // best throughput: the cheapest way to get near the disk's peak.
  const DiskPoint* knee(double fraction = 0.9) const;
  // Expected MB/s for reads of `chunk_bytes` at `queue_depth`: the measured
  // depth nearest in log scale, interpolated in log2(chunk) between measured
  // chunks and clamped beyond them. 0 when nothing was measured.
  double mb_per_s_at(uint32_t chunk_bytes, uint32_t queue_depth) const;

  std::string to_json() const;
  // Throws sieve::Error naming `source` when the text is not a profile.
  static DiskProfile from_json(const std::string& text, const std::string& source = "disk profile");
  // Throw sieve::Error naming the file on I/O failure or bad content.
  void save(const std::string& file) const;
  static DiskProfile load(const std::string& file);
};

}  // namespace sieve::flash
