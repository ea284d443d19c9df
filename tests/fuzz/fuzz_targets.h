#pragma once
// The fuzz targets' bodies, one per parser of outside input. Each takes one
// input and returns normally when the parser accepted it or refused it with
// sieve::Error; anything else (another exception, a crash, a sanitizer
// report, a broken invariant -> abort) is a finding.
//
// The bodies are plain functions so that two programs share them: the
// libFuzzer executables (fuzz_main.cpp, built with SIEVE_FUZZ=ON and clang)
// and test_fuzz_regressions (every build), which replays the committed
// inputs of tests/fuzz/regressions/<target>/.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sieve::fuzz {

using FuzzBody = void (*)(std::span<const uint8_t> input);

void gguf_body(std::span<const uint8_t> input);           // a GGUF file, loaded and run (mmap)
void pack_body(std::span<const uint8_t> input);           // a Sieve pack: PackFile::open, verify, flash run
void llama2c_body(std::span<const uint8_t> input);        // u32 split, checkpoint bytes, tokenizer bytes
void tokenizer_body(std::span<const uint8_t> input);      // selector byte, then text or token ids
void chat_template_body(std::span<const uint8_t> input);  // selector byte, then a template or messages JSON
void blocks_body(std::span<const uint8_t> input);         // selector byte, then IQ4_NL / IQ4_XS / MXFP4 / IQ3_XXS / IQ3_S blocks

struct FuzzTarget {
  std::string_view name;  // also the folder under regressions/ and the corpus
  FuzzBody body;
};

inline constexpr FuzzTarget kFuzzTargets[] = {
    {"gguf", gguf_body},
    {"pack", pack_body},
    {"llama2c", llama2c_body},
    {"tokenizer", tokenizer_body},
    {"chat_template", chat_template_body},
    {"blocks", blocks_body},
};

}  // namespace sieve::fuzz
