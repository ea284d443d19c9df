// The response bodies, read back as JSON: the members OpenAI's clients read.

#include "server/openai_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sieve::server {
namespace {

using Json = nlohmann::json;

const ResponseIdentity kWho{"chatcmpl-1", 1700000000, "stories260K"};

CompletionResult result(std::string text, FinishReason finish) {
  CompletionResult r;
  r.text = std::move(text);
  r.finish = finish;
  r.prompt_tokens = 5;
  r.completion_tokens = 3;
  return r;
}

TEST(OpenAiJson, ErrorShape) {
  const Json e = Json::parse(error_body(ApiError(401, "incorrect API key", "invalid_request_error", std::nullopt,
                                                 "invalid_api_key")));
  EXPECT_EQ(e["error"]["message"], "incorrect API key");
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(e["error"]["param"].is_null());
  EXPECT_EQ(e["error"]["code"], "invalid_api_key");
}

TEST(OpenAiJson, Models) {
  const Json list = Json::parse(models_body("stories260K", 1));
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], "stories260K");
  EXPECT_EQ(list["data"][0]["object"], "model");
}

TEST(OpenAiJson, ChatCompletionWithUsage) {
  const Json c = Json::parse(chat_completion_body(kWho, result("Hi \"there\"\n", FinishReason::length)));
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["model"], "stories260K");
  EXPECT_EQ(c["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(c["choices"][0]["message"]["content"], "Hi \"there\"\n");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c["usage"]["total_tokens"], 8);
}

TEST(OpenAiJson, ChatChunks) {
  const Json role = Json::parse(chat_role_chunk(kWho));
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(Json::parse(chat_piece_chunk(kWho, "word"))["choices"][0]["delta"]["content"], "word");
  const Json last = Json::parse(chat_finish_chunk(kWho, FinishReason::stop));
  EXPECT_TRUE(last["choices"][0]["delta"].empty());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  const Json usage = Json::parse(usage_chunk(kWho, "chat.completion.chunk", result("", FinishReason::stop)));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 5);
}

TEST(OpenAiJson, TextCompletion) {
  const Json c = Json::parse(text_completion_body({"cmpl-1", 1, "m"}, result(" there was", FinishReason::stop)));
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["choices"][0]["text"], " there was");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(Json::parse(text_piece_chunk({"cmpl-1", 1, "m"}, "a"))["choices"][0]["text"], "a");
}

TEST(OpenAiJson, BytesThatAreNotUtf8DoNotThrow) {
  const std::string body = chat_piece_chunk(kWho, "\xff\xfe");
  EXPECT_NO_THROW(Json::parse(body));
  EXPECT_EQ(body.find('\n'), std::string::npos);  // one SSE data line
}

}  // namespace
}  // namespace sieve::server
