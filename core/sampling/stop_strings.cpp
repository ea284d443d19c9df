#include "sampling/stop_strings.h"

namespace sieve::sampling {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopStringMatcher::push(std::string_view piece) {
  if (stopped_) return {};
  pending_.append(piece);
  // The earliest complete stop string wins.
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) {
    const size_t at = pending_.find(stop);
    if (at < first) {
      first = at;
      matched_ = stop;
    }
  }
  if (first != std::string::npos) {
    stopped_ = true;
    std::string shown = pending_.substr(0, first);
    pending_.clear();
    return shown;
  }
  const size_t keep = partial_match_length(pending_, stops_);
  std::string shown = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return shown;
}

std::string StopStringMatcher::flush() {
  std::string rest;
  rest.swap(pending_);
  return stopped_ ? std::string() : rest;
}

}  // namespace sieve::sampling
