#pragma once
// Names and constants of the Sieve pack format (`sieve pack`), shared by the
// writer and the reader. A pack is a GGUF v3 file, so the ordinary GGUF
// reader validates its structure:
//
//   metadata    every key of the source model (architecture, hyper-parameters,
//               tokenizer, chat template), general.alignment = 4096, and the
//               sieve.pack.* keys below
//   tensors     the resident section first: every tensor of the source except
//               the FFN projections, unchanged and under the same names; then
//               one `blk.L.ffn_bundles` tensor per layer (type I8, dims
//               [bundle_bytes, n_clusters], see bundle_layout.h)
//
// Every tensor starts on a 4096-byte boundary, so each can be read with
// direct I/O straight into an aligned buffer.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sieve::flash {

inline constexpr uint32_t kPackVersion = 1;
inline constexpr uint32_t kPackAlignment = 4096;

namespace pack_keys {
inline constexpr const char* kVersion = "sieve.pack.version";          // u32, kPackVersion
inline constexpr const char* kSource = "sieve.pack.source";            // string: the source file's name
inline constexpr const char* kSourceSize = "sieve.pack.source_size";   // u64: its size in bytes
inline constexpr const char* kLayerTypes = "sieve.pack.layer_types";   // i32[3 * n_layers]: gate, up, down type ids
inline constexpr const char* kBundleAlignment = "sieve.pack.bundle_alignment";  // u32
inline constexpr const char* kChecksumAlgorithm = "sieve.pack.checksum";        // string, "xxh64"
inline constexpr const char* kChecksums = "sieve.pack.checksums";      // u64[n_tensors], in tensor-table order
}  // namespace pack_keys

inline constexpr const char* kChecksumAlgorithmName = "xxh64";

// "blk.7.ffn_bundles"
std::string bundle_tensor_name(int64_t layer);

enum class FfnRole { gate, up, down };
// For "blk.L.ffn_gate.weight" and its up / down siblings: the layer and role.
struct FfnTensorName {
  int64_t layer = 0;
  FfnRole role = FfnRole::gate;
};
std::optional<FfnTensorName> parse_ffn_tensor_name(std::string_view name);
std::string ffn_tensor_name(int64_t layer, FfnRole role);

}  // namespace sieve::flash
