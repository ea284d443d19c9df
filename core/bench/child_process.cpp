#include "bench/child_process.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/error.h"

#ifdef __linux__
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <filesystem>
#include <thread>
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace sieve::flash {

std::string own_executable() {
#ifdef __linux__
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) return std::string(path, static_cast<size_t>(n));
#elif defined(_WIN32)
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n == 0) break;
    if (n < path.size()) return std::filesystem::path(path.substr(0, n)).string();
    path.resize(path.size() * 2);  // truncated: try again with more room
  }
#endif
  throw Error("cannot find the path of the running executable.");
}

#ifdef __linux__
namespace {

// Between fork and exec only async-signal-safe calls: open, write, close.
[[noreturn]] void child_main(const std::vector<char*>& argv, const char* procs_file, int out_fd, int err_fd) {
  if (procs_file != nullptr) {
    char digits[24];
    int n = 0;
    for (pid_t pid = ::getpid(); pid > 0; pid /= 10) digits[n++] = static_cast<char>('0' + pid % 10);
    char text[24];
    for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
    const int fd = ::open(procs_file, O_WRONLY);
    if (fd < 0 || ::write(fd, text, static_cast<size_t>(n)) != n) {
      const char msg[] = "cannot join the memory cgroup\n";
      ::write(err_fd, msg, sizeof msg - 1);
      ::_exit(126);
    }
    ::close(fd);
  }
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::execv(argv[0], argv.data());
  const char msg[] = "exec failed\n";
  ::write(STDERR_FILENO, msg, sizeof msg - 1);
  ::_exit(127);
}

}  // namespace
#elif defined(_WIN32)
namespace {

// One argument as the Microsoft C runtime splits a command line back into
// argv: quoted when it has blanks or quotes (or is empty), a '"' inside
// escaped, and backslashes doubled where a '"' follows them.
void append_quoted(std::wstring& line, const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += arg;
    return;
  }
  line += L'"';
  size_t backslashes = 0;
  for (const wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    line.append(c == L'"' ? 2 * backslashes + 1 : backslashes, L'\\');
    backslashes = 0;
    line += c;
  }
  line.append(2 * backslashes, L'\\');
  line += L'"';
}

std::string windows_error(DWORD code) { return "Windows error " + std::to_string(code); }

// Reads a pipe to its end (the child closed it or exited).
void drain(HANDLE pipe, std::string& sink) {
  char buffer[65536];
  DWORD n = 0;
  while (ReadFile(pipe, buffer, sizeof buffer, &n, nullptr) && n > 0) sink.append(buffer, n);
}

}  // namespace
#endif

ChildResult run_child(const std::vector<std::string>& args, const MemoryLimit* limit, double timeout_seconds) {
#ifdef __linux__
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const char* procs = limit != nullptr && limit->available() ? limit->procs_file().c_str() : nullptr;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw Error(std::string("cannot create pipes: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("cannot start a child process: ") + std::strerror(errno));
  if (pid == 0) child_main(argv, procs, out_pipe[1], err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  ChildResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
#elif defined(_WIN32)
  (void)limit;  // MemoryLimit is never available on Windows (no cgroups)
  std::wstring line;
  for (const std::string& a : args) {
    if (!line.empty()) line += L' ';
    append_quoted(line, std::filesystem::path(a).native());
  }
  // The write ends are inherited by the child (its stdout and stderr); ours
  // are closed right after it starts, so the reads end when the child does.
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE out_read = nullptr, out_write = nullptr, err_read = nullptr, err_write = nullptr;
  if (!CreatePipe(&out_read, &out_write, &inherit, 0) || !CreatePipe(&err_read, &err_write, &inherit, 0)) {
    const DWORD code = GetLastError();
    for (HANDLE h : {out_read, out_write}) {
      if (h != nullptr) CloseHandle(h);
    }
    throw Error("cannot create pipes: " + windows_error(code));
  }
  SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(err_read, HANDLE_FLAG_INHERIT, 0);
  HANDLE nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING, 0, nullptr);
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = nul;
  startup.hStdOutput = out_write;
  startup.hStdError = err_write;
  PROCESS_INFORMATION process{};
  const BOOL started = CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &startup, &process);
  const DWORD start_error = GetLastError();
  CloseHandle(out_write);
  CloseHandle(err_write);
  if (nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
  if (!started) {
    CloseHandle(out_read);
    CloseHandle(err_read);
    throw Error("cannot start a child process: " + windows_error(start_error));
  }
  CloseHandle(process.hThread);

  ChildResult result;
  std::thread err_reader([&] { drain(err_read, result.err); });
  std::thread out_reader([&] { drain(out_read, result.out); });
  const double ms = std::max(0.0, timeout_seconds * 1000.0);
  const DWORD wait = ms >= static_cast<double>(INFINITE - 1) ? INFINITE - 1 : static_cast<DWORD>(ms);
  if (WaitForSingleObject(process.hProcess, wait) == WAIT_TIMEOUT) {
    TerminateProcess(process.hProcess, 1);
    WaitForSingleObject(process.hProcess, INFINITE);
    result.timed_out = true;
  }
  out_reader.join();
  err_reader.join();
  CloseHandle(out_read);
  CloseHandle(err_read);
  DWORD code = 0;
  if (GetExitCodeProcess(process.hProcess, &code)) result.exit_code = static_cast<int>(code);
  CloseHandle(process.hProcess);
  return result;
#else
  (void)args;
  (void)limit;
  (void)timeout_seconds;
  throw Error("running benchmark workers is implemented on Linux and Windows only.");
#endif
}

}  // namespace sieve::flash
