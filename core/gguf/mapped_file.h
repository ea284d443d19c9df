#pragma once
// A read-only memory mapping of a whole file. The bytes stay valid while the
// object lives; pages are loaded by the OS on first touch, so mapping a 40 GB
// model costs nothing until its tensors are read.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace sieve::gguf {

class MappedFile {
 public:
  // Maps `path` read-only. An empty file maps to an empty span. Throws
  // sieve::Error naming the path when the file cannot be opened or mapped.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
#ifdef _WIN32
  void* file_handle_ = nullptr;     // HANDLE
  void* mapping_handle_ = nullptr;  // HANDLE
#endif
};

}  // namespace sieve::gguf
