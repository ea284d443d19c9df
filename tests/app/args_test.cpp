#include "cli/args.h"

#include <gtest/gtest.h>

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

TEST(Args, ParsesSizes) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("512K"), 512u * 1024);
  EXPECT_EQ(parse_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_size("2mb"), 2u << 20);
  EXPECT_FALSE(parse_size("12Q"));
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("-1G"));
}

}  // namespace
}  // namespace sieve::cli
