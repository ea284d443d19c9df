// Server-sent events framing: what an event-stream parser reads back.

#include "server/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sieve::server {
namespace {

// A minimal event-stream reader (the WHATWG algorithm's data lines):
// the data of each event, lines joined with "\n"; comments skipped.
std::vector<std::string> read_events(const std::string& stream) {
  std::vector<std::string> events;
  std::string data;
  bool has_data = false;
  size_t start = 0;
  while (start < stream.size()) {
    size_t end = stream.find('\n', start);
    if (end == std::string::npos) end = stream.size();
    const std::string line = stream.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      if (has_data) events.push_back(data);
      data.clear();
      has_data = false;
    } else if (line.rfind("data: ", 0) == 0) {
      if (has_data) data += '\n';
      data += line.substr(6);
      has_data = true;
    }
  }
  return events;
}

TEST(Sse, OneLineEvent) { EXPECT_EQ(sse_event("{\"a\":1}"), "data: {\"a\":1}\n\n"); }

TEST(Sse, LineBreaksBecomeDataLinesAndComeBack) {
  EXPECT_EQ(sse_event("a\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(sse_event("a\r\nb\rc"), "data: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(read_events(sse_event("one\ntwo\n")), (std::vector<std::string>{"one\ntwo\n"}));
  EXPECT_EQ(read_events(sse_event("")), (std::vector<std::string>{""}));
}

TEST(Sse, DoneAndComments) {
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  const std::string comment = sse_comment("waiting\nstill");
  EXPECT_EQ(comment, ": waiting still\n\n");
  EXPECT_TRUE(read_events(comment).empty());
  EXPECT_EQ(read_events(sse_event("x") + comment + sse_done()), (std::vector<std::string>{"x", "[DONE]"}));
}

}  // namespace
}  // namespace sieve::server
