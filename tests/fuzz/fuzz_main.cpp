// libFuzzer entry point; compiled once per target with SIEVE_FUZZ_BODY set
// to one of fuzz_targets.h's bodies (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sieve::fuzz::SIEVE_FUZZ_BODY(std::span<const uint8_t>(data, size));
  return 0;
}
