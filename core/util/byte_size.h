#pragma once
// Sizes the way people type them: "4096", "512K", "1536M", "2G", "1.5GiB",
// "800MB" (binary units: K = 1024). Shared by the CLI's size options and the
// engine's DRAM budget (engine/engine_mode.h), which adds "50%"; and sizes
// the way every message writes them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sieve {

// The size in bytes (fractions round down); nullopt when malformed, negative
// or beyond 2^64.
std::optional<uint64_t> parse_byte_size(std::string_view text);

// "1.50 GiB", "312.0 MiB", "640 KiB", "12 B" (binary units; parse_byte_size
// reads it back, spaces removed).
std::string format_size(uint64_t bytes);

}  // namespace sieve
