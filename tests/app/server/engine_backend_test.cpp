// The engine behind `sieve serve`, with the real stories260K: greedy text
// completions, seeds, stop strings, a prompt too long, cancellation within
// one token, and chat requests unaffected by a text completion in between.

#include "server/engine_backend.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace sieve::server {
namespace {

const std::filesystem::path kModel = std::filesystem::path(SIEVE_SHARED_DIR) / "models" / "stories260K.gguf";

class EngineBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " is missing";
    EngineOptions options;
    options.model_path = kModel;
    options.threads = 1;
    options.context = 256;
    engine_ = Engine::load(options);
    backend_ = std::make_unique<EngineBackend>(*engine_, std::nullopt, "stories260K");
  }

  static CompletionRequest text(std::string prompt, int64_t max_tokens) {
    CompletionRequest r;
    r.kind = CompletionRequest::Kind::text;
    r.prompt = std::move(prompt);
    r.sampling.temperature = 0;
    r.sampling.max_tokens = max_tokens;
    return r;
  }

  static CompletionRequest chat(std::string message, uint64_t seed) {
    CompletionRequest r;
    r.messages = {{"system", "You tell stories."}, {"user", std::move(message)}};
    r.sampling.seed = seed;
    r.sampling.max_tokens = 24;
    return r;
  }

  CompletionResult run(const CompletionRequest& r) {
    return backend_->complete(r, [](std::string_view) { return true; });
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EngineBackend> backend_;
};

TEST_F(EngineBackendTest, GreedyTextCompletionWithUsage) {
  std::string streamed;
  const CompletionResult r = backend_->complete(text("Once upon a time", 12), [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  EXPECT_EQ(r.text.rfind(", there was a little girl named Lily", 0), 0u) << r.text;
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.finish, FinishReason::length);
  EXPECT_EQ(r.completion_tokens, 12);
  EXPECT_EQ(r.prompt_tokens, 5);  // BOS and four tokens
  EXPECT_FALSE(r.cancelled);
}

TEST_F(EngineBackendTest, StopStringsEndTheTextAndAreNotShown) {
  CompletionRequest r = text("Once upon a time", 30);
  r.sampling.stop = {"named"};
  const CompletionResult result = run(r);
  EXPECT_EQ(result.text, ", there was a little girl ");
  EXPECT_EQ(result.finish, FinishReason::stop);
}

TEST_F(EngineBackendTest, TheSameSeedSaysTheSameEvenAfterATextCompletion) {
  const CompletionResult first = run(chat("Tell me a story", 11));
  run(text("Lily and Ben went to the park", 20));  // runs the engine behind the chat session
  const CompletionResult again = run(chat("Tell me a story", 11));
  EXPECT_EQ(first.text, again.text);
  EXPECT_EQ(first.prompt_tokens, again.prompt_tokens);
  EXPECT_EQ(first.completion_tokens, 24);
}

TEST_F(EngineBackendTest, CancelStopsWithinOneToken) {
  for (const CompletionRequest& r : {text("Once upon a time", 200), chat("Tell me a story", 3)}) {
    int pieces = 0;
    const CompletionResult result = backend_->complete(r, [&](std::string_view) { return ++pieces < 2; });
    EXPECT_TRUE(result.cancelled);
    EXPECT_EQ(pieces, 2);  // never called again after it said no
    EXPECT_LE(result.completion_tokens, 3);  // the tokens of two pieces (one may need two), none after
  }
}

TEST_F(EngineBackendTest, APromptLongerThanTheContextIsRejectedAndTheNextRequestWorks) {
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "Once upon a time ";
  for (const CompletionRequest& r : {text(long_text, 10), chat(long_text, 1)}) {
    try {
      run(r);
      ADD_FAILURE() << "accepted a prompt of 1200 tokens in a context of 256";
    } catch (const RejectedRequest& e) {
      EXPECT_EQ(e.code(), "context_length_exceeded");
    }
  }
  EXPECT_EQ(run(text("Once upon a time", 4)).completion_tokens, 4);
  EXPECT_EQ(run(chat("Hi", 1)).completion_tokens, 24);
}

TEST_F(EngineBackendTest, TheLastMessageMustBeTheUsers) {
  CompletionRequest r = chat("Hi", 1);
  r.messages.push_back({"assistant", "Hello"});
  EXPECT_THROW(run(r), RejectedRequest);
  r.messages = {{"user", "a"}, {"system", "late"}, {"user", "b"}};
  EXPECT_THROW(run(r), RejectedRequest);
}

}  // namespace
}  // namespace sieve::server
