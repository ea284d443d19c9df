#include "flash/bench/child_process.h"

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
#endif

namespace sieve::flash {

std::string own_executable() {
#ifdef __linux__
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) return std::string(path, static_cast<size_t>(n));
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
#else
  (void)args;
  (void)limit;
  (void)timeout_seconds;
  throw Error("running benchmark workers is implemented on Linux only.");
#endif
}

}  // namespace sieve::flash
