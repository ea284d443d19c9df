// Replays every committed input of tests/fuzz/regressions/<target>/ through
// its fuzz target's body (fuzz_targets.h): each once crashed, hung or broke
// an invariant, and must now be accepted or refused with sieve::Error.
// Runs in every build (no libFuzzer needed), so the fixes stay fixed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/fuzz_targets.h"

namespace sieve::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> inputs_of(std::string_view target) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(SIEVE_FUZZ_REGRESSIONS_DIR) / std::string(target);
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() != ".md") files.push_back(entry.path());
  }
  return files;
}

class FuzzRegression : public ::testing::TestWithParam<FuzzTarget> {};

TEST_P(FuzzRegression, EveryCommittedInputIsHandled) {
  const FuzzTarget target = GetParam();
  for (const fs::path& file : inputs_of(target.name)) {
    SCOPED_TRACE(file.string());
    const std::vector<uint8_t> bytes = read_all(file);
    EXPECT_NO_THROW(target.body(bytes));
  }
}

// The bodies themselves work outside libFuzzer: trivial and empty inputs.
TEST_P(FuzzRegression, TrivialInputsAreHandled) {
  const FuzzTarget target = GetParam();
  for (const std::vector<uint8_t>& bytes : {std::vector<uint8_t>{}, std::vector<uint8_t>{0}, std::vector<uint8_t>(64, 0xFF),
                                            std::vector<uint8_t>{'G', 'G', 'U', 'F', 3, 0, 0, 0}}) {
    EXPECT_NO_THROW(target.body(bytes));
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegression, ::testing::ValuesIn(kFuzzTargets),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sieve::fuzz
