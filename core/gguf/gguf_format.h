#pragma once
// Facts about the GGUF layout shared by the reader and the writer, and the
// tensor geometry checks both must apply identically.

#include <cstdint>
#include <string>
#include <string_view>

#include "gguf/gguf_file.h"
#include "gguf/gguf_value.h"

namespace sieve::gguf::format {

inline constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint32_t kWriteVersion = 3;
inline constexpr uint32_t kMinReadVersion = 2;
inline constexpr uint32_t kMaxReadVersion = 3;
inline constexpr uint32_t kLastValueTypeId = 12;  // FLOAT64
inline constexpr uint64_t kMaxKeyBytes = 65535;   // the specification's limit
inline constexpr uint64_t kMaxTensorNameBytes = 64;
inline constexpr std::string_view kAlignmentKey = "general.alignment";

// Sieve's own ceilings, far above any real model (the largest vocabularies
// hold ~260k tokens, the largest models a few thousand tensors) but low enough
// that a hostile file cannot make the reader allocate gigabytes of metadata.
inline constexpr uint64_t kMaxKeyValues = uint64_t{1} << 20;
inline constexpr uint64_t kMaxTensors = uint64_t{1} << 20;
inline constexpr uint64_t kMaxArrayElements = uint64_t{1} << 26;
inline constexpr uint64_t kMaxStringBytes = uint64_t{1} << 28;  // 256 MiB
// Vectors are pre-sized up to this many items; beyond it they grow only as
// entries are actually parsed from bytes present in the file.
inline constexpr uint64_t kMaxReserve = 4096;

// Smallest encodings, used to reject counts the remaining bytes cannot hold
// before anything is allocated.
inline constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;       // key length, type, 1-byte value
inline constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

// Encoded bytes of one scalar of `type`; for STRING the 8-byte length prefix
// (its minimum); 0 for ARRAY.
uint64_t encoded_scalar_bytes(ValueType type);

inline bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
// Rounds up to a multiple of a power-of-two `alignment`; callers keep `v`
// far below 2^64 (it is a file offset).
inline uint64_t align_up(uint64_t v, uint64_t alignment) { return (v + alignment - 1) & ~(alignment - 1); }

// A name made safe for a one-line error message: control bytes replaced and
// long names cut.
std::string printable(std::string_view name);

// Checks a tensor's name length, dims and type geometry and fills n_elements
// and size_bytes. Returns "" when valid, otherwise the problem as a phrase
// ("tensor 'x' has 5 dimensions, more than the maximum of 4").
std::string complete_tensor_geometry(TensorInfo& tensor);

}  // namespace sieve::gguf::format
