// `sieve`: the command-line face of the engine.

#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "cli/args.h"
#include "cli/commands.h"
#include "util/error.h"

namespace {

struct Command {
  const char* name;
  int (*run)(sieve::cli::CommandArgs);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"info", sieve::cli::cmd_info, "print a GGUF file's architecture, tokenizer and tensors"},
    {"synth", sieve::cli::cmd_synth, "write a llama-architecture GGUF with seeded random weights"},
    {"bench-kernels", sieve::cli::cmd_bench_kernels,
     "matrix x vector throughput per tensor type beside memory bandwidth"},
    {"tokenize", sieve::cli::cmd_tokenize, "print the token ids (or pieces) of a text"},
    {"template", sieve::cli::cmd_template, "format chat messages with the model's chat template"},
    {"probe-disk", sieve::cli::cmd_probe_disk, "random-read throughput of a disk per read size and queue depth"},
    {"run", sieve::cli::cmd_run, "generate a continuation of a prompt, streamed to stdout"},
    {"logits", sieve::cli::cmd_logits, "teacher-forced logits of a token sequence, one JSON line per position"},
    {"pack", sieve::cli::cmd_pack, "rewrite a GGUF model for flash mode (FFN as neuron bundles, checksummed)"},
    {"bench", sieve::cli::cmd_bench, "decode speed, disk reads and memory per mode and DRAM budget (mmap vs flash)"},
    {"bench-worker", sieve::cli::cmd_bench_worker, "(internal) one measurement of sieve bench, JSON on stdout"},
    {"chat", sieve::cli::cmd_chat, "interactive chat in the terminal, using the model's chat template"},
    {"calibrate", sieve::cli::cmd_calibrate,
     "record which FFN neurons fire, train sparsity predictors and store them in a pack"},
    {"import-llama2c", sieve::cli::cmd_import_llama2c, "convert a llama2.c checkpoint and tokenizer into a GGUF"},
    {"fidelity", sieve::cli::cmd_fidelity,
     "how closely a mode (flash, sparse) follows dense: top-1 agreement, KL, perplexity"},
};

void print_help() {
  std::printf("sieve — run language models larger than your RAM, from the SSD\n\n");
  std::printf("usage: sieve COMMAND [OPTIONS]   (sieve COMMAND --help for details)\n\ncommands:\n");
  for (const Command& c : kCommands) std::printf("  %-16s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  const std::string_view name = argv[1];
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(sieve::cli::CommandArgs(argv + 2, static_cast<size_t>(argc - 2)));
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
  std::fprintf(stderr, "sieve: unknown command '%s' (see sieve --help)\n", argv[1]);
  return 2;
}
