// `sieve`: the command-line face of the engine.

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/suggest.h"
#include "sieve_version.h"
#include "util/error.h"

namespace {

using sieve::cli::CommandArgs;

// Who a command is for. `sieve --help` lists the user commands; `sieve help
// --all` adds the developer tools; internal ones are never listed (sieve
// bench runs bench-worker itself). Every one of them runs when named.
enum class Audience { user, developer, internal };

struct Command {
  const char* name;
  int (*run)(CommandArgs);
  Audience audience;
  const char* summary;
};

// In the order a user meets them; the listing keeps this order.
constexpr Command kCommands[] = {
    {"run", sieve::cli::cmd_run, Audience::user, "print a prompt and stream its generated continuation to stdout"},
    {"chat", sieve::cli::cmd_chat, Audience::user, "interactive chat in the terminal, using the model's chat template"},
    {"serve", sieve::cli::cmd_serve, Audience::user,
     "a local OpenAI-compatible HTTP server (chat and text completions, streamed or not)"},
    {"info", sieve::cli::cmd_info, Audience::user, "print a GGUF file's architecture, tokenizer and tensors"},
    {"pack", sieve::cli::cmd_pack, Audience::user,
     "rewrite a GGUF model for flash mode (FFN as neuron bundles, checksummed)"},
    {"calibrate", sieve::cli::cmd_calibrate, Audience::user,
     "record which FFN neurons fire, train sparsity predictors and store them in a pack"},
    {"bench", sieve::cli::cmd_bench, Audience::user,
     "decode speed, disk reads and memory per mode and DRAM budget (mmap vs flash)"},
    {"fidelity", sieve::cli::cmd_fidelity, Audience::user,
     "how closely a mode (flash, sparse) follows dense: top-1 agreement, KL, perplexity"},
    {"import-llama2c", sieve::cli::cmd_import_llama2c, Audience::developer,
     "convert a llama2.c checkpoint and tokenizer into a GGUF"},
    {"logits", sieve::cli::cmd_logits, Audience::developer,
     "teacher-forced logits of a token sequence, one JSON line per position"},
    {"tokenize", sieve::cli::cmd_tokenize, Audience::developer, "print the token ids (or pieces) of a text"},
    {"template", sieve::cli::cmd_template, Audience::developer,
     "format chat messages with the model's chat template"},
    {"synth", sieve::cli::cmd_synth, Audience::developer,
     "write a GGUF with seeded random weights (llama, or MoE: qwen3moe, Mixtral, gpt-oss)"},
    {"bench-kernels", sieve::cli::cmd_bench_kernels, Audience::developer,
     "matrix x vector throughput per tensor type beside memory bandwidth"},
    {"probe-disk", sieve::cli::cmd_probe_disk, Audience::developer,
     "random-read throughput of a disk per read size and queue depth"},
    {"bench-worker", sieve::cli::cmd_bench_worker, Audience::internal, "one measurement of sieve bench, JSON"},
};

// `sieve --help` / `sieve -h` / `sieve --version` / `sieve -V`, before any command.
const std::vector<sieve::cli::OptionSpec>& top_level_options() {
  static const std::vector<sieve::cli::OptionSpec> specs = {
      {"help", 'h', false, "list the commands", ""},
      {"version", 'V', false, "print the version", ""},
  };
  return specs;
}

void print_commands(Audience audience) {
  for (const Command& c : kCommands) {
    if (c.audience == audience) std::printf("  %-16s %s\n", c.name, c.summary);
  }
}

void print_help(bool all) {
  std::printf("sieve %s — run language models larger than your RAM, from the SSD\n\n", SIEVE_VERSION);
  std::printf("usage: sieve COMMAND [OPTIONS]   (sieve COMMAND --help, or sieve help COMMAND, for its options)\n\n");
  std::printf("commands:\n");
  print_commands(Audience::user);
  std::printf("  %-16s %s\n", "help", "this list; help --all adds the developer commands");
  std::printf("  %-16s %s\n", "version", "print the version (also --version)");
  if (all) {
    std::printf("\ndeveloper commands:\n");
    print_commands(Audience::developer);
  } else {
    std::printf("\nsieve help --all also lists the developer commands.\n");
  }
  std::printf("\nTensor types Sieve %s\n", sieve::cli::read_only_types_note().c_str());
}

void print_version() { std::printf("sieve %s\n", SIEVE_VERSION); }

const Command* find_command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// "unknown command 'rn'; did you mean run?" over the commands a user may see.
int unknown_command(std::string_view name) {
  std::vector<std::string> names = {"help", "version"};
  for (const Command& c : kCommands) {
    if (c.audience != Audience::internal) names.emplace_back(c.name);
  }
  const std::string typed(name);
  if (const auto near = sieve::cli::nearest_name(typed, names)) {
    std::fprintf(stderr, "sieve: unknown command %s; did you mean %s?\n", typed.c_str(), near->c_str());
  } else {
    std::fprintf(stderr, "sieve: unknown command %s (see sieve --help)\n", typed.c_str());
  }
  return 2;
}

// Runs one command, turning its exceptions into one line on stderr.
int run_command(const Command& c, CommandArgs args) {
  try {
    return c.run(args);
  } catch (const sieve::cli::UsageError& e) {
    std::fprintf(stderr, "sieve %s: %s\n", c.name, e.what());
    return 2;
  } catch (const sieve::Error& e) {
    std::fprintf(stderr, "sieve %s: %s\n", c.name, e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "sieve %s: out of memory\n", c.name);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sieve %s: internal error: %s\n", c.name, e.what());
    return 1;
  }
}

// `sieve help`, `sieve help --all`, `sieve help COMMAND` (= COMMAND --help).
int help_command(CommandArgs args) {
  if (args.empty()) {
    print_help(false);
    return 0;
  }
  const std::string_view topic = args[0];
  if (args.size() == 1 && topic == "--all") {
    print_help(true);
    return 0;
  }
  if (args.size() > 1) {
    std::fprintf(stderr, "sieve help: expected one command or --all, got %zu arguments\n", args.size());
    return 2;
  }
  const Command* c = find_command(topic);
  if (c == nullptr) return unknown_command(topic);
  static char help_flag[] = "--help";
  char* const help_args[] = {help_flag};
  return run_command(*c, CommandArgs(help_args, 1));
}

// `sieve -h`, `sieve --version`, and a mistyped option before any command.
int top_level_option(char* option) {
  try {
    const auto args = sieve::cli::Args::parse(CommandArgs(&option, 1), top_level_options());
    if (args.has("version")) {
      print_version();
    } else {
      print_help(false);
    }
    return 0;
  } catch (const sieve::cli::UsageError& e) {
    std::fprintf(stderr, "sieve: %s\n", e.what());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help(false);
    return 2;
  }
  const std::string_view name = argv[1];
  const CommandArgs rest(argv + 2, static_cast<size_t>(argc - 2));
  if (name.size() > 1 && name[0] == '-') return top_level_option(argv[1]);
  if (name == "help") return help_command(rest);
  if (name == "version") {
    print_version();
    return 0;
  }
  const Command* c = find_command(name);
  if (c == nullptr) return unknown_command(name);
  return run_command(*c, rest);
}
