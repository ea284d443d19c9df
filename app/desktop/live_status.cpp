#include "desktop/live_status.h"

namespace sieve::app {

void LiveStatus::update(const LiveStats& stats) {
  last_ = stats;
  hasData_ = true;
  memory_.append(double(stats.rssBytes));
  io_.append(std::max(0.0, stats.flashBytesPerToken));
  while (memory_.size() > kHistory) memory_.removeFirst();
  while (io_.size() > kHistory) io_.removeFirst();
  emit updated();
}

void LiveStatus::clear() {
  last_ = {};
  hasData_ = false;
  memory_.clear();
  io_.clear();
  emit updated();
}

}  // namespace sieve::app
