#pragma once
// Runs the built `sieve` as a user does, with optional standard input, and
// keeps its exit code, stdout and stderr apart.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#ifdef _WIN32
#include <process.h>  // _getpid
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace sieve::test {

inline int process_id() {
#ifdef _WIN32
  return _getpid();
#else
  return static_cast<int>(::getpid());
#endif
}

// The tests write their command lines for sh: 'single quotes' around paths
// and texts, /dev/null in redirects. On Windows popen runs `cmd.exe /c`, and
// sieve.exe splits its command line by the Microsoft C runtime's rules, so a
// single-quoted word becomes a double-quoted one (a '"' inside it escaped as
// \", backslashes before a '"' doubled) and /dev/null becomes NUL. Double
// quotes already in the line are kept as they are.
inline std::string shell_line(const std::string& sh) {
#ifdef _WIN32
  std::string out;
  for (size_t i = 0; i < sh.size(); ++i) {
    const char c = sh[i];
    if (c == '\'') {
      out += '"';
      size_t backslashes = 0;
      for (++i; i < sh.size() && sh[i] != '\''; ++i) {
        if (sh[i] == '\\') {
          ++backslashes;
          continue;
        }
        if (sh[i] == '"') {
          out.append(2 * backslashes + 1, '\\');
        } else {
          out.append(backslashes, '\\');
        }
        backslashes = 0;
        out += sh[i];
      }
      out.append(2 * backslashes, '\\');
      out += '"';
    } else if (c == '"') {
      const size_t end = sh.find('"', i + 1);
      const size_t stop = end == std::string::npos ? sh.size() : end + 1;
      out.append(sh, i, stop - i);
      i = stop - 1;
    } else if (sh.compare(i, 9, "/dev/null") == 0) {
      out += "NUL";
      i += 8;
    } else {
      out += c;
    }
  }
  return out;
#else
  return sh;
#endif
}

// Runs `command` (already in the shell's syntax) and reads its stdout.
inline int read_command(const std::string& command, std::string& out) {
#ifdef _WIN32
  // cmd.exe /c drops the first and the last quote of a line that starts with
  // a quote (docs/installers.md, (A)): one more pair around the whole line.
  FILE* pipe = ::_popen(("\"" + command + "\"").c_str(), "r");  // text mode: \r\n reads as \n
#else
  FILE* pipe = ::popen(command.c_str(), "r");
#endif
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
#ifdef _WIN32
  return ::_pclose(pipe);  // the exit code itself
#else
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
}

// What a program wrote as text to a file: on Windows its stdio wrote each
// "\n" as "\r\n".
inline std::string text_of(std::string s) {
#ifdef _WIN32
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  }
  return out;
#else
  return s;
#endif
}

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
              ("sieve-" + tag + "-" + std::to_string(process_id()) + "-" + std::to_string(counter_++))) {
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
  const std::string command = "\"" + std::string(SIEVE_CLI_PATH) + "\" " + shell_line(arguments) + " <\"" +
                              dir.file("stdin").string() + "\" 2>\"" + dir.file("stderr").string() + "\"";
  CliResult r;
  r.exit_code = read_command(command, r.out);
  r.err = text_of(slurp(dir.file("stderr")));
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
  const std::string command = std::string("\"") + SIEVE_CLI_PATH + "\" " + shell_line(arguments + " " + redirect);
  ShellResult r;
  r.exit_code = read_command(command, r.output);
  return r;
}

inline std::string shared_model(const std::string& name) {
  return (std::filesystem::path(SIEVE_SHARED_DIR) / "models" / name).string();
}

}  // namespace sieve::test
