#pragma once
// Overwrites one fixed-width scalar metadata value of a GGUF file in place.
//
// A figure measured after a file was written (e.g. `sieve calibrate`
// measuring the pack it has just written) goes into a key written beforehand
// with a placeholder of the same type: same key, same width, so no byte of
// the file moves and the file is not copied again. Tensor checksums do not
// cover metadata, so a pack stays valid.

#include <filesystem>
#include <span>
#include <string_view>

#include "gguf/gguf_value.h"

namespace sieve::gguf {

// Replaces the value of `key` with `value`. Throws sieve::Error naming the
// file when the key is absent, when its stored type differs from value's, or
// when the type is not a fixed-width scalar (strings and arrays would move
// bytes).
void overwrite_scalar(const std::filesystem::path& path, std::string_view key, const Value& value);

// Replaces the elements of the f32 array `key` (as `sieve calibrate` does
// with each threshold it tries). Throws sieve::Error naming the file when the
// key is absent, not an f32 array, or holds a different number of values.
void overwrite_f32_array(const std::filesystem::path& path, std::string_view key, std::span<const float> values);

}  // namespace sieve::gguf
