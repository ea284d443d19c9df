// Writing the probe's test file: the only place the I/O layer writes.
#include <algorithm>
#include <cstring>

#include "flash/io/aligned_buffer.h"
#include "flash/io/direct_file.h"
#include "flash/io/disk_probe.h"
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
#include <unistd.h>

#include <cerrno>
#endif

namespace sieve::flash {
namespace {

constexpr size_t kWriteChunk = 4 << 20;

// Random bytes, so that compressing or deduplicating drives see real data.
void fill_random(std::byte* data, size_t n, uint64_t& state) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    state += 0x9e3779b97f4a7c15ull;  // splitmix64
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(data + i, &z, 8);
  }
}

[[noreturn]] void write_failed(const std::string& path, int os_error) {
  throw Error(path + ": cannot write the probe file: " + os_error_text(os_error));
}

#ifdef _WIN32
std::wstring widen(const std::string& utf8) {
  const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring wide(static_cast<size_t>(std::max(n, 0)), L'\0');
  if (n > 0) MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), n);
  return wide;
}
#endif

}  // namespace

void write_probe_file(const std::string& path, uint64_t bytes, uint64_t seed) {
  // Whole aligned chunks only: direct writes need them, and a probe file a
  // few KiB longer than asked does no harm.
  const uint64_t total = align_up(bytes, kDefaultIoAlignment);
  AlignedBuffer chunk(kWriteChunk);
  uint64_t state = seed;
#ifdef _WIN32
  const std::wstring wide = widen(path);
  HANDLE h = CreateFileW(wide.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                         FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    h = CreateFileW(wide.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  }
  if (h == INVALID_HANDLE_VALUE) write_failed(path, static_cast<int>(GetLastError()));
  for (uint64_t done = 0; done < total;) {
    const auto n = static_cast<DWORD>(std::min<uint64_t>(kWriteChunk, total - done));
    fill_random(chunk.data(), n, state);
    DWORD written = 0;
    if (!WriteFile(h, chunk.data(), n, &written, nullptr) || written == 0) {
      const int err = static_cast<int>(GetLastError());
      CloseHandle(h);
      write_failed(path, err);
    }
    done += written;
  }
  const bool flushed = FlushFileBuffers(h);
  const int err = static_cast<int>(GetLastError());
  CloseHandle(h);
  if (!flushed) write_failed(path, err);
#else
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  int fd = -1;
#ifdef O_DIRECT
  fd = ::open(path.c_str(), flags | O_DIRECT, 0644);
#endif
  if (fd < 0) fd = ::open(path.c_str(), flags, 0644);  // the filesystem refused O_DIRECT
  if (fd < 0) write_failed(path, errno);
  for (uint64_t done = 0; done < total;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kWriteChunk, total - done));
    fill_random(chunk.data(), n, state);
    const ssize_t w = ::write(fd, chunk.data(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : EIO;
      ::close(fd);
      write_failed(path, err);
    }
    done += static_cast<uint64_t>(w);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    write_failed(path, err);
  }
#if defined(POSIX_FADV_DONTNEED) && !defined(__APPLE__)
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // in case the writes were buffered
#endif
  ::close(fd);
#endif
}

}  // namespace sieve::flash
