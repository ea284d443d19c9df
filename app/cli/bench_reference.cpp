#include "cli/bench_reference.h"

#include <algorithm>
#include <sstream>
#include <thread>

#include "util/error.h"

namespace sieve::cli {

std::vector<std::string> reference_argv(const ReferenceRun& run) {
  const int threads = run.threads > 0 ? run.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return {"/usr/bin/env", "node", run.script, run.model.string(), "-p", std::to_string(run.prompt_tokens),
          "-n", std::to_string(run.decode_tokens), "-t", std::to_string(threads)};
}

Json reference_result(const std::string& out) {
  // The last line that parses as an object: the script prints one, but the
  // reference may log before it.
  std::istringstream lines(out);
  Json found;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() != '{') continue;
    try {
      found = Json::parse(line);
    } catch (const Json::exception&) {
    }
  }
  if (!found.is_object() || !found.contains("decode_tok_s")) {
    throw Error("bench: the reference printed no result line (expected refbench.mjs's JSON)");
  }
  const auto number = [&](const char* key) { return found.value(key, 0.0); };
  Json run = Json::object();
  run["mode"] = "reference";
  run["model"] = found.value("model", std::string());
  run["load_seconds"] = number("load_s");
  run["prompt_tokens"] = found.value("prompt_tokens", int64_t{0});
  run["prompt_tokens_per_second"] = number("prefill_tok_s");
  const double tps = number("decode_tok_s");
  const auto tokens = found.value("decode_tokens", int64_t{0});
  run["decode_tokens"] = tokens;
  run["decode_tokens_per_second"] = tps;
  run["decode_seconds"] = tps > 0 ? static_cast<double>(tokens) / tps : 0.0;
  run["threads"] = found.value("threads", int64_t{0});
  return run;
}

}  // namespace sieve::cli
