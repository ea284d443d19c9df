#include "util/system_memory.h"

#ifdef __linux__
#include <unistd.h>

#include <fstream>
#include <string>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace sieve {

uint64_t physical_memory_bytes() {
#ifdef __linux__
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
#elif defined(_WIN32)
  MEMORYSTATUSEX status{};
  status.dwLength = sizeof status;
  if (GlobalMemoryStatusEx(&status)) return status.ullTotalPhys;
#endif
  return 0;
}

uint64_t available_memory_bytes() {
#ifdef __linux__
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib) {
    std::getline(meminfo, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
#elif defined(_WIN32)
  MEMORYSTATUSEX status{};
  status.dwLength = sizeof status;
  if (GlobalMemoryStatusEx(&status)) return status.ullAvailPhys;
#endif
  return physical_memory_bytes();
}

}  // namespace sieve
