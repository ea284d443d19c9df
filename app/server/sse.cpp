#include "server/sse.h"

namespace sieve::server {

std::string sse_event(std::string_view data) {
  std::string event;
  event.reserve(data.size() + 8);
  size_t start = 0;
  for (;;) {
    // "\r\n", "\r" and "\n" all end a line in an event stream.
    const size_t end = data.find_first_of("\r\n", start);
    event += "data: ";
    event.append(data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    event += '\n';
    if (end == std::string_view::npos) break;
    start = end + (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? 2 : 1);
  }
  event += '\n';
  return event;
}

std::string sse_done() { return "data: [DONE]\n\n"; }

std::string sse_comment(std::string_view text) {
  std::string line = ": ";
  for (char c : text) line += (c == '\r' || c == '\n') ? ' ' : c;
  line += "\n\n";
  return line;
}

}  // namespace sieve::server
