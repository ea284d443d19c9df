#pragma once
// Test files with known contents for the flash I/O tests.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "flash/io/io_engine.h"

namespace sieve::flash::testing_util {

// Every 8-byte word differs, so a read from the wrong offset cannot match.
inline std::vector<uint8_t> pattern_bytes(size_t size, uint64_t seed) {
  std::vector<uint8_t> bytes(size);
  uint64_t state = seed;
  for (size_t i = 0; i < size; i += 8) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(bytes.data() + i, &z, std::min<size_t>(8, size - i));
  }
  return bytes;
}

// A unique path in `folder` (the test temp folder by default).
inline std::string unique_path(const std::string& name, std::string folder = "") {
  static int counter = 0;  // tests in one process run one at a time
  if (folder.empty()) folder = ::testing::TempDir();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "x";
  for (char& c : test) {
    if (c == '/' || c == '\\') c = '_';
  }
  return (std::filesystem::path(folder) /
          ("sieve_io_" + test + "_" + std::to_string(++counter) + "_" + name))
      .string();
}

// A file of pattern bytes, removed when the object goes away.
class TestFile {
 public:
  TestFile(size_t size, uint64_t seed = 1, std::string folder = "")
      : path_(unique_path("data.bin", std::move(folder))), bytes_(pattern_bytes(size, seed)) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes_.data()), static_cast<std::streamsize>(bytes_.size()));
    out.close();
    if (!out) ADD_FAILURE() << "cannot write " << path_;
  }
  ~TestFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TestFile(const TestFile&) = delete;
  TestFile& operator=(const TestFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

  // True when `length` bytes at dest equal the file's bytes at `offset`.
  ::testing::AssertionResult holds(uint64_t offset, const void* dest, size_t length) const {
    const size_t avail = offset < bytes_.size() ? bytes_.size() - offset : 0;
    if (length > avail) return ::testing::AssertionFailure() << "range past the end";
    if (std::memcmp(bytes_.data() + offset, dest, length) != 0) {
      const auto* d = static_cast<const uint8_t*>(dest);
      size_t first = 0;
      while (first < length && d[first] == bytes_[offset + first]) ++first;
      return ::testing::AssertionFailure()
             << "bytes differ at offset " << offset << " + " << first << " (length " << length << ")";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
};

// Backends to run a test with: threads always, io_uring where it works.
inline std::vector<IoBackend> testable_backends() {
  std::vector<IoBackend> backends{IoBackend::threads};
  if (io_uring_available()) backends.push_back(IoBackend::io_uring);
  return backends;
}

inline std::string backend_name(const ::testing::TestParamInfo<IoBackend>& info) {
  return to_string(info.param);
}

}  // namespace sieve::flash::testing_util
