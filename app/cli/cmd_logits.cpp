// `sieve logits -m MODEL --tokens "ID ID ..."`: teacher-forced logits, one
// JSON object per input position — the tool for comparing Sieve's forward
// pass with another implementation's.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/mode_args.h"
#include "engine.h"
#include "util/json_text.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& logits_options() {
  static const std::vector<OptionSpec> specs = with_mode_options({
      {"model", 'm', true, "the GGUF model", "MODEL"},
      {"tokens", 0, true, "input token ids, separated by spaces or commas", "\"ID ID ...\""},
      {"top", 0, true, "how many best logits to print per position (default 8)", "N"},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"ctx", 'c', true, "context size (default: the token count)", "N"},
      {"help", 'h', false, "show this help", ""},
  });
  return specs;
}

std::vector<int32_t> parse_token_list(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',' || text[i] == '\t' || text[i] == '\n') {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != ',' && text[end] != '\t' && text[end] != '\n') {
      ++end;
    }
    int32_t id = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + end, id);
    if (ec != std::errc() || ptr != text.data() + end || id < 0) {
      throw UsageError("--tokens: expected token ids, got '" + text.substr(i, end - i) + "'");
    }
    ids.push_back(id);
    i = end;
  }
  if (ids.empty()) throw UsageError("--tokens: no token ids given");
  return ids;
}

// The double whose shortest text is the float's own shortest text, so the
// JSON shows 17.798916 rather than 17.798915863037109.
double as_printed(float f) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  double d = f;
  std::from_chars(buf, end, d);
  return d;
}

std::string position_json(int64_t pos, std::span<const float> logits, int64_t top) {
  std::vector<int32_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  const auto k = static_cast<size_t>(std::min<int64_t>(top, static_cast<int64_t>(logits.size())));
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] != logits[static_cast<size_t>(b)]
               ? logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)]
               : a < b;
  });
  double sum = 0.0, sum_squares = 0.0;
  for (float v : logits) {
    sum += v;
    sum_squares += static_cast<double>(v) * v;
  }
  const auto n = static_cast<double>(logits.size());
  Json best = Json::array();
  for (size_t i = 0; i < k; ++i) best.push_back({order[i], as_printed(logits[static_cast<size_t>(order[i])])});
  Json row = Json::object();
  row["pos"] = pos;
  row["top"] = std::move(best);
  row["mean"] = as_printed(static_cast<float>(sum / n));
  row["rms"] = as_printed(static_cast<float>(std::sqrt(sum_squares / n)));
  return to_json_text(row);
}

}  // namespace

int cmd_logits(CommandArgs argv) {
  const Args args = Args::parse(argv, logits_options());
  const std::string synopsis = "sieve logits -m MODEL --tokens \"ID ID ...\" [--top N] [-t THREADS] [--ctx N]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, logits_options()).c_str());
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "'");
  if (!args.has("model")) throw UsageError("-m MODEL is required (see --help)");
  if (!args.has("tokens")) throw UsageError("--tokens is required (see --help)");
  const std::vector<int32_t> ids = parse_token_list(*args.get("tokens"));
  const int64_t top = args.get_int("top", 8, 1, 1 << 20);

  EngineOptions options;
  options.model_path = *args.get("model");
  options.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  options.context = args.get_int("ctx", static_cast<int64_t>(ids.size()), 1, int64_t{1} << 24);
  if (options.context < static_cast<int64_t>(ids.size())) {
    throw UsageError("--ctx: " + std::to_string(ids.size()) + " tokens do not fit a context of " +
                     std::to_string(options.context));
  }
  apply_mode_options(args, options);
  const std::unique_ptr<Engine> engine = Engine::load(options);
  for (int32_t id : ids) {
    if (id >= engine->model().n_vocab) {
      throw UsageError("--tokens: token id " + std::to_string(id) + " is out of range (vocabulary of " +
                       std::to_string(engine->model().n_vocab) + ")");
    }
  }
  for (size_t pos = 0; pos < ids.size(); ++pos) {
    const std::span<const float> logits = engine->decode(ids[pos]);
    std::printf("%s\n", position_json(static_cast<int64_t>(pos), logits, top).c_str());
  }
  return 0;
}

}  // namespace sieve::cli
