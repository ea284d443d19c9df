#pragma once
// Every `sieve` subcommand: one function each, in its own cmd_*.cpp file.
// Each receives its arguments after the command name, prints its own --help,
// and returns the process exit code. Errors are reported as one line on
// stderr ("sieve info: model.gguf: bad magic ...") with a non-zero exit.

#include <span>
#include <string>

namespace sieve::cli {

using CommandArgs = std::span<char* const>;

int cmd_info(CommandArgs args);
int cmd_synth(CommandArgs args);
// "read only: T1, T2, ..." — tensor types Sieve loads and computes with but
// cannot write (quantizing them needs an importance matrix); for --help texts.
std::string read_only_types_note();
int cmd_bench_kernels(CommandArgs args);
int cmd_tokenize(CommandArgs args);
int cmd_template(CommandArgs args);
int cmd_probe_disk(CommandArgs args);
int cmd_run(CommandArgs args);
int cmd_logits(CommandArgs args);
int cmd_pack(CommandArgs args);
int cmd_bench(CommandArgs args);
int cmd_bench_worker(CommandArgs args);
int cmd_import_llama2c(CommandArgs args);
int cmd_chat(CommandArgs args);
int cmd_fidelity(CommandArgs args);
int cmd_calibrate(CommandArgs args);
int cmd_serve(CommandArgs args);

}  // namespace sieve::cli
