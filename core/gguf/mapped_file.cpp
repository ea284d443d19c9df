#include "gguf/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

#include "util/error.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace sieve::gguf {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& problem) {
  throw Error(path.string() + ": " + problem);
}

size_t checked_size(const std::filesystem::path& path, uint64_t size) {
  if (size > std::numeric_limits<size_t>::max()) {
    fail(path, "file of " + std::to_string(size) + " bytes is too large to map on this system");
  }
  return static_cast<size_t>(size);
}

}  // namespace

#ifdef _WIN32

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  HANDLE file = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    fail(path, "cannot open for reading (Windows error " + std::to_string(GetLastError()) + ")");
  }
  LARGE_INTEGER size{};
  if (!GetFileSizeEx(file, &size)) {
    const DWORD err = GetLastError();
    CloseHandle(file);
    fail(path, "cannot read the file size (Windows error " + std::to_string(err) + ")");
  }
  file_handle_ = file;
  size_ = checked_size(path, static_cast<uint64_t>(size.QuadPart));
  if (size_ == 0) return;  // CreateFileMapping refuses empty files
  HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
  if (mapping == nullptr) {
    const DWORD err = GetLastError();
    CloseHandle(file);
    fail(path, "cannot map the file (Windows error " + std::to_string(err) + ")");
  }
  const void* view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
  if (view == nullptr) {
    const DWORD err = GetLastError();
    CloseHandle(mapping);
    CloseHandle(file);
    fail(path, "cannot map the file (Windows error " + std::to_string(err) + ")");
  }
  mapping_handle_ = mapping;
  data_ = static_cast<const std::byte*>(view);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) UnmapViewOfFile(data_);
  if (mapping_handle_ != nullptr) CloseHandle(static_cast<HANDLE>(mapping_handle_));
  if (file_handle_ != nullptr) CloseHandle(static_cast<HANDLE>(file_handle_));
}

#else

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open for reading: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, std::string("cannot read the file size: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "is not a regular file");
  }
  size_ = checked_size(path, static_cast<uint64_t>(st.st_size));
  if (size_ == 0) {  // mmap refuses a zero length; an empty span says it all
    ::close(fd);
    return;
  }
  void* addr = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps its own reference to the file
  if (addr == MAP_FAILED) fail(path, std::string("cannot map the file: ") + std::strerror(err));
  data_ = static_cast<const std::byte*>(addr);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

#endif

}  // namespace sieve::gguf
