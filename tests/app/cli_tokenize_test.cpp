// Runs the built `sieve tokenize` and `sieve template` on the shared
// vocabularies: output formats, the reference vectors, and one-line errors.

#include <gtest/gtest.h>

#include "app/cli_test_util.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;

using RunResult = sieve::test::ShellResult;
using sieve::test::run_sieve_shell;

fs::path vocab(const std::string& name) {
  return fs::path(SIEVE_SHARED_DIR) / "vocab" / ("ggml-vocab-" + name + ".gguf");
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class TempDir {
 public:
  // Unique per test and process: ctest may run tests (and other builds) in parallel.
  TempDir()
      : path_(fs::temp_directory_path() /
              ("sieve_cli_tokenize_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
               "_" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  fs::path path_;
};

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

#define REQUIRE_VOCAB(name) \
  if (!fs::exists(vocab(name))) GTEST_SKIP() << "no " << vocab(name)

TEST(CliTokenize, PrintsIdsOnOneLine) {
  REQUIRE_VOCAB("llama-spm");
  const RunResult plain = run_sieve_shell("tokenize -m " + quoted(vocab("llama-spm")) + " -p 'Hello world'", "2>/dev/null");
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_EQ(plain.output, "15043 3186\n");
  const RunResult bos = run_sieve_shell("tokenize -m " + quoted(vocab("llama-spm")) + " -p 'Hello world' --bos", "2>/dev/null");
  EXPECT_EQ(bos.output, "1 15043 3186\n");
}

TEST(CliTokenize, PrintsPiecesWithEscapes) {
  REQUIRE_VOCAB("gpt-2");
  const RunResult r = run_sieve_shell("tokenize -m " + quoted(vocab("gpt-2")) +
                                  " --pieces --parse-special -p 'a\tb<|endoftext|>'",  // a real tab, single-quoted
                              "2>/dev/null");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "64\ta\n197\t\\t\n65\tb\n50256\t<|endoftext|>\n");
}

TEST(CliTokenize, FileInputMatchesTheReferenceVectors) {
  REQUIRE_VOCAB("deepseek-llm");
  const std::string inputs = read_file(vocab("deepseek-llm").string() + ".inp");
  const std::string outputs = read_file(vocab("deepseek-llm").string() + ".out");
  const std::string separator = "\n__ggml_vocab_test__\n";
  TempDir dir;
  size_t in_pos = 0, out_pos = 0;
  for (int i = 0; i < 12; ++i) {
    const size_t in_end = inputs.find(separator, in_pos);
    const size_t out_end = outputs.find('\n', out_pos);
    ASSERT_NE(in_end, std::string::npos);
    const fs::path text = dir.write("text" + std::to_string(i), inputs.substr(in_pos, in_end - in_pos));
    std::string expected = outputs.substr(out_pos, out_end - out_pos);
    expected.erase(0, expected.find_first_not_of(' '));
    const RunResult r = run_sieve_shell("tokenize -m " + quoted(vocab("deepseek-llm")) + " -f " + quoted(text), "2>/dev/null");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output, expected + "\n") << "string " << i;
    in_pos = in_end + separator.size();
    out_pos = out_end + 1;
  }
}

TEST(CliTokenize, ErrorsAreOneLineWithNonZeroExit) {
  REQUIRE_VOCAB("gpt-2");
  const std::string model = " -m " + quoted(vocab("gpt-2"));
  const std::pair<std::string, int> cases[] = {
      {"tokenize -p x", 2},                                      // no model
      {"tokenize" + model, 2},                                   // no text
      {"tokenize" + model + " -p x -f y", 2},                    // both
      {"tokenize" + model + " -p x --no-such-option", 2},
      {"tokenize" + model + " -f /nonexistent/file.txt", 1},
      {"tokenize -m /nonexistent/model.gguf -p x", 1},
  };
  for (const auto& [args, code] : cases) {
    const RunResult r = run_sieve_shell(args);
    EXPECT_EQ(r.exit_code, code) << args;
    EXPECT_TRUE(one_line(r.output)) << args << ": " << r.output;
  }
}

TEST(CliTemplate, FallsBackToChatMLWithAWarning) {
  REQUIRE_VOCAB("llama-spm");
  TempDir dir;
  const fs::path messages = dir.write("m.json", R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}])");
  const RunResult out = run_sieve_shell("template -m " + quoted(vocab("llama-spm")) + " -f " + quoted(messages), "2>/dev/null");
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.output, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  const RunResult err = run_sieve_shell("template -m " + quoted(vocab("llama-spm")) + " -f " + quoted(messages), "2>&1 >/dev/null");
  EXPECT_EQ(err.output, "sieve template: warning: the model has no chat template; used ChatML\n");
}

TEST(CliTemplate, UsesATemplateFileWithTheModelsBosToken) {
  REQUIRE_VOCAB("llama-spm");
  TempDir dir;
  const fs::path messages = dir.write("m.json", R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}])");
  const fs::path tmpl = dir.write("t.jinja",
                                  "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}\n"
                                  "{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}");
  const std::string args = "template -m " + quoted(vocab("llama-spm")) + " -f " + quoted(messages) + " -t " + quoted(tmpl);
  EXPECT_EQ(run_sieve_shell(args, "2>/dev/null").output, "<s>[user] Hi</s>\n[assistant] Yo</s>\n[assistant]");
  EXPECT_EQ(run_sieve_shell(args + " --no-generation-prompt", "2>/dev/null").output, "<s>[user] Hi</s>\n[assistant] Yo</s>\n");
}

TEST(CliTemplate, ErrorsAreOneLineWithNonZeroExit) {
  REQUIRE_VOCAB("llama-spm");
  TempDir dir;
  const std::string model = " -m " + quoted(vocab("llama-spm"));
  const fs::path good = dir.write("good.json", R"([{"role":"system","content":"S"}])");
  const fs::path no_content = dir.write("a.json", R"([{"role":"user"}])");
  const fs::path trailing_comma = dir.write("b.json", R"([{"role":"user","content":"x"},])");
  const fs::path raising = dir.write("r.jinja", "{{ raise_exception('System role not supported') }}");
  const std::pair<std::string, std::string> cases[] = {
      {"template" + model + " -f " + quoted(no_content), "message 1 needs a string \"content\""},
      {"template" + model + " -f " + quoted(trailing_comma), "b.json: JSON"},
      {"template" + model + " -f " + quoted(good) + " -t " + quoted(raising), "System role not supported"},
      {"template" + model + " -f /nonexistent.json", "cannot read"},
  };
  for (const auto& [args, fragment] : cases) {
    const RunResult r = run_sieve_shell(args);
    EXPECT_EQ(r.exit_code, 1) << args;
    EXPECT_TRUE(one_line(r.output)) << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
  }
  EXPECT_EQ(run_sieve_shell("template" + model).exit_code, 2);
}

}  // namespace
