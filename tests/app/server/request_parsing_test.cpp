// Request bodies of /v1/chat/completions and /v1/completions: what is
// accepted, and the 400 (with the parameter named) for what is not.

#include "server/request_parsing.h"

#include <gtest/gtest.h>

#include <string>

#include "server/api_error.h"

namespace sieve::server {
namespace {

constexpr int64_t kContext = 2048;

ApiError chat_error(const std::string& body) {
  try {
    parse_chat_request(body, kContext);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return ApiError(0, "");
}

ApiError completion_error(const std::string& body) {
  try {
    parse_completion_request(body, kContext);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return ApiError(0, "");
}

TEST(ChatRequest, ReadsMessagesAndSampling) {
  const ParsedRequest r = parse_chat_request(
      R"({"model": "m", "messages": [{"role": "system", "content": "Be terse."},
          {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}],
          "temperature": 0.5, "top_p": 0.9, "max_tokens": 12, "stop": ["\n", "END"], "seed": 7,
          "stream": true, "stream_options": {"include_usage": true}, "user": "ignored", "n": 1})",
      kContext);
  ASSERT_EQ(r.completion.kind, CompletionRequest::Kind::chat);
  ASSERT_EQ(r.completion.messages.size(), 2u);
  EXPECT_EQ(r.completion.messages[0].role, "system");
  EXPECT_EQ(r.completion.messages[1].content, "Hello");
  EXPECT_DOUBLE_EQ(r.completion.sampling.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r.completion.sampling.top_p, 0.9);
  EXPECT_EQ(r.completion.sampling.max_tokens, 12);
  EXPECT_EQ(r.completion.sampling.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_EQ(r.completion.sampling.seed, 7u);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(ChatRequest, DefaultsAreOpenAis) {
  const ParsedRequest r = parse_chat_request(R"({"messages": [{"role": "developer", "content": "x"},
                                                 {"role": "user", "content": "y"}], "temperature": null})",
                                             kContext);
  EXPECT_EQ(r.completion.messages[0].role, "system");  // "developer" is the newer name
  EXPECT_DOUBLE_EQ(r.completion.sampling.temperature, 1.0);
  EXPECT_DOUBLE_EQ(r.completion.sampling.top_p, 1.0);
  EXPECT_FALSE(r.completion.sampling.max_tokens.has_value());
  EXPECT_FALSE(r.completion.sampling.seed.has_value());
  EXPECT_FALSE(r.stream);
}

TEST(ChatRequest, MaxCompletionTokensIsTheNewName) {
  const ParsedRequest r =
      parse_chat_request(R"({"messages": [{"role": "user", "content": "y"}], "max_completion_tokens": 3})", kContext);
  EXPECT_EQ(r.completion.sampling.max_tokens, 3);
}

TEST(ChatRequest, MalformedBodiesAre400) {
  for (const char* body : {"", "{", "not json", "[1, 2]", "\"text\"", "{\"messages\": [}", "{\"a\": 1} trailing",
                           "{\"messages\": \"\xff\xfe\"}"}) {
    const ApiError e = chat_error(body);
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_EQ(e.type(), "invalid_request_error");
  }
}

TEST(ChatRequest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = "{\"messages\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  const ApiError e = chat_error(deep);
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("nests deeper"), std::string::npos);
  // Brackets inside strings are text, not nesting.
  const std::string in_string = R"({"messages": [{"role": "user", "content": ")" + std::string(1000, '[') + "\"}]}";
  EXPECT_EQ(parse_chat_request(in_string, kContext).completion.messages[0].content, std::string(1000, '['));
}

TEST(ChatRequest, WrongTypesNameTheParameter) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"({"messages": "hi"})", "messages"},
      {R"({"messages": []})", "messages"},
      {R"({})", "messages"},
      {R"({"messages": [5]})", "messages[0]"},
      {R"({"messages": [{"role": 1, "content": "x"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "tool", "content": "x"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content"},
      {R"({"messages": [{"role": "user"}]})", "messages[0].content"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", "messages[0].content"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": -0.1})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_p": 1.5})", "top_p"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 2049})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 99999999999999999999})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": "9"})", "max_completion_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": 5})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", 1]})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": ""})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "seed": "1"})", "seed"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})", "stream"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream_options": 1})", "stream_options"},
      {R"({"messages": [{"role": "user", "content": "x"}], "model": 4})", "model"},
      {R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", "n"},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true})", "logprobs"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})", "tools"},
      {R"({"messages": [{"role": "user", "content": "x"}], "frequency_penalty": -1})", "frequency_penalty"},
  };
  for (const Case& c : cases) {
    const ApiError e = chat_error(c.body);
    EXPECT_EQ(e.status(), 400) << c.body;
    EXPECT_EQ(e.param(), std::optional<std::string>(c.param)) << c.body << ": " << e.what();
  }
}

TEST(CompletionRequest, ReadsThePromptAndDefaultsTo16Tokens) {
  const ParsedRequest r = parse_completion_request(R"({"model": "m", "prompt": "Once upon"})", kContext);
  EXPECT_EQ(r.completion.kind, CompletionRequest::Kind::text);
  EXPECT_EQ(r.completion.prompt, "Once upon");
  EXPECT_EQ(r.completion.sampling.max_tokens, 16);  // OpenAI's default for completions
  EXPECT_EQ(parse_completion_request(R"({"prompt": ["one"], "stop": "x"})", kContext).completion.prompt, "one");
}

TEST(CompletionRequest, RefusesWhatItCannotHonour) {
  for (const char* body : {R"({})", R"({"prompt": ""})", R"({"prompt": 5})", R"({"prompt": ["a", "b"]})",
                           R"({"prompt": [1, 2, 3]})", R"({"prompt": "x", "echo": true})",
                           R"({"prompt": "x", "suffix": "y"})", R"({"prompt": "x", "logprobs": 2})"}) {
    EXPECT_EQ(completion_error(body).status(), 400) << body;
  }
}

}  // namespace
}  // namespace sieve::server
