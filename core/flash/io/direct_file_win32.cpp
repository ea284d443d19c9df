// DirectFile on Windows: unbuffered, overlapped reads at explicit offsets.
// Uses only Win32 calls MinGW-w64 provides.
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <algorithm>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "flash/io/direct_file.h"
#include "util/error.h"

namespace sieve::flash {

std::string os_error_text(int os_error) {
  char buffer[512];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                           static_cast<DWORD>(os_error), 0, buffer, sizeof buffer, nullptr);
  while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == '\r' || buffer[n - 1] == '.')) --n;
  if (n == 0) return "Windows error " + std::to_string(os_error);
  return std::string(buffer, n);
}

int os_io_error_code() { return ERROR_READ_FAULT; }

namespace {

std::wstring widen(const std::string& utf8) {
  if (utf8.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring wide(static_cast<size_t>(std::max(n, 0)), L'\0');
  if (n > 0) {
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), n);
  }
  return wide;
}

// Bytes per sector of the volume holding the file, 0 if unknown.
uint32_t volume_sector_size(const std::wstring& path) {
  wchar_t root[MAX_PATH + 1];
  if (!GetVolumePathNameW(path.c_str(), root, MAX_PATH)) return 0;
  DWORD sectors_per_cluster = 0, bytes_per_sector = 0, free_clusters = 0, total_clusters = 0;
  if (!GetDiskFreeSpaceW(root, &sectors_per_cluster, &bytes_per_sector, &free_clusters,
                         &total_clusters)) {
    return 0;
  }
  return bytes_per_sector;
}

HANDLE create_for_reading(const std::wstring& path, DWORD flags) {
  return CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                     nullptr, OPEN_EXISTING, flags, nullptr);
}

}  // namespace

DirectFile DirectFile::open(const std::string& path, const OpenOptions& options) {
  DirectFile file;
  file.path_ = path;
  const std::wstring wide = widen(path);
  const bool want_direct = options.bypass_cache && !options.simulate_direct_refused;
  if (options.bypass_cache && options.simulate_direct_refused) {
    file.fallback_reason_ = "FILE_FLAG_NO_BUFFERING refused (simulated for a test)";
  }
  HANDLE h = INVALID_HANDLE_VALUE;
  if (want_direct) {
    h = create_for_reading(wide, FILE_FLAG_OVERLAPPED | FILE_FLAG_NO_BUFFERING);
    if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_INVALID_PARAMETER) {
      file.fallback_reason_ = "FILE_FLAG_NO_BUFFERING refused: " + os_error_text(ERROR_INVALID_PARAMETER);
    } else if (h == INVALID_HANDLE_VALUE) {
      throw Error(path + ": cannot open for reading: " + os_error_text(static_cast<int>(GetLastError())));
    }
  }
  const bool direct = h != INVALID_HANDLE_VALUE;
  if (!direct) h = create_for_reading(wide, FILE_FLAG_OVERLAPPED);
  if (h == INVALID_HANDLE_VALUE) {
    throw Error(path + ": cannot open for reading: " + os_error_text(static_cast<int>(GetLastError())));
  }
  LARGE_INTEGER size{};
  if (!GetFileSizeEx(h, &size) || GetFileType(h) != FILE_TYPE_DISK) {
    CloseHandle(h);
    throw Error(path + ": is not a regular file");
  }
  file.handle_ = h;
  file.open_ = true;
  file.size_ = static_cast<uint64_t>(size.QuadPart);
  file.logical_block_ = volume_sector_size(wide);
  if (direct) {
    file.bypass_ = CacheBypass::direct;
    file.required_alignment_ = std::max<uint32_t>(file.logical_block_, kDefaultIoAlignment);
  } else {
    file.bypass_ = options.bypass_cache ? CacheBypass::dropped_after_read : CacheBypass::none;
    file.required_alignment_ = 1;
  }
  return file;
}

void DirectFile::close() noexcept {
  if (open_) CloseHandle(handle_);
  open_ = false;
}

ReadResult DirectFile::read_some(uint64_t offset, uint32_t length, void* dest) const noexcept {
  // The handle is overlapped, so the offset travels in OVERLAPPED and each
  // read waits on its own event (several threads read the handle at once).
  OVERLAPPED ov{};
  ov.Offset = static_cast<DWORD>(offset & 0xffffffffu);
  ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr) return {0, static_cast<int>(GetLastError())};
  DWORD n = 0;
  ReadResult result;
  BOOL ok = ReadFile(handle_, dest, length, nullptr, &ov);
  DWORD err = ok ? 0 : GetLastError();
  if (ok || err == ERROR_IO_PENDING) {
    ok = GetOverlappedResult(handle_, &ov, &n, TRUE);
    err = ok ? 0 : GetLastError();
  }
  CloseHandle(ov.hEvent);
  if (err == ERROR_HANDLE_EOF) return {0, 0};
  if (err != 0) return {0, static_cast<int>(err)};
  result.bytes = n;
  return result;
}

void DirectFile::drop_cached(uint64_t, uint64_t) const noexcept {
  // Windows has no per-range cache drop; buffered fallback reads stay cached.
}

}  // namespace sieve::flash

#endif  // _WIN32
