#include "cli/args.h"

#include <gtest/gtest.h>

#include "cli/suggest.h"
#include "util/byte_size.h"

#include <string>
#include <vector>

namespace sieve::cli {
namespace {

Args parse(std::vector<std::string> words, const std::vector<OptionSpec>& specs) {
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  return Args::parse(argv, specs);
}

const std::vector<OptionSpec> kSpecs = {
    {"threads", 't', true, "worker threads", "N"},
    {"bos", 0, false, "add BOS"},
    {"budget", 0, true, "DRAM budget", "SIZE"},
    {"temp", 0, true, "temperature", "T"},
};

TEST(Args, ParsesLongShortInlineAndPositional) {
  Args a = parse({"model.gguf", "-t", "4", "--bos", "--budget=2G", "--temp", "-0.5"}, kSpecs);
  EXPECT_EQ(a.positional(), std::vector<std::string>{"model.gguf"});
  EXPECT_EQ(a.get_int("threads", 1), 4);
  EXPECT_TRUE(a.has("bos"));
  EXPECT_EQ(a.get_size("budget", 0), 2ull << 30);
  EXPECT_DOUBLE_EQ(a.get_double("temp", 1.0), -0.5);
}

TEST(Args, RejectsNonNumericAndUnknown) {
  EXPECT_THROW(parse({"-t", "four"}, kSpecs).get_int("threads", 1), UsageError);
  EXPECT_THROW(parse({"--nope"}, kSpecs), UsageError);
  EXPECT_THROW(parse({"--threads"}, kSpecs), UsageError);
  EXPECT_THROW(parse({"--budget", "lots"}, kSpecs).get_size("budget", 0), UsageError);
  EXPECT_THROW(parse({"-t", "0"}, kSpecs).get_int("threads", 1, 1, 64), UsageError);
}

std::string usage_error_of(std::vector<std::string> words) {
  try {
    parse(std::move(words), kSpecs);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Args, UnknownOptionsSuggestTheNearestOfTheCommandsOptions) {
  EXPECT_EQ(usage_error_of({"--tmp", "0"}), "unknown option --tmp; did you mean --temp?");
  EXPECT_EQ(usage_error_of({"--thraeds", "2"}), "unknown option --thraeds; did you mean --threads?");
  EXPECT_EQ(usage_error_of({"--tmp=0.5"}), "unknown option --tmp=0.5; did you mean --temp?");
  EXPECT_EQ(usage_error_of({"-temp", "0"}), "unknown option -temp; did you mean --temp?");
  EXPECT_EQ(usage_error_of({"--budg", "1G"}), "unknown option --budg; did you mean --budget?");  // a prefix
  EXPECT_EQ(usage_error_of({"--model", "x"}), "unknown option --model (see --help)");
  EXPECT_EQ(usage_error_of({"-x"}), "unknown option -x (see --help)");
  EXPECT_EQ(usage_error_of({"---"}), "unknown option --- (see --help)");
}

TEST(Suggest, EditDistanceCountsASwapAsOneEdit) {
  EXPECT_EQ(edit_distance("temp", "temp"), 0u);
  EXPECT_EQ(edit_distance("tmp", "temp"), 1u);
  EXPECT_EQ(edit_distance("ctx", "cxt"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Suggest, NearestNameIsClosePrefixedOrNothing) {
  const std::vector<std::string> names = {"run", "chat", "info", "pack", "bench", "bench-kernels", "tokenize"};
  EXPECT_EQ(nearest_name("rn", names), "run");
  EXPECT_EQ(nearest_name("cht", names), "chat");
  EXPECT_EQ(nearest_name("tokenise", names), "tokenize");
  EXPECT_EQ(nearest_name("bench-kernel", names), "bench-kernels");
  EXPECT_EQ(nearest_name("bench", names), "bench");
  EXPECT_EQ(nearest_name("tok", names), "tokenize");   // the only name it begins
  EXPECT_EQ(nearest_name("ben", names), std::nullopt);  // begins two
  EXPECT_EQ(nearest_name("quantize", names), std::nullopt);
  EXPECT_EQ(nearest_name("x", names), std::nullopt);
  EXPECT_EQ(nearest_name("", names), std::nullopt);
  EXPECT_EQ(nearest_name("run", {}), std::nullopt);
}

TEST(Args, ParsesSizes) {
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_EQ(parse_byte_size("512K"), 512u * 1024);
  EXPECT_EQ(parse_byte_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_byte_size("2mb"), 2u << 20);
  EXPECT_FALSE(parse_byte_size("12Q"));
  EXPECT_FALSE(parse_byte_size(""));
  EXPECT_FALSE(parse_byte_size("-1G"));
}

}  // namespace
}  // namespace sieve::cli
