#pragma once
// `sieve pack`: rewrites a GGUF model as a Sieve pack (pack_format.h): the
// resident tensors unchanged, each layer's FFN as bundles, every tensor
// 4096-aligned and checksummed.
//
// The source is read through its memory mapping and the pack written in one
// pass: bundles are built on a thread pool in chunks of clusters while a
// writer thread streams the previous chunk to disk and hashes it. The file is
// written as "<out>.partial" and renamed into place only once complete, with
// its checksums filled in and synced, so an interrupted pack never leaves a
// file that looks finished.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace sieve::flash {

struct PackProgress {
  const char* phase = "writing";  // "writing" or "verifying"
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  double seconds = 0;  // since the phase began
};

struct PackOptions {
  int threads = 0;                          // bundle building; 0 = all cores
  uint64_t chunk_bytes = uint64_t{16} << 20;  // bundles built and written per step
  bool verify = false;                      // re-read the finished pack and check every checksum
  std::function<void(const PackProgress&)> progress;  // called after each chunk
};

struct PackSummary {
  uint64_t file_bytes = 0;
  uint64_t resident_bytes = 0;  // tensor bytes of the resident section
  uint64_t ffn_bytes = 0;       // bundle bytes, padding included
  size_t n_tensors = 0;
  int64_t n_layers = 0;
  double write_seconds = 0;  // writing, syncing and renaming
  double verify_seconds = 0;
};

// Throws sieve::Error naming the file when the source is not a usable model
// (or already a pack) or when writing fails; no partial output remains.
PackSummary pack_model(const std::filesystem::path& source, const std::filesystem::path& out,
                       const PackOptions& options = {});

}  // namespace sieve::flash
