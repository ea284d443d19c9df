// ChatSession on stories260K (no chat template, so ChatML): replies stream,
// later turns prefill only their new tokens, cancel stops within one token,
// a full context forgets the oldest exchange but never the system prompt, and
// a message too long to fit is refused with the history kept, and a stored
// conversation or new reply options can be swapped in between replies.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chat/chat_session.h"
#include "engine.h"
#include "sampling/sampler.h"
#include "stories_engine.h"
#include "tokenizer/chat_template.h"

namespace sieve::test {
namespace {

using chat::ChatOptions;
using chat::ChatReply;
using chat::ChatSession;
using chat::StopReason;

ChatOptions greedy(int64_t max_reply) {
  ChatOptions options;
  options.sampling = sampling::SamplerOptions::greedy();
  options.max_reply_tokens = max_reply;
  return options;
}

// The greedy reply to one user message, computed with the engine directly.
std::string expected_first_reply(const std::string& message, int max_reply) {
  const auto engine = load_stories();
  const std::vector<tokenizer::ChatMessage> messages = {{"user", message}};
  tokenizer::TokenizeOptions tokenize;
  tokenize.add_bos = true;
  tokenize.parse_special = true;
  const std::vector<int32_t> prompt = engine->tokenizer().tokenize(tokenizer::format_chatml(messages, true), tokenize);
  sampling::Sampler sampler(sampling::SamplerOptions::greedy(), engine->model().n_vocab);
  std::span<const float> logits = engine->prefill(prompt);
  std::vector<int32_t> reply;
  for (int i = 0; i < max_reply; ++i) {
    const int32_t token = sampler.sample(logits);
    if (engine->is_end_of_generation(token)) break;
    reply.push_back(token);
    if (i + 1 < max_reply) logits = engine->decode(token);
  }
  return engine->tokenizer().detokenize(reply);
}

// One turn, collecting the streamed pieces.
ChatReply turn(ChatSession& session, const std::string& message, std::vector<std::string>* pieces = nullptr) {
  session.add_user_message(message);
  return session.generate_reply([pieces](std::string_view piece) {
    if (pieces != nullptr) pieces->emplace_back(piece);
  });
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const std::string& p : pieces) all += p;
  return all;
}

bool mentions(const ChatSession& session, const std::string& content) {
  const auto messages = session.messages();
  return std::any_of(messages.begin(), messages.end(), [&](const auto& m) { return m.content == content; });
}

TEST(ChatSession, StreamsTheReplyInPiecesWithTheChatmlFallback) {
  const auto engine = load_stories();
  ChatSession session(*engine, greedy(16));
  ASSERT_TRUE(session.template_fallback_reason().has_value());
  EXPECT_EQ(session.end_of_turn_text(), "<|im_end|>");

  std::vector<std::string> pieces;
  const ChatReply reply = turn(session, "Once upon a time", &pieces);
  EXPECT_GT(pieces.size(), 1u);
  EXPECT_EQ(joined(pieces), reply.text);
  EXPECT_EQ(reply.text, expected_first_reply("Once upon a time", 16));
  EXPECT_GT(reply.generated_tokens, 0);
  EXPECT_LE(reply.generated_tokens, 16);
  EXPECT_EQ(reply.stop, reply.generated_tokens == 16 ? StopReason::max_tokens : StopReason::end_of_generation);
  EXPECT_EQ(reply.reused_tokens, 0);
  EXPECT_EQ(reply.prefilled_tokens, engine->stats().prompt_tokens);

  ASSERT_EQ(session.messages().size(), 2u);
  EXPECT_EQ(session.messages()[0].role, "user");
  EXPECT_EQ(session.messages()[0].content, "Once upon a time");
  EXPECT_EQ(session.messages()[1].role, "assistant");
  EXPECT_EQ(session.messages()[1].content, reply.text);
}

TEST(ChatSession, TheSecondTurnPrefillsOnlyItsNewTokens) {
  const auto engine = load_stories();
  ChatSession session(*engine, greedy(20));
  const ChatReply first = turn(session, "Once upon a time there was a little girl named Lily who loved to play");
  const int64_t prompt_before = engine->stats().prompt_tokens;
  ASSERT_EQ(prompt_before, first.prefilled_tokens);

  const ChatReply second = turn(session, "ok");
  // The whole first prompt is still in the KV cache; only what follows it
  // (the reply, as text, and the new message) runs.
  EXPECT_GE(second.reused_tokens, first.prefilled_tokens);
  EXPECT_GT(second.prefilled_tokens, 0);
  EXPECT_LT(second.prefilled_tokens, first.prefilled_tokens);
  EXPECT_EQ(engine->stats().prompt_tokens - prompt_before, second.prefilled_tokens);
  // Every sampled token but the last (never run) is in the cache.
  EXPECT_EQ(engine->position(), second.reused_tokens + second.prefilled_tokens + second.generated_tokens - 1);
}

TEST(ChatSession, CancelStopsWithinOneToken) {
  const auto engine = load_stories();
  ChatSession session(*engine, greedy(64));
  const std::string full = expected_first_reply("Once upon a time", 64);

  std::atomic<bool> cancel{false};
  std::vector<std::string> pieces;
  session.add_user_message("Once upon a time");
  const ChatReply reply = session.generate_reply(
      [&](std::string_view piece) {
        pieces.emplace_back(piece);
        cancel = true;  // as a GUI's stop button would, from any thread
      },
      &cancel);
  EXPECT_EQ(reply.stop, StopReason::cancelled);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(reply.text, pieces[0]);
  EXPECT_EQ(full.rfind(reply.text, 0), 0u) << "the cut reply starts the full one";
  // No token was run after the flag was set.
  EXPECT_EQ(engine->stats().decode_tokens, reply.generated_tokens - 1);
  ASSERT_EQ(session.messages().size(), 2u);
  EXPECT_EQ(session.messages()[1].content, reply.text);

  // A flag already set stops before any work; the conversation goes on after.
  session.add_user_message("and then?");
  const int64_t prompt_before = engine->stats().prompt_tokens;
  const ChatReply none = session.generate_reply({}, &cancel);
  EXPECT_EQ(none.stop, StopReason::cancelled);
  EXPECT_EQ(none.generated_tokens, 0);
  EXPECT_EQ(none.prefilled_tokens, 0);
  EXPECT_EQ(engine->stats().prompt_tokens, prompt_before);
  EXPECT_EQ(session.messages().back().role, "assistant");
  EXPECT_EQ(session.messages().back().content, "");
  cancel = false;
  const ChatReply next = turn(session, "hello");
  EXPECT_GT(next.generated_tokens, 0);
  EXPECT_NE(next.stop, StopReason::cancelled);
}

TEST(ChatSession, AFullContextForgetsTheOldestExchangeButKeepsTheSystemPrompt) {
  const auto engine = load_stories(128);
  ChatSession session(*engine, greedy(8));
  session.set_system_prompt("Tell a story.");
  const std::vector<std::string> lines = {"hello there", "and more", "and again", "once more", "go on", "the end"};
  size_t dropped_total = 0;
  for (const std::string& line : lines) {
    const size_t dropped = session.add_user_message(line);
    EXPECT_EQ(dropped % 2, 0u) << "whole exchanges go";
    const ChatReply reply = session.generate_reply();
    EXPECT_EQ(reply.dropped_messages, dropped);
    EXPECT_LE(engine->position(), 128);
    dropped_total += dropped;
  }
  ASSERT_GT(dropped_total, 0u);
  EXPECT_FALSE(mentions(session, "hello there"));
  EXPECT_TRUE(mentions(session, "the end"));
  ASSERT_GE(session.messages().size(), 3u);
  EXPECT_EQ(session.messages()[0].role, "system");
  EXPECT_EQ(session.messages()[0].content, "Tell a story.");
  EXPECT_EQ(session.messages()[1].role, "user");
  EXPECT_EQ(session.messages().size(), 1 + 2 * (lines.size() - dropped_total / 2));
}

TEST(ChatSession, AMessageTooLongToFitAloneIsRefusedAndTheHistoryStays) {
  const auto engine = load_stories(128);
  ChatSession session(*engine, greedy(8));
  const ChatReply hi = turn(session, "hi");
  const std::vector<tokenizer::ChatMessage> before(session.messages().begin(), session.messages().end());

  std::string long_line;
  for (int i = 0; i < 40; ++i) long_line += "the little dog ran ";
  try {
    session.add_user_message(long_line);
    FAIL() << "the long message was accepted";
  } catch (const chat::MessageTooLongError& e) {
    EXPECT_EQ(std::string(e.what()), "the message does not fit in the context of 128 tokens");
    EXPECT_EQ(e.context_tokens(), 128);
    EXPECT_GT(e.needed_tokens(), 128);
  }
  ASSERT_EQ(session.messages().size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(session.messages()[i].content, before[i].content);
  EXPECT_THROW(session.generate_reply(), Error) << "nothing waits for a reply";

  // The KV cache was left alone: the next turn runs only its own tokens and
  // answers as if the long message had never been typed.
  const ChatReply ok = turn(session, "ok");
  EXPECT_GE(ok.reused_tokens, hi.prefilled_tokens);
  const auto fresh_engine = load_stories(128);
  ChatSession fresh(*fresh_engine, greedy(8));
  turn(fresh, "hi");
  EXPECT_EQ(ok.text, turn(fresh, "ok").text);
}

TEST(ChatSession, AReplyCutByAFullContextSaysSo) {
  const auto engine = load_stories(64);
  ChatSession session(*engine, greedy(1000));  // room for a reply: a quarter of the context
  const ChatReply reply = turn(session, "Once upon a time");
  ASSERT_NE(reply.stop, StopReason::end_of_generation) << "the story ended early; pick another prompt";
  EXPECT_EQ(reply.stop, StopReason::context_full);
  EXPECT_EQ(engine->position(), 64);
  EXPECT_EQ(reply.reused_tokens + reply.prefilled_tokens + reply.generated_tokens - 1, 64);
  // The next turn makes room by forgetting that exchange.
  EXPECT_EQ(session.add_user_message("hi"), 2u);
}

TEST(ChatSession, ContinuingACutReplyPicksUpWhereItStoppedInTheSameMessage) {
  const auto engine = load_stories();
  ChatSession session(*engine, greedy(8));
  const ChatReply first = turn(session, "Once upon a time");
  ASSERT_EQ(first.stop, StopReason::max_tokens);
  const int64_t cached = engine->position();

  std::vector<std::string> pieces;
  const ChatReply more = session.continue_reply([&](std::string_view piece) { pieces.emplace_back(piece); });
  EXPECT_EQ(joined(pieces), more.text);
  EXPECT_GT(more.generated_tokens, 0);
  // Greedy: the two parts are the reply an uncut 16-token limit gives.
  EXPECT_EQ(first.text + more.text, expected_first_reply("Once upon a time", 16));
  // The prompt and the first part stayed in the KV cache; only the cut token ran again.
  EXPECT_GE(more.reused_tokens, cached);
  EXPECT_LE(more.prefilled_tokens, 2);
  ASSERT_EQ(session.messages().size(), 2u);
  EXPECT_EQ(session.messages()[1].content, first.text + more.text);
}

TEST(ChatSession, ContinuingNeedsAReplyAndRoomForIt) {
  const auto engine = load_stories(64);
  ChatSession session(*engine, greedy(1000));
  EXPECT_THROW(session.continue_reply(), Error);  // nothing to continue
  const ChatReply cut = turn(session, "Once upon a time");
  ASSERT_EQ(cut.stop, StopReason::context_full);
  EXPECT_THROW(session.continue_reply(), chat::MessageTooLongError);
  ASSERT_EQ(session.messages().size(), 2u);
  EXPECT_EQ(session.messages()[1].content, cut.text);  // unchanged
  session.add_user_message("hi");
  EXPECT_THROW(session.continue_reply(), Error);  // the last message is the user's
}

TEST(ChatSession, SystemPromptCanBeSetReplacedAndRemovedAndResetKeepsIt) {
  const auto engine = load_stories();
  ChatSession session(*engine, greedy(4));
  session.set_system_prompt("Be brief.");
  turn(session, "hi");
  session.set_system_prompt("Be kind.");
  ASSERT_EQ(session.messages().size(), 3u);
  EXPECT_EQ(session.messages()[0].content, "Be kind.");
  session.reset();
  ASSERT_EQ(session.messages().size(), 1u);
  EXPECT_EQ(session.messages()[0].role, "system");
  session.set_system_prompt("");
  EXPECT_TRUE(session.messages().empty());

  // A system prompt changed between the message and the reply is used.
  session.add_user_message("hi");
  session.set_system_prompt("Be kind.");
  const ChatReply reply = session.generate_reply();
  EXPECT_GT(reply.prefilled_tokens, 0);
  EXPECT_EQ(session.messages().size(), 3u);
}

TEST(ChatSession, SetMessagesContinuesAStoredConversationReusingTheSharedPrefix) {
  const std::vector<tokenizer::ChatMessage> stored = {
      {"system", "Tell a story."}, {"user", "hello there"}, {"assistant", "Once upon a time"}};
  const auto engine = load_stories();
  ChatSession session(*engine, greedy(8));
  session.set_system_prompt("Tell a story.");
  const ChatReply other = turn(session, "a different conversation");

  session.set_messages(stored);  // the user switched conversation
  ASSERT_EQ(session.messages().size(), stored.size());
  const ChatReply reply = turn(session, "go on");
  // The system prompt's tokens are still in the KV cache; the rest runs.
  EXPECT_GT(reply.reused_tokens, 0);
  EXPECT_LT(reply.reused_tokens, other.prefilled_tokens);
  ASSERT_EQ(session.messages().size(), stored.size() + 2);
  EXPECT_EQ(session.messages()[1].content, "hello there");
  EXPECT_EQ(session.messages()[3].content, "go on");

  // The same reply as a session that only ever saw the stored conversation.
  const auto fresh_engine = load_stories();
  ChatSession fresh(*fresh_engine, greedy(8));
  fresh.set_messages(stored);
  EXPECT_EQ(turn(fresh, "go on").text, reply.text);

  // Misplaced or unknown roles are refused and change nothing.
  const size_t before = session.messages().size();
  EXPECT_THROW(session.set_messages({{"user", "hi"}, {"system", "late"}}), Error);
  EXPECT_THROW(session.set_messages({{"tool", "42"}}), Error);
  EXPECT_EQ(session.messages().size(), before);
  session.set_messages({});
  EXPECT_TRUE(session.messages().empty());
}

TEST(ChatSession, SamplingAndReplyLimitCanChangeBetweenReplies) {
  const auto engine = load_stories();
  ChatOptions options;  // sampled, not greedy
  options.max_reply_tokens = 64;
  ChatSession session(*engine, options);
  session.set_sampling(sampling::SamplerOptions::greedy());
  session.set_max_reply_tokens(6);
  const ChatReply reply = turn(session, "Once upon a time");
  EXPECT_EQ(reply.text, expected_first_reply("Once upon a time", 6));
  EXPECT_LE(reply.generated_tokens, 6);

  sampling::SamplerOptions bad = sampling::SamplerOptions::greedy();
  bad.repeat_penalty = 0.0f;
  EXPECT_THROW(session.set_sampling(bad), Error);
  EXPECT_THROW(session.set_max_reply_tokens(0), Error);
  // A limit changed after the message is added still holds for its reply.
  session.add_user_message("and then?");
  session.set_max_reply_tokens(2);
  EXPECT_LE(session.generate_reply().generated_tokens, 2);
}

// Templates written here in the layouts of gpt-oss (harmony channels) and of
// a reasoning model whose generation prompt opens "<think>".
constexpr const char* kHarmonyTemplate =
    "<|start|>system<|message|>Reasoning: medium<|end|>"
    "{%- for m in messages -%}"
    "{%- if m.role == 'assistant' -%}<|start|>assistant<|channel|>final<|message|>{{ m.content }}<|end|>"
    "{%- else -%}<|start|>{{ m.role }}<|message|>{{ m.content }}<|end|>{%- endif -%}"
    "{%- endfor -%}{%- if add_generation_prompt -%}<|start|>assistant{%- endif -%}";
constexpr const char* kOpensThinkingTemplate =
    "{%- for m in messages -%}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant\n<think>\n{%- endif -%}";

// The model's words reach the user even when they do not follow the layout
// its template asks for (stories260K knows nothing of channels): a harmony
// reply ends at "<|return|>", not at "<|end|>", which closes its reasoning.
TEST(ChatSession, AHarmonyTemplateEndsTurnsByItsChannels) {
  const auto engine = load_stories();
  ChatOptions options = greedy(12);
  options.chat_template = kHarmonyTemplate;
  ChatSession session(*engine, options);
  ASSERT_FALSE(session.template_fallback_reason().has_value());
  EXPECT_EQ(session.reply_format(), chat::ReplyFormat::harmony);
  EXPECT_EQ(session.end_of_turn_text(), "");
  std::vector<std::string> pieces;
  const ChatReply reply = turn(session, "Once upon a time", &pieces);
  EXPECT_FALSE(reply.text.empty());
  EXPECT_EQ(joined(pieces), reply.text);
  EXPECT_EQ(reply.reasoning, "");
}

// A template whose generation prompt opens "<think>": the reply starts as
// reasoning, kept beside the answer and out of the conversation.
TEST(ChatSession, AReplyOpenedAsReasoningIsNotTheAnswer) {
  const auto engine = load_stories();
  ChatOptions options = greedy(8);
  options.chat_template = kOpensThinkingTemplate;
  ChatSession session(*engine, options);
  EXPECT_EQ(session.reply_format(), chat::ReplyFormat::think_tags);
  session.add_user_message("Once upon a time");
  std::vector<std::string> pieces, thoughts;
  const ChatReply reply = session.generate_reply([&](std::string_view p) { pieces.emplace_back(p); }, nullptr,
                                                 [&](std::string_view p) { thoughts.emplace_back(p); });
  EXPECT_FALSE(reply.reasoning.empty());  // stories260K never writes "</think>"
  EXPECT_EQ(joined(thoughts), reply.reasoning);
  EXPECT_EQ(reply.text, "");
  EXPECT_TRUE(pieces.empty());
  EXPECT_EQ(session.messages().back().content, "");
}

TEST(ChatSession, BadUseIsRefusedWithSieveError) {
  const auto engine = load_stories();
  EXPECT_THROW(ChatSession(*engine, greedy(0)), Error);
  ChatSession session(*engine, greedy(4));
  EXPECT_THROW(session.generate_reply(), Error);
  EXPECT_STREQ(chat::stop_reason_name(StopReason::cancelled), "cancelled");
}

}  // namespace
}  // namespace sieve::test
