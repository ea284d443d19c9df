#pragma once
// The engine's JSON is nlohmann-json (Debian nlohmann-json3-dev), as
// ordered_json: objects keep their members in the order they were set, so the
// CLI's --json output and the disk profile read in the order they are built.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sieve {

using Json = nlohmann::ordered_json;

// Compact text (no spaces), as the CLI prints it and the disk profile is
// saved. Bytes that are not UTF-8 (a file name, say) are written as U+FFFD
// rather than making nlohmann's dump() throw.
inline std::string to_json_text(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// nlohmann's message for a bad text or a member of the wrong type, without
// its "[json.exception.parse_error.101] " tag: "JSON: parse error at line 3,
// column 7: syntax error while parsing object separator - invalid literal;
// last read: '"b" 2'; expected ':'".
inline std::string json_error_text(const Json::exception& e) {
  std::string_view what = e.what();
  if (what.starts_with("[json.exception.")) {
    const size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  return "JSON: " + std::string(what);
}

}  // namespace sieve
