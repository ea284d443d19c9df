#pragma once
// Sizes the way people type them: "4096", "512K", "1536M", "2G", "1.5GiB",
// "800MB" (binary units: K = 1024). Shared by the CLI's size options and the
// engine's DRAM budget (engine/engine_mode.h), which adds "50%".

#include <cstdint>
#include <optional>
#include <string_view>

namespace sieve {

// The size in bytes (fractions round down); nullopt when malformed, negative
// or beyond 2^64.
std::optional<uint64_t> parse_byte_size(std::string_view text);

}  // namespace sieve
