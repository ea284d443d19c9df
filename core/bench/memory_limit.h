#pragma once
// A memory limit for one child process, so that `sieve bench` can run the
// mmap baseline with its page cache capped at the DRAM budget (otherwise the
// OS would cache the whole model and the baseline would not be a baseline).
//
// Linux cgroups, version 1 (memory controller: memory.limit_in_bytes) or
// version 2 (memory.max): a child cgroup is created under the one this
// process is in, the limit written, and the child process moves itself into
// it (cgroup.procs) between fork and exec. Page cache and anonymous memory of
// the child are both charged to it, so the kernel reclaims (re-reads) model
// pages beyond the limit. Removed again when the object goes away.
//
// When no writable memory controller is found (not Linux, no permission,
// cgroup v2 without the memory controller delegated), available() is false
// and why() says why; the bench then marks mmap results "unconstrained".

#include <cstdint>
#include <optional>
#include <string>

namespace sieve::flash {

class MemoryLimit {
 public:
  // Creates a child cgroup limited to `bytes`. Never throws: check available().
  explicit MemoryLimit(uint64_t bytes, const std::string& name_hint = "sieve-bench");
  ~MemoryLimit();
  MemoryLimit(const MemoryLimit&) = delete;
  MemoryLimit& operator=(const MemoryLimit&) = delete;

  bool available() const { return !procs_file_.empty(); }
  const std::string& why() const { return why_; }
  int version() const { return version_; }  // 1 or 2 (0 when unavailable)
  const std::string& path() const { return dir_; }
  uint64_t limit_bytes() const { return bytes_; }
  // The file a process writes its pid to in order to join the cgroup.
  const std::string& procs_file() const { return procs_file_; }
  // The most memory (page cache included) charged to the cgroup so far.
  std::optional<uint64_t> peak_bytes() const;
  // How often the limit was hit (v1 failcnt, v2 events "max"); nullopt if unknown.
  std::optional<uint64_t> limit_hits() const;

 private:
  bool create(const std::string& parent, int version, const std::string& name);

  uint64_t bytes_ = 0;
  int version_ = 0;
  std::string dir_;
  std::string procs_file_;
  std::string why_;
};

// Drops the page-cache pages of a file (after syncing it), so the next run
// reads it from the disk: posix_fadvise(POSIX_FADV_DONTNEED). Returns false
// (with the reason) when the OS refuses.
bool drop_file_cache(const std::string& path, std::string* why = nullptr);
// The fraction of a file's pages in the page cache now (mincore), or nullopt.
std::optional<double> cached_fraction(const std::string& path);

}  // namespace sieve::flash
