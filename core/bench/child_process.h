#pragma once
// Runs a command as a child process (optionally inside a MemoryLimit) and
// collects its output: each `sieve bench` measurement runs in a fresh
// process, so its peak RSS and page cache are its own.

#include <string>
#include <vector>

#include "bench/memory_limit.h"

namespace sieve::flash {

struct ChildResult {
  int exit_code = -1;    // when it exited
  int signal = 0;        // when a signal ended it (SIGKILL: the OOM killer or our timeout)
  bool timed_out = false;
  std::string out, err;  // its stdout and stderr
};

// argv[0] is the program (absolute path). The child joins `limit` (when
// given and available) before it execs. Throws sieve::Error when the child
// cannot be started.
ChildResult run_child(const std::vector<std::string>& argv, const MemoryLimit* limit, double timeout_seconds);

// The path of the running executable (for re-running ourselves).
std::string own_executable();

}  // namespace sieve::flash
