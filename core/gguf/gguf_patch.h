#pragma once
// Overwrites one fixed-width scalar metadata value of a GGUF file in place.
//
// A figure measured after a file was written (e.g. `sieve calibrate`
// measuring the pack it has just written) goes into a key written beforehand
// with a placeholder of the same type: same key, same width, so no byte of
// the file moves and the file is not copied again. Tensor checksums do not
// cover metadata, so a pack stays valid.

#include <filesystem>
#include <string_view>

#include "gguf/gguf_value.h"

namespace sieve::gguf {

// Replaces the value of `key` with `value`. Throws sieve::Error naming the
// file when the key is absent, when its stored type differs from value's, or
// when the type is not a fixed-width scalar (strings and arrays would move
// bytes).
void overwrite_scalar(const std::filesystem::path& path, std::string_view key, const Value& value);

}  // namespace sieve::gguf
