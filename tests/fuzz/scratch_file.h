#pragma once
// The parsers under test read files, so each fuzz input is written to a
// scratch file first: in /dev/shm when it exists (no disk writes per input),
// inside a folder private to this process, removed at exit.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace sieve::fuzz {

// Writes `bytes` to <scratch folder>/<name> (replacing it) and returns the path.
std::filesystem::path write_scratch(std::string_view name, std::span<const uint8_t> bytes);

// A path in the scratch folder for a file the target creates itself.
std::filesystem::path scratch_path(std::string_view name);

// Throws std::logic_error, which escapes the body and is reported as a finding.
void check(bool condition, const char* what);

}  // namespace sieve::fuzz
