// `sieve logits` and `sieve run` as a user runs them: output format, agreement
// with the reference, and one-line errors with a non-zero exit for bad input.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include "app/cli_test_util.h"
#include "core/model/reference_case.h"
#include "util/json_text.h"

namespace sieve::test {
namespace {

using RunResult = CliResult;

// Through the shell (cmd.exe on Windows, see cli_test_util.h), stderr kept apart.
RunResult run_cli(const std::string& arguments) { return run_sieve(arguments); }

std::string model(const char* file) { return (shared_dir() / "models" / file).string(); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

TEST(CliLogits, OneJsonObjectPerPositionMatchingTheReference) {
  const ReferenceCase c = load_reference(shared_dir() / "reference" / "stories260K.Onceuponatim.json");
  std::string ids;
  for (int32_t id : c.prompt_tokens) ids += std::to_string(id) + " ";
  ids += std::to_string(c.steps[0].token);
  const RunResult r = run_cli("logits -m " + model("stories260K.gguf") + " --tokens \"" + ids + "\" --top 3 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), c.prompt_tokens.size() + 1);
  for (size_t pos = 0; pos < lines.size(); ++pos) {
    const Json row = Json::parse(lines[pos]);
    EXPECT_EQ(row.at("pos").get<int64_t>(), static_cast<int64_t>(pos));
    ASSERT_EQ(row.at("top").size(), 3u);
    EXPECT_TRUE(row.at("mean").is_number());
    EXPECT_GT(row.at("rms").get<double>(), 0.0);
  }
  // Position of the last prompt token predicts the first generated one, and
  // the one after it the second.
  for (size_t step = 0; step < 2; ++step) {
    const Json row = Json::parse(lines[c.prompt_tokens.size() - 1 + step]);
    const ReferenceStep& ref = c.steps[step];
    EXPECT_EQ(row.at("top")[0][0].get<int64_t>(), ref.token);
    EXPECT_NEAR(row.at("top")[0][1].get<double>(), ref.top[0].second, 1e-3 * std::fabs(ref.top[0].second));
    EXPECT_NEAR(row.at("mean").get<double>(), ref.mean, 1e-3 * ref.rms);
    EXPECT_NEAR(row.at("rms").get<double>(), ref.rms, 1e-3 * ref.rms);
  }
}

void expect_one_line_error(const std::string& arguments, const std::string& fragment) {
  const RunResult r = run_cli(arguments);
  EXPECT_NE(r.exit_code, 0) << arguments;
  EXPECT_TRUE(r.out.empty()) << arguments << ": " << r.out;
  const std::vector<std::string> lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << arguments << ": " << r.err;
  EXPECT_NE(lines[0].find(fragment), std::string::npos) << lines[0];
}

TEST(CliLogits, BadInputGivesOneLineError) {
  const std::string m = model("stories260K.gguf");
  expect_one_line_error("logits -m /no/such/model.gguf --tokens \"1 2\"", "/no/such/model.gguf");
  expect_one_line_error("logits -m " + m + " --tokens \"1 two\"", "'two'");
  expect_one_line_error("logits -m " + m + " --tokens \"\"", "no token ids");
  expect_one_line_error("logits -m " + m + " --tokens \"1 512\"", "out of range");
  expect_one_line_error("logits -m " + m + " --tokens \"1 2 3\" --ctx 2", "do not fit");
  expect_one_line_error("logits -m " + m + " --tokens \"1\" --top x", "--top");
  expect_one_line_error("logits --tokens \"1\"", "-m MODEL");
  expect_one_line_error("logits -m " + (shared_dir() / "README.md").string() + " --tokens 1", "README.md");
}

TEST(CliRun, GreedyRunPrintsTheReferenceContinuation) {
  for (const char* file : {"stories260K.Onceuponatim.json", "llama-2-tiny-random.hello.json"}) {
    const ReferenceCase c = load_reference(shared_dir() / "reference" / file);
    const std::string model_file = c.model.string();
    const RunResult r = run_cli("run -m " + model_file + " -p \"" + c.prompt + "\" --temp 0 -t 2 -n " +
                                std::to_string(c.steps.size()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c.prompt + c.text + "\n") << file;  // the prompt echoed, the line ended
    EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("peak RSS"), std::string::npos) << r.err;
  }
}

TEST(CliRun, StopsAtAStopStringAndWhenTheContextIsFull) {
  const std::string m = model("stories260K.gguf");
  const RunResult stopped = run_cli("run -m " + m + " -p \"Once upon a time\" --temp 0 -n 64 --stop Lily");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(stopped.out, "Once upon a time, there was a little girl named \n");
  const RunResult full = run_cli("run -m " + m + " -p \"Once upon a time\" --temp 0 -n 64 --ctx 8");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.err.find("context full"), std::string::npos) << full.err;
  EXPECT_EQ(full.out, "Once upon a time, there was a\n");  // 5 prompt + 3 decoded positions, 4 tokens shown
}

TEST(CliRun, SameSeedSameText) {
  const std::string args = "run -m " + model("stories260K.gguf") + " -p \"Once upon a time\" -n 24 --seed 7 --temp 1";
  const RunResult a = run_cli(args), b = run_cli(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_FALSE(a.out.empty());
}

TEST(CliRun, BadInputGivesOneLineError) {
  const std::string m = model("stories260K.gguf");
  expect_one_line_error("run -m " + m + " -p \"\"", "empty");
  expect_one_line_error("run -m " + m + " -p hi -n many", "--n-predict");
  expect_one_line_error("run -m " + m + " -p hi --temp hot", "--temp");
  expect_one_line_error("run -m /no/such.gguf -p hi", "/no/such.gguf");
  expect_one_line_error("run -p hi", "-m MODEL");
  const std::string long_prompt(400, 'a');
  expect_one_line_error("run -m " + m + " --ctx 16 -p \"" + long_prompt + "\"", "no room");
}

}  // namespace
}  // namespace sieve::test
