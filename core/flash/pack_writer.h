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
//
// Extra tensors and metadata (the activation-sparsity predictors,
// docs/sparsity.md) can be added while packing or later with rewrite_pack(),
// which copies a pack (checking every copied tensor against its checksum)
// with the extras added or replacing same-named ones.
//
// Cancelling: a progress callback may throw; the exception propagates after
// every partial file has been removed.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_value.h"
#include "tensor/tensor_type.h"

namespace sieve::flash {

struct PackProgress {
  const char* phase = "writing";  // "writing" or "verifying"
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  double seconds = 0;  // since the phase began
};

// A tensor to add to a pack (after the bundles), with its bytes.
struct ExtraTensor {
  std::string name;
  tensor::TensorType type = tensor::TensorType::F32;
  std::vector<uint64_t> dims;
  std::vector<std::byte> data;  // exactly the tensor's size
};

struct PackExtras {
  std::vector<gguf::KeyValue> metadata;  // added, or replacing the value of a key the pack has
  std::vector<ExtraTensor> tensors;      // added, or replacing the tensor of the same name
  bool empty() const { return metadata.empty() && tensors.empty(); }
};

struct PackOptions {
  int threads = 0;                          // bundle building; 0 = all cores
  uint64_t chunk_bytes = uint64_t{16} << 20;  // bundles built and written per step
  bool verify = false;                      // re-read the finished pack and check every checksum
  std::function<void(const PackProgress&)> progress;  // called after each chunk; may throw to cancel
  PackExtras extras;                        // tensors and keys added to the pack
  // Adds per-neuron units with down columns of this type (neuron_units.h;
  // `sieve pack --neuron-units q8_0`). Only for quantized FFNs: float ones
  // are bundled per neuron already.
  std::optional<tensor::TensorType> neuron_units;
};

struct PackSummary {
  uint64_t file_bytes = 0;
  uint64_t resident_bytes = 0;  // tensor bytes of the resident section
  uint64_t ffn_bytes = 0;       // bundle bytes, padding included
  uint64_t unit_bytes = 0;      // per-neuron unit bytes (0 without them), padding included
  size_t n_tensors = 0;
  int64_t n_layers = 0;
  double write_seconds = 0;  // writing, syncing and renaming
  double verify_seconds = 0;
};

// Throws sieve::Error naming the file when the source is not a usable model
// (or already a pack) or when writing fails; no partial output remains.
PackSummary pack_model(const std::filesystem::path& source, const std::filesystem::path& out,
                       const PackOptions& options = {});

// Copies the pack at `pack` to `out` (which may be the same path: the pack is
// then replaced once the copy is complete) with options.extras added or
// replacing what the pack has. Every copied tensor is checked against its
// recorded checksum; the extras get checksums of their own. Throws
// sieve::Error (naming the file) when the pack is invalid or corrupted, an
// extra tensor's bytes do not match its type and dims, or writing fails; no
// partial output remains.
PackSummary rewrite_pack(const std::filesystem::path& pack, const std::filesystem::path& out,
                         const PackOptions& options);

}  // namespace sieve::flash
