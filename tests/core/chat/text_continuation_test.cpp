// chat::continue_text on stories260K: the prompt continued as it is (the
// greedy tokens of a plain prefill / decode loop), streamed in pieces that
// make up its text, stopped by the token limit, a full context or a cancel
// (within one token), and a prompt with no room left refused before anything runs.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chat/text_continuation.h"
#include "engine.h"
#include "sampling/sampler.h"
#include "stories_engine.h"

namespace sieve::test {
namespace {

using chat::ChatReply;
using chat::StopReason;

// The greedy continuation's tokens, by the engine directly.
std::vector<int32_t> greedy_tokens(const std::string& prompt, int count) {
  const auto engine = load_stories();
  sampling::Sampler sampler(sampling::SamplerOptions::greedy(), engine->model().n_vocab);
  std::span<const float> logits = engine->prefill(engine->tokenize(prompt, engine->model().add_bos));
  std::vector<int32_t> tokens;
  for (int i = 0; i < count; ++i) {
    const int32_t token = sampler.sample(logits);
    if (engine->is_end_of_generation(token)) break;
    tokens.push_back(token);
    if (i + 1 < count) logits = engine->decode(token);
  }
  return tokens;
}

TEST(TextContinuation, ContinuesThePromptAsItIsInPieces) {
  const auto engine = load_stories();
  std::vector<std::string> pieces;
  const ChatReply reply = chat::continue_text(*engine, "Once upon a time", sampling::SamplerOptions::greedy(), 20,
                                              [&](std::string_view piece) { pieces.emplace_back(piece); });
  EXPECT_EQ(reply.stop, StopReason::max_tokens);
  EXPECT_EQ(reply.generated_tokens, 20);
  EXPECT_EQ(reply.reused_tokens, 0);
  EXPECT_EQ(reply.prefilled_tokens, static_cast<int64_t>(engine->tokenize("Once upon a time", engine->model().add_bos).size()));
  std::string streamed;
  for (const std::string& p : pieces) streamed += p;
  EXPECT_GT(pieces.size(), 5u);
  EXPECT_EQ(streamed, reply.text);
  // The text of a plain greedy loop's tokens.
  EXPECT_EQ(reply.text, engine->tokenizer().detokenize(greedy_tokens("Once upon a time", 20)));
}

TEST(TextContinuation, ACancelStopsWithinOneToken) {
  const auto engine = load_stories();
  std::atomic<bool> cancel{false};
  int pieces = 0;
  const ChatReply reply = chat::continue_text(*engine, "Once upon a time", sampling::SamplerOptions::greedy(), 200,
                                              [&](std::string_view) {
                                                if (++pieces == 3) cancel.store(true);  // the reader left
                                              },
                                              &cancel);
  EXPECT_EQ(reply.stop, StopReason::cancelled);
  EXPECT_EQ(pieces, 3);
  EXPECT_LE(reply.generated_tokens, 4);
  // The token whose piece saw the cancel was never decoded.
  EXPECT_EQ(engine->position(), reply.prefilled_tokens + reply.generated_tokens - 1);
}

TEST(TextContinuation, AFullContextEndsIt) {
  const auto engine = load_stories(32);
  const ChatReply reply = chat::continue_text(*engine, "Once upon a time", sampling::SamplerOptions::greedy(), 1000, {});
  if (reply.stop == StopReason::end_of_generation) GTEST_SKIP() << "the story ended before the context filled";
  EXPECT_EQ(reply.stop, StopReason::context_full);
  EXPECT_EQ(engine->remaining_context(), 0);
  // Every position holds a token; the last one sampled is the reply's, never run.
  EXPECT_EQ(engine->position(), 32);
  EXPECT_EQ(reply.prefilled_tokens + reply.generated_tokens - 1, 32);
}

TEST(TextContinuation, APromptWithNoRoomLeftIsRefusedBeforeAnythingRuns) {
  const auto engine = load_stories(32);
  std::string prompt = "Once";
  for (int i = 0; i < 40; ++i) prompt += " and then";
  try {
    chat::continue_text(*engine, prompt, sampling::SamplerOptions::greedy(), 4, {});
    FAIL() << "no exception";
  } catch (const chat::MessageTooLongError& e) {
    EXPECT_EQ(e.context_tokens(), 32);
    EXPECT_NE(std::string(e.what()).find("leaves no room in the model's context of 32"), std::string::npos) << e.what();
  }
  EXPECT_EQ(engine->position(), 0);
  EXPECT_THROW(chat::continue_text(*engine, "Once", sampling::SamplerOptions::greedy(), 0, {}), Error);
}

}  // namespace
}  // namespace sieve::test
