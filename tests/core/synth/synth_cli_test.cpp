// `sieve synth` end to end: options reach the file, errors are one line.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "core/synth/synth_test_util.h"
#include "gguf/gguf_file.h"

#ifdef _WIN32
#define popen _popen
#define pclose _pclose
#else
#include <sys/wait.h>
#endif

namespace sieve::synth {
namespace {

using testing::ScratchDir;

int exit_code_of(int status) {
#ifdef _WIN32
  return status;  // _pclose returns the exit code itself
#else
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

RunResult run_cli(const std::string& arguments) {
  const std::string command = std::string("\"") + SIEVE_CLI_PATH + "\" synth " + arguments + " 2>&1";
  RunResult result;
#ifdef _WIN32
  // cmd.exe /c drops the first and the last quote of a line that starts with one: quote it whole.
  const std::string line = "\"" + command + "\"";
#else
  const std::string& line = command;
#endif
  std::FILE* pipe = popen(line.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  result.exit_code = exit_code_of(pclose(pipe));
  return result;
}

TEST(SynthCli, HelpDocumentsEveryOption) {
  const RunResult r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"--output", "--preset", "--dim", "--layers", "--ff", "--heads",
                             "--kv-heads", "--ctx", "--type", "--vocab-from", "--activation",
                             "--threshold", "--sparsity", "--seed", "--threads", "q4_k_m",
                             "tinyllama-1.1b", "qwen3-30b-a3b", "mixtral-8x7b", "gpt-oss-20b", "--experts",
                             "--experts-used", "--expert-ff", "--head-dim", "--router", "--router-skew",
                             "mxfp4_moe", "qwen2-57b-a14b", "qwen1.5-moe-a2.7b", "--shared-ff"}) {
    EXPECT_NE(r.output.find(option), std::string::npos) << option;
  }
}

TEST(SynthCli, WritesTheRequestedModel) {
  ScratchDir dir;
  const auto out = dir.file("cli.gguf");
  const RunResult r = run_cli("-o \"" + out.string() +
                              "\" --preset synthA-like --layers 2 --ff 512 --ctx 777 --type q4_k_m "
                              "--activation relu-threshold --sparsity 0.85 --seed 9 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote "), std::string::npos) << r.output;
  // Not a terminal: no progress line, only the summary.
  EXPECT_EQ(r.output.find('\r'), std::string::npos) << r.output;
  const gguf::GgufFile f = gguf::GgufFile::open(out);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 256);
  EXPECT_EQ(f.get_int("llama.block_count"), 2);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 512);
  EXPECT_EQ(f.get_int("llama.context_length"), 777);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f.get_int("general.file_type"), 15);
  EXPECT_EQ(f.get_int("sieve.synth.seed"), 9);
  EXPECT_EQ(f.get_string("sieve.ffn.activation"), "fatrelu");
  EXPECT_NEAR(*f.get_float("sieve.synth.target_sparsity"), 0.85, 1e-6);
  EXPECT_EQ(f.find_tensor("output.weight")->type, tensor::TensorType::Q6_K);
}

TEST(SynthCli, WritesASmallMixtureOfExpertsModel) {
  ScratchDir dir;
  const auto out = dir.file("moe.gguf");
  const RunResult r = run_cli("-o \"" + out.string() +
                              "\" --preset gpt-oss-20b --layers 2 --dim 256 --heads 4 --kv-heads 2 --experts 8 "
                              "--experts-used 2 --expert-ff 256 --router skewed --router-skew 1.5 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("router skewed"), std::string::npos) << r.output;
  const gguf::GgufFile f = gguf::GgufFile::open(out);
  EXPECT_EQ(f.architecture(), "gpt-oss");
  EXPECT_EQ(f.get_int("gpt-oss.expert_count"), 8);
  EXPECT_EQ(f.get_int("gpt-oss.expert_used_count"), 2);
  EXPECT_EQ(f.get_int("gpt-oss.expert_feed_forward_length"), 256);
  EXPECT_EQ(f.get_int("gpt-oss.attention.sliding_window"), 128);
  EXPECT_EQ(f.get_int("general.file_type"), 38);  // mxfp4_moe, the preset's default
  EXPECT_EQ(f.get_string("sieve.synth.router"), "skewed");
  EXPECT_NEAR(*f.get_float("sieve.synth.router_skew"), 1.5, 1e-6);
  EXPECT_EQ(f.find_tensor("blk.1.ffn_down_exps.weight")->type, tensor::TensorType::MXFP4);
  EXPECT_EQ(f.find_tensor("blk.1.attn_q.weight")->type, tensor::TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.1.attn_sinks.weight")->type, tensor::TensorType::F32);
}

TEST(SynthCli, WritesASmallQwen2MoeModelWithItsSharedExpert) {
  ScratchDir dir;
  const auto out = dir.file("q2.gguf");
  const RunResult r = run_cli("-o \"" + out.string() +
                              "\" --preset qwen2-57b-a14b --layers 2 --dim 128 --heads 4 --kv-heads 2 --experts 8 "
                              "--experts-used 2 --expert-ff 128 --shared-ff 256 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const gguf::GgufFile f = gguf::GgufFile::open(out);
  EXPECT_EQ(f.architecture(), "qwen2moe");
  EXPECT_EQ(f.get_int("qwen2moe.expert_feed_forward_length"), 128);
  EXPECT_EQ(f.get_int("qwen2moe.expert_shared_feed_forward_length"), 256);
  EXPECT_EQ(f.find_tensor("blk.1.ffn_down_shexp.weight")->dims, (std::vector<uint64_t>{256, 128}));
  EXPECT_EQ(f.find_tensor("blk.1.ffn_gate_inp_shexp.weight")->type, tensor::TensorType::F32);
}

TEST(SynthCli, BadValuesFailWithOneLine) {
  ScratchDir dir;
  const std::string out = "-o \"" + dir.file("x.gguf").string() + "\" ";
  const struct {
    std::string args;
    const char* fragment;
  } cases[] = {
      {out + "--type q9_9", "unknown type 'q9_9'"},
      {out + "--heads 7", "does not divide dim"},
      {out + "--type q4_0 --dim 48 --heads 2 --kv-heads 2", "Q4_0 block size"},
      {out + "--preset gpt-9", "unknown preset"},
      {out + "--activation gelu", "unknown activation"},
      {out + "--dim many", "--dim: expected a whole number"},
      {out + "--activation relu-threshold --sparsity 1.5", "strictly between 0 and 1"},
      {out + "--router skewed", "needs a Mixture-of-Experts shape"},
      {out + "--preset qwen3-30b-a3b --router-skew 2", "--router-skew needs --router skewed"},
      {out + "--preset qwen3-30b-a3b --router sideways", "unknown router 'sideways'"},
      {out + "--preset mixtral-8x7b --experts 4 --experts-used 5", "used expert count"},
      {out + "--preset qwen3-30b-a3b --activation relu", "for dense models"},
      {out + "--preset qwen3-30b-a3b --shared-ff 512", "--shared-ff needs a preset with a shared expert"},
      {out + "--preset qwen2-57b-a14b --shared-ff 0", "--shared-ff"},
      {"--type f16", "--output FILE is required"},
      {"-o /no/such/folder/x.gguf", "does not exist"},
  };
  for (const auto& c : cases) {
    const RunResult r = run_cli(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.output.find(c.fragment), std::string::npos) << c.args << " -> " << r.output;
    EXPECT_EQ(r.output.rfind("sieve synth: ", 0), 0u) << r.output;
    EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "more than one line: " << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

}  // namespace
}  // namespace sieve::synth
