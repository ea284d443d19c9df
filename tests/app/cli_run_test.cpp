// `sieve run`'s output as a user sees it: the prompt echoed before the
// continuation (unless --no-echo), and a line break at the end unless the
// text already ended one. The continuation itself is checked against the
// reference in tests/core/model/cli_test.cpp and cli_llama2c_test.cpp.

#include <gtest/gtest.h>

#include <string>

#include "app/cli_test_util.h"

namespace sieve::test {
namespace {

const std::string kGreedy = " --temp 0 -t 1 -m '" + shared_model("stories260K.gguf") + "'";

TEST(CliRunOutput, EchoesThePromptThenTheContinuationAndEndsTheLine) {
  const CliResult echoed = run_sieve("run -p 'Once upon a time' -n 12" + kGreedy);
  const CliResult bare = run_sieve("run -p 'Once upon a time' -n 12 --no-echo" + kGreedy);
  ASSERT_EQ(echoed.exit_code, 0) << echoed.err;
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(echoed.out, "Once upon a time" + bare.out);
  ASSERT_GE(bare.out.size(), 2u);
  EXPECT_EQ(bare.out.rfind(", there was", 0), 0u) << bare.out;  // the continuation keeps its leading text
  EXPECT_EQ(bare.out.back(), '\n');
  EXPECT_NE(bare.out[bare.out.size() - 2], '\n') << "one line break, not two";
  // stderr starts with the statistics: no blank line before them.
  EXPECT_EQ(echoed.err.rfind("prompt: ", 0), 0u) << echoed.err;
}

TEST(CliRunOutput, NothingGeneratedStillEchoesAndEndsTheLine) {
  const CliResult r = run_sieve("run -p 'Once upon a time' -n 0" + kGreedy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Once upon a time\n");
  EXPECT_EQ(run_sieve("run -p 'Once upon a time' -n 0 --no-echo" + kGreedy).out, "");  // no line to end
}

#ifndef _WIN32  // cmd.exe cannot pass a line break inside an argument
TEST(CliRunOutput, TextEndingItsLineGetsNoSecondLineBreak) {
  const CliResult r = run_sieve("run -p 'Once upon a time\n' -n 0" + kGreedy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Once upon a time\n");
}
#endif

TEST(CliRunOutput, HelpSaysWhatTheOutputIs) {
  const CliResult r = run_sieve("run --help");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--no-echo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Prints the prompt"), std::string::npos) << r.out;
}

// `sieve run model.gguf` (as `sieve info` takes it) says how to give the model.
TEST(CliRunOutput, AModelGivenWithoutDashMSaysHow) {
  const std::string model = shared_model("stories260K.gguf");
  const CliResult r = run_sieve("run '" + model + "' -p hi");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("(the model is given with -m " + model + ")"), std::string::npos) << r.err;
  const CliResult chat = run_sieve("chat '" + model + "'");
  EXPECT_EQ(chat.exit_code, 2);
  EXPECT_NE(chat.err.find("-m " + model), std::string::npos) << chat.err;
}

}  // namespace
}  // namespace sieve::test
