#include "fuzz/scratch_file.h"

#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace sieve::fuzz {
namespace {

class ScratchFolder {
 public:
  ScratchFolder() {
    const std::filesystem::path shm = "/dev/shm";
    std::error_code ec;
    const auto base = std::filesystem::is_directory(shm, ec) ? shm : std::filesystem::temp_directory_path();
    path_ = base / ("sieve-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

const std::filesystem::path& folder() {
  static const ScratchFolder scratch;  // one per process, removed at exit
  return scratch.path();
}

}  // namespace

std::filesystem::path scratch_path(std::string_view name) { return folder() / std::string(name); }

std::filesystem::path write_scratch(std::string_view name, std::span<const uint8_t> bytes) {
  const auto path = scratch_path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("fuzz: cannot write the scratch file " + path.string());
  return path;
}

void check(bool condition, const char* what) {
  if (!condition) throw std::logic_error(std::string("fuzz invariant broken: ") + what);
}

}  // namespace sieve::fuzz
