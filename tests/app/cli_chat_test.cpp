// `sieve chat` driven through a pipe: replies, KV-cache reuse across turns,
// the slash commands (/help, /reset, /exit, /quit, unknown ones, "//"), end
// of input, a full context, and bad options.

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "app/cli_test_util.h"
#include "engine.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"

namespace sieve::test {
namespace {

const std::string kStories = shared_model("stories260K.gguf");
const std::string kGreedy = " --temp 0 -t 1 -m " + kStories;

// Tokens run through prefill, from the statistics line on stderr.
int64_t prompt_tokens(const std::string& err) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("prompt: ([0-9]+) tokens"))) return -1;
  return std::stoll(m[1].str());
}

// The greedy reply to one user message, computed with the engine directly:
// stories260K has no chat template, so the conversation is ChatML, tokenized
// with BOS as the model asks.
std::string expected_first_reply(const std::string& message, int n_predict) {
  EngineOptions options;
  options.model_path = kStories;
  options.threads = 1;
  const auto engine = Engine::load(options);
  const std::vector<tokenizer::ChatMessage> messages = {{"user", message}};
  tokenizer::TokenizeOptions tokenize;
  tokenize.add_bos = true;
  tokenize.parse_special = true;
  const std::vector<int32_t> prompt = engine->tokenizer().tokenize(tokenizer::format_chatml(messages, true), tokenize);
  sampling::Sampler sampler(sampling::SamplerOptions::greedy(), engine->model().n_vocab);
  std::span<const float> logits = engine->prefill(prompt);
  std::vector<int32_t> reply;
  for (int i = 0; i < n_predict; ++i) {
    const int32_t token = sampler.sample(logits);
    if (engine->is_end_of_generation(token)) break;
    reply.push_back(token);
    if (i + 1 < n_predict) logits = engine->decode(token);
  }
  return engine->tokenizer().detokenize(reply) + "\n";
}

TEST(CliChat, RepliesToPipedMessagesWithTheFallbackTemplateAndExitsAtEndOfInput) {
  const CliResult r = run_sieve("chat -n 16" + kGreedy, "Once upon a time\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected_first_reply("Once upon a time", 16));
  EXPECT_NE(r.err.find("the model has no chat template; using ChatML"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("decode: 15 tokens"), std::string::npos) << r.err;
}

TEST(CliChat, RunsOnlyTheNewTokensOfEachTurn) {
  const std::string first =
      "Once upon a time there was a little girl named Lily who loved to play in the park with her friends";
  const CliResult one = run_sieve("chat -n 20" + kGreedy, first + "\n");
  const CliResult two = run_sieve("chat -n 20" + kGreedy, first + "\nok\n");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const int64_t first_turn = prompt_tokens(one.err);
  const int64_t second_turn = prompt_tokens(two.err) - first_turn;
  ASSERT_GT(first_turn, 40);
  // Re-running the whole history would prefill the first turn's prompt again,
  // plus the reply and the new message.
  EXPECT_GT(second_turn, 0);
  EXPECT_LT(second_turn, first_turn) << two.err;
}

TEST(CliChat, ResetStartsOverAndQuitLeaves) {
  const CliResult r = run_sieve("chat -n 8" + kGreedy, "hello\n/reset\n\nhello\n/quit\nnever answered\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string reply = expected_first_reply("hello", 8);
  EXPECT_EQ(r.out, reply + reply);
  EXPECT_NE(r.err.find("[conversation reset]"), std::string::npos) << r.err;
}

TEST(CliChat, SlashCommandsAreHandledLocallyAndNeverSent) {
  const CliResult r =
      run_sieve("chat -n 8" + kGreedy, "/help\n/xyz\n/rest\n/\nhello\n/exit\nnever answered\n");
  const CliResult plain = run_sieve("chat -n 8" + kGreedy, "hello\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // One reply, to "hello", from the same tokens as a chat of that line alone:
  // no command reached the model, and /exit left before the last line.
  EXPECT_EQ(r.out, expected_first_reply("hello", 8));
  EXPECT_EQ(prompt_tokens(r.err), prompt_tokens(plain.err)) << r.err;
  for (const char* listed : {"  /help ", "  /reset ", "  /exit ", "  /quit ", "//"}) {
    EXPECT_NE(r.err.find(listed), std::string::npos) << listed << " in " << r.err;
  }
  EXPECT_NE(r.err.find("[unknown command /xyz, /help lists them]\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[unknown command /rest; did you mean /reset? /help lists them]\n"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("[unknown command /, /help lists them]\n"), std::string::npos) << r.err;
}

TEST(CliChat, ACommandWithWordsAfterItIsStillTheCommand) {
  const CliResult r = run_sieve("chat -n 8" + kGreedy, "hello\n/reset please\nhello\n/quit now\nhello\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string reply = expected_first_reply("hello", 8);
  EXPECT_EQ(r.out, reply + reply);
}

TEST(CliChat, ADoubleSlashSendsAMessageStartingWithASlash) {
  const CliResult r = run_sieve("chat -n 8" + kGreedy, "//help me\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected_first_reply("/help me", 8));
  EXPECT_EQ(r.err.find("unknown command"), std::string::npos) << r.err;
}

TEST(CliChat, FullContextForgetsTheOldestMessages) {
  const CliResult r = run_sieve("chat -n 8 --ctx 64" + kGreedy, "hello there\nand more\nand again\nonce more\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("context full: forgot the 2 oldest message(s)"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n') >= 4, true) << r.out;
}

TEST(CliChat, AMessageLongerThanTheContextIsNotSentAndTheHistoryStays) {
  std::string long_line;
  for (int i = 0; i < 40; ++i) long_line += "the little dog ran ";
  const CliResult r = run_sieve("chat -n 8 --ctx 64" + kGreedy, long_line + "\nhi\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("does not fit in the context of 64 tokens; it was not sent"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, expected_first_reply("hi", 8));

  // After "hi" and its reply, the long message fails without forgetting
  // them: the next turn runs only its own new tokens.
  const CliResult two = run_sieve("chat -n 8 --ctx 128" + kGreedy, "hi\n" + long_line + "\nok\n");
  const CliResult one = run_sieve("chat -n 8 --ctx 128" + kGreedy, "hi\nok\n");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.err.find("it was not sent"), std::string::npos) << two.err;
  EXPECT_EQ(two.err.find("forgot"), std::string::npos) << two.err;
  EXPECT_EQ(two.out, one.out);
  EXPECT_EQ(prompt_tokens(two.err), prompt_tokens(one.err));
}

TEST(CliChat, BadOptionsAndModelsFailWithOneLine) {
  const CliResult missing = run_sieve("chat -m /nonexistent/model.gguf", "hi\n");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  EXPECT_EQ(run_sieve("chat", "").exit_code, 2);
  EXPECT_EQ(run_sieve("chat -m " + kStories + " --temp warm", "").exit_code, 2);
  EXPECT_EQ(run_sieve("chat -m " + kStories + " extra", "").exit_code, 2);
  EXPECT_EQ(run_sieve("chat -m " + kStories + " -n 0", "").exit_code, 2);
  const CliResult help = run_sieve("chat --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("/reset"), std::string::npos);
  EXPECT_NE(help.out.find("/help"), std::string::npos);
  const CliResult typo = run_sieve("chat -m " + kStories + " --sytem hi", "");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err, "sieve chat: unknown option --sytem; did you mean --system?\n");
}

}  // namespace
}  // namespace sieve::test
