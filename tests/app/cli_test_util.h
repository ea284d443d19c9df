#pragma once
// Runs the built `sieve` as a user does, with optional standard input, and
// keeps its exit code, stdout and stderr apart.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace sieve::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A folder for one test's files, removed afterwards.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() /
              ("sieve-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// `sieve ARGUMENTS` with `input` on its standard input.
inline CliResult run_sieve(const std::string& arguments, const std::string& input = "") {
  ScratchDir dir("cli-run");
  std::ofstream(dir.file("stdin"), std::ios::binary) << input;
  const std::string command = std::string(SIEVE_CLI_PATH) + " " + arguments + " <'" + dir.file("stdin").string() +
                              "' 2>'" + dir.file("stderr").string() + "'";
  CliResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(dir.file("stderr"));
  return r;
}

// `sieve ARGUMENTS REDIRECT` through the shell, for tests that choose which
// streams they see: `output` is what reaches stdout after the redirect
// ("2>&1" merges stderr in, "2>&1 >/dev/null" keeps only stderr).
struct ShellResult {
  int exit_code = -1;
  std::string output;
};

inline ShellResult run_sieve_shell(const std::string& arguments, const std::string& redirect = "2>&1") {
  const std::string command = std::string("\"") + SIEVE_CLI_PATH + "\" " + arguments + " " + redirect;
  ShellResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string shared_model(const std::string& name) {
  return (std::filesystem::path(SIEVE_SHARED_DIR) / "models" / name).string();
}

}  // namespace sieve::test
