// `sieve --version`, `sieve --help` / `help --all` / `help COMMAND`, and the
// "did you mean" of a mistyped command or option, through the built binary.

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "app/cli_test_util.h"
#include "sieve_version.h"

namespace sieve::test {
namespace {

// The names in a listing section, in order: "  NAME   summary" lines after
// the line `heading` up to the next empty line.
std::vector<std::string> listed(const std::string& out, const std::string& heading) {
  std::vector<std::string> names;
  const size_t start = out.find("\n" + heading + "\n");
  if (start == std::string::npos) return names;
  std::smatch m;
  const std::regex row("^  ([a-z0-9-]+) ");
  size_t at = start + heading.size() + 2;
  while (at < out.size() && out[at] != '\n') {
    const size_t end = out.find('\n', at);
    const std::string line = out.substr(at, end - at);
    if (std::regex_search(line, m, row)) names.push_back(m[1].str());
    at = end + 1;
  }
  return names;
}

const std::vector<std::string> kUserCommands = {"run",   "chat",     "serve", "info", "pack",   "calibrate",
                                                "bench", "fidelity", "help", "version"};
const std::vector<std::string> kDeveloperCommands = {"import-llama2c", "logits",        "tokenize",  "template",
                                                     "synth",          "bench-kernels", "probe-disk"};

TEST(CliVersion, PrintsTheProjectVersionFromCMake) {
  EXPECT_STREQ(SIEVE_VERSION, SIEVE_PROJECT_VERSION);
  EXPECT_TRUE(std::regex_match(std::string(SIEVE_VERSION), std::regex("[0-9]+\\.[0-9]+\\.[0-9]+")));
  for (const char* form : {"--version", "-V", "version"}) {
    const CliResult r = run_sieve(form);
    EXPECT_EQ(r.exit_code, 0) << form;
    EXPECT_EQ(text_of(r.out), std::string("sieve ") + SIEVE_VERSION + "\n") << form;
    EXPECT_EQ(r.err, "") << form;
  }
}

TEST(CliHelp, ListsTheUserCommandsInOrderAndHidesTheDeveloperOnes) {
  for (const char* form : {"--help", "-h", "help"}) {
    const CliResult r = run_sieve(form);
    EXPECT_EQ(r.exit_code, 0) << form;
    const std::string out = text_of(r.out);
    EXPECT_EQ(out.rfind(std::string("sieve ") + SIEVE_VERSION + " ", 0), 0u) << out;
    EXPECT_EQ(listed(out, "commands:"), kUserCommands) << out;
    EXPECT_TRUE(listed(out, "developer commands:").empty()) << out;
    EXPECT_NE(out.find("sieve help --all"), std::string::npos) << out;
    for (const char* hidden : {"logits", "synth", "tokenize", "bench-worker", "probe-disk"}) {
      EXPECT_EQ(out.find(std::string("\n  ") + hidden + " "), std::string::npos) << hidden;
    }
  }
  // No command at all: the same list, and exit code 2 as for any usage error.
  const CliResult none = run_sieve("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(listed(text_of(none.out), "commands:"), kUserCommands);
}

// Types Sieve loads but cannot write are named where users look for types:
// the main help and synth's (whose --type cannot offer them).
TEST(CliHelp, NamesTheTypesThatCanOnlyBeRead) {
  for (const char* form : {"--help", "synth --help"}) {
    const CliResult r = run_sieve(form);
    ASSERT_EQ(r.exit_code, 0) << form << r.err;
    const std::string out = text_of(r.out);
    const size_t note = out.find("reads and runs but cannot write");
    ASSERT_NE(note, std::string::npos) << form << "\n" << out;
    for (const char* type : {"IQ2_XXS", "IQ2_XS", "IQ2_S"}) {
      EXPECT_NE(out.find(std::string(type), note), std::string::npos) << form << " " << type;
    }
    EXPECT_EQ(out.find("IQ4_XS", note), std::string::npos) << form;  // has a quantizer
  }
}

TEST(CliHelp, AllAddsTheDeveloperCommandsButNotTheInternalOne) {
  const CliResult r = run_sieve("help --all");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = text_of(r.out);
  EXPECT_EQ(listed(out, "commands:"), kUserCommands) << out;
  EXPECT_EQ(listed(out, "developer commands:"), kDeveloperCommands) << out;
  EXPECT_EQ(out.find("bench-worker"), std::string::npos) << out;
}

TEST(CliHelp, EveryCommandStillRunsAndHelpCommandIsItsHelp) {
  std::vector<std::string> all = kDeveloperCommands;
  all.insert(all.end(), kUserCommands.begin(), kUserCommands.end() - 2);  // not help and version
  for (const std::string& command : all) {
    const CliResult own = run_sieve(command + " --help");
    EXPECT_EQ(own.exit_code, 0) << command << ": " << own.err;
    EXPECT_NE(own.out.find("usage: sieve " + command), std::string::npos) << command << ": " << own.out;
    const CliResult via_help = run_sieve("help " + command);
    EXPECT_EQ(via_help.exit_code, 0) << command;
    EXPECT_EQ(via_help.out, own.out) << command;
  }
  // The internal command `sieve bench` starts is never listed, but it runs.
  const CliResult worker = run_sieve("bench-worker");
  EXPECT_EQ(worker.exit_code, 2);
  EXPECT_EQ(worker.err.rfind("sieve bench-worker: internal command of `sieve bench`", 0), 0u) << worker.err;
}

TEST(CliHelp, AMistypedCommandGetsTheNearestOne) {
  const CliResult rn = run_sieve("rn -m x.gguf");
  EXPECT_EQ(rn.exit_code, 2);
  EXPECT_EQ(rn.out, "");
  EXPECT_EQ(rn.err, "sieve: unknown command rn; did you mean run?\n");
  EXPECT_EQ(run_sieve("tokenise").err, "sieve: unknown command tokenise; did you mean tokenize?\n");
  EXPECT_EQ(run_sieve("help chta").err, "sieve: unknown command chta; did you mean chat?\n");
  EXPECT_EQ(run_sieve("help chta").exit_code, 2);
  const CliResult far = run_sieve("quantize");
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err, "sieve: unknown command quantize (see sieve --help)\n");
}

TEST(CliHelp, AMistypedOptionGetsTheNearestOfThatCommandsOptions) {
  const CliResult run = run_sieve("run -m x.gguf -p hi --tmp 0");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "sieve run: unknown option --tmp; did you mean --temp?\n");
  EXPECT_EQ(run_sieve("info x.gguf --tensor").err, "sieve info: unknown option --tensor; did you mean --tensors?\n");
  EXPECT_EQ(run_sieve("pack x.gguf --verfiy").err, "sieve pack: unknown option --verfiy; did you mean --verify?\n");
  EXPECT_EQ(run_sieve("--verison").err, "sieve: unknown option --verison; did you mean --version?\n");
  EXPECT_EQ(run_sieve("--verison").exit_code, 2);
}

}  // namespace
}  // namespace sieve::test
