#pragma once
// Server-sent events framing (the WHATWG HTML "text/event-stream" format), as
// OpenAI streams: each event is "data: <text>\n\n", the stream ends with
// "data: [DONE]\n\n". Text with line breaks becomes one data line per line,
// which a client joins back with "\n".

#include <string>
#include <string_view>

namespace sieve::server {

std::string sse_event(std::string_view data);
std::string sse_done();
// A comment line clients ignore: sent while a request waits, so a client
// that left is noticed (the write fails) without producing an event.
std::string sse_comment(std::string_view text);

}  // namespace sieve::server
