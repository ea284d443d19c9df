// ReplyChannels: a reply split into its answer and its reasoning as it
// streams, for each layout a chat template can ask for, whatever the pieces'
// boundaries (every reply is also fed one byte at a time).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/reply_channels.h"

namespace sieve::chat {
namespace {

struct Split {
  std::string answer, reasoning;
  bool ended = false;
};

Split run(ReplyFormat format, const std::vector<std::string>& pieces,
          ReplyChannels::Start start = ReplyChannels::Start::reply) {
  ReplyChannels channels(format, start);
  Split out;
  const auto take = [&](const ReplyPieces& p) {
    out.answer += p.answer;
    out.reasoning += p.reasoning;
  };
  for (const std::string& piece : pieces) take(channels.push(piece));
  take(channels.finish());
  out.ended = channels.ended();
  return out;
}

std::vector<std::string> bytes_of(const std::string& text) {
  std::vector<std::string> out;
  for (char c : text) out.emplace_back(1, c);
  return out;
}

// The same split whole and byte by byte.
Split run_both(ReplyFormat format, const std::string& text, ReplyChannels::Start start = ReplyChannels::Start::reply) {
  const Split whole = run(format, {text}, start);
  const Split bytes = run(format, bytes_of(text), start);
  EXPECT_EQ(whole.answer, bytes.answer);
  EXPECT_EQ(whole.reasoning, bytes.reasoning);
  EXPECT_EQ(whole.ended, bytes.ended);
  return whole;
}

TEST(ReplyFormat, IsReadFromTheTemplate) {
  EXPECT_EQ(reply_format_of(std::nullopt), ReplyFormat::plain);
  EXPECT_EQ(reply_format_of("{{ '<|im_start|>' + m.content }}"), ReplyFormat::plain);
  EXPECT_EQ(reply_format_of("{{ '<think>' + r + '</think>' }}"), ReplyFormat::think_tags);
  EXPECT_EQ(reply_format_of("{{ '<|start|>assistant<|channel|>final<|message|>' + m.content + '<|end|>' }}"),
            ReplyFormat::harmony);
}

TEST(ReplyChannels, PlainIsAllAnswer) {
  const Split s = run_both(ReplyFormat::plain, "Hello <think>not special here</think>");
  EXPECT_EQ(s.answer, "Hello <think>not special here</think>");
  EXPECT_EQ(s.reasoning, "");
}

TEST(ReplyChannels, ThinkTagsPutTheReasoningAside) {
  const Split s = run_both(ReplyFormat::think_tags, "<think>\nThe user greets me.\n</think>\n\nHello there.");
  EXPECT_EQ(s.reasoning, "\nThe user greets me.\n");
  EXPECT_EQ(s.answer, "Hello there.");
}

TEST(ReplyChannels, ThinkTagsWithoutReasoningAreAnAnswer) {
  EXPECT_EQ(run_both(ReplyFormat::think_tags, "Hello <think> there").answer, "Hello <think> there");
  EXPECT_EQ(run_both(ReplyFormat::think_tags, "  <thin").answer, "  <thin");  // cut short: shown as written
}

TEST(ReplyChannels, ThinkTagsOpenedByTheTemplate) {
  const Split s = run_both(ReplyFormat::think_tags, "Hmm.</think>Yes.", ReplyChannels::Start::reasoning);
  EXPECT_EQ(s.reasoning, "Hmm.");
  EXPECT_EQ(s.answer, "Yes.");
}

TEST(ReplyChannels, HarmonyAnalysisThenFinal) {
  const Split s = run_both(ReplyFormat::harmony,
                           "<|channel|>analysis<|message|>User says hi. Answer briefly.<|end|>"
                           "<|start|>assistant<|channel|>final<|message|>Hi! How can I help?<|return|>ignored");
  EXPECT_EQ(s.reasoning, "User says hi. Answer briefly.");
  EXPECT_EQ(s.answer, "Hi! How can I help?");
  EXPECT_TRUE(s.ended);
}

TEST(ReplyChannels, HarmonyToolCallEndsTheTurn) {
  const Split s = run_both(ReplyFormat::harmony,
                           "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant "
                           "to=functions.get_weather<|channel|>commentary json<|message|>{\"city\":\"Oslo\"}<|call|>");
  EXPECT_EQ(s.answer, "");
  EXPECT_EQ(s.reasoning, "Need the weather.{\"city\":\"Oslo\"}");
  EXPECT_TRUE(s.ended);
}

TEST(ReplyChannels, HarmonyCutShortKeepsWhatCame) {
  const Split s = run_both(ReplyFormat::harmony, "<|channel|>final<|message|>Hel");
  EXPECT_EQ(s.answer, "Hel");
  EXPECT_FALSE(s.ended);
}

TEST(ReplyChannels, HarmonyContinuedAnswer) {
  const Split s = run_both(ReplyFormat::harmony, "lo, world.<|return|>", ReplyChannels::Start::answer);
  EXPECT_EQ(s.answer, "lo, world.");
  EXPECT_EQ(ReplyChannels::answer_opening(ReplyFormat::harmony), "<|channel|>final<|message|>");
  EXPECT_EQ(ReplyChannels::answer_opening(ReplyFormat::plain), "");
}

TEST(ReplyChannels, TextThatIsNotHarmonyIsShown) {
  // A model that ignores the format: its words are not lost in a header.
  const std::string words(300, 'a');
  const Split s = run_both(ReplyFormat::harmony, words);
  EXPECT_EQ(s.answer, words);
  EXPECT_EQ(run_both(ReplyFormat::harmony, "short words").answer, "short words");
}

}  // namespace
}  // namespace sieve::chat
