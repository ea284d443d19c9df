#include "bench/memory_limit.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#ifdef __linux__
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace sieve::flash {
namespace {

#ifdef __linux__
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool write_text(const std::string& path, const std::string& text, std::string* why) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (why) *why = path + ": " + std::strerror(errno);
    return false;
  }
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    if (why) *why = path + ": " + std::strerror(saved);
    return false;
  }
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

// Where the memory controller is mounted and this process's cgroup in it:
// {mount point + own path, version}, or {"", 0}.
std::pair<std::string, int> own_memory_cgroup(std::string& why) {
  std::string v1_mount, v2_mount;
  std::istringstream mounts(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);) {
    // ... mount_point ... - fstype source super_options
    const auto fields = split(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash <= 3) continue;
    const std::string& fstype = *(dash + 1);
    const std::string& options = *(dash + 3);
    if (fstype == "cgroup" && ("," + options + ",").find(",memory,") != std::string::npos) v1_mount = fields[4];
    if (fstype == "cgroup2" && v2_mount.empty()) v2_mount = fields[4];
  }
  std::string v1_path, v2_path;
  bool has_v2_line = false;
  std::istringstream groups(read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(groups, line);) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (("," + controllers + ",").find(",memory,") != std::string::npos) v1_path = path;
    if (controllers.empty()) has_v2_line = true, v2_path = path;
  }
  if (!v1_mount.empty() && !v1_path.empty()) return {v1_mount + v1_path, 1};
  if (!v2_mount.empty() && has_v2_line) {
    const std::string dir = v2_mount + v2_path;
    if (read_text(dir + "/cgroup.controllers").find("memory") != std::string::npos) return {dir, 2};
    why = "cgroup v2 at " + dir + " has no memory controller delegated";
    return {"", 0};
  }
  why = "no cgroup memory controller is mounted";
  return {"", 0};
}
#endif

}  // namespace

MemoryLimit::MemoryLimit(uint64_t bytes, const std::string& name_hint) : bytes_(bytes) {
#ifdef __linux__
  const auto [parent, version] = own_memory_cgroup(why_);
  if (version == 0) return;
  const std::string name = name_hint + "-" + std::to_string(::getpid());
  if (!create(parent, version, name)) {
    why_ = "cannot create a memory cgroup under " + parent + " (" + why_ + ")";
  }
#else
  why_ = "memory limits need Linux cgroups";
#endif
}

bool MemoryLimit::create(const std::string& parent, int version, const std::string& name) {
#ifdef __linux__
  const std::string dir = parent + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    why_ = dir + ": " + std::strerror(errno);
    return false;
  }
  dir_ = dir;
  if (version == 2) {
    // The child only gets memory.* files when the parent delegates the controller.
    std::string ignored;
    write_text(parent + "/cgroup.subtree_control", "+memory", &ignored);
  }
  const std::string limit_file = dir + (version == 1 ? "/memory.limit_in_bytes" : "/memory.max");
  if (!write_text(limit_file, std::to_string(bytes_), &why_)) {
    ::rmdir(dir.c_str());
    dir_.clear();
    return false;
  }
  if (version == 2) write_text(dir + "/memory.swap.max", "0", nullptr);
  version_ = version;
  procs_file_ = dir + "/cgroup.procs";
  return true;
#else
  return false;
#endif
}

MemoryLimit::~MemoryLimit() {
#ifdef __linux__
  if (dir_.empty()) return;
  // The child has exited; its page cache charges move to the parent.
  for (int attempt = 0; attempt < 50 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++attempt) ::usleep(20000);
#endif
}

std::optional<uint64_t> MemoryLimit::peak_bytes() const {
#ifdef __linux__
  if (!available()) return std::nullopt;
  const std::string text = read_text(dir_ + (version_ == 1 ? "/memory.max_usage_in_bytes" : "/memory.peak"));
  if (text.empty()) return std::nullopt;
  return std::stoull(text);
#else
  return std::nullopt;
#endif
}

std::optional<uint64_t> MemoryLimit::limit_hits() const {
#ifdef __linux__
  if (!available()) return std::nullopt;
  if (version_ == 1) {
    const std::string text = read_text(dir_ + "/memory.failcnt");
    return text.empty() ? std::nullopt : std::optional<uint64_t>(std::stoull(text));
  }
  std::istringstream events(read_text(dir_ + "/memory.events"));
  for (std::string key; events >> key;) {
    uint64_t value = 0;
    events >> value;
    if (key == "max") return value;
  }
#endif
  return std::nullopt;
}

bool drop_file_cache(const std::string& path, std::string* why) {
#ifdef __linux__
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (why) *why = path + ": " + std::strerror(errno);
    return false;
  }
  ::fdatasync(fd);  // dirty pages (a freshly written pack) cannot be dropped
  const int r = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  if (r != 0) {
    if (why) *why = path + ": posix_fadvise: " + std::strerror(r);
    return false;
  }
  return true;
#else
  if (why) *why = "dropping a file's cached pages is implemented on Linux only";
  return false;
#endif
}

std::optional<double> cached_fraction(const std::string& path) {
#ifdef __linux__
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    return std::nullopt;
  }
  const auto size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return std::nullopt;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  const bool ok = ::mincore(map, size, resident.data()) == 0;
  ::munmap(map, size);
  if (!ok) return std::nullopt;
  size_t cached = 0;
  for (unsigned char r : resident) cached += r & 1;
  return static_cast<double>(cached) / static_cast<double>(resident.size());
#else
  return std::nullopt;
#endif
}

}  // namespace sieve::flash
