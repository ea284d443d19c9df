#include "cli/suggest.h"

#include <algorithm>
#include <vector>

namespace sieve::cli {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions, over
  // three rolling rows (two back for the transposition).
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t replace = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, replace});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> nearest_name(std::string_view typed, std::span<const std::string> candidates) {
  const size_t allowed = std::clamp<size_t>(typed.size() / 3, 1, 3);
  const std::string* best = nullptr;
  size_t best_distance = allowed + 1;
  for (const std::string& name : candidates) {
    const size_t d = edit_distance(typed, name);
    if (d < best_distance) {
      best = &name;
      best_distance = d;
    }
  }
  if (best != nullptr) return *best;
  if (typed.size() < 3) return std::nullopt;
  const std::string* only_prefix = nullptr;
  for (const std::string& name : candidates) {
    if (name.rfind(typed, 0) != 0) continue;
    if (only_prefix != nullptr) return std::nullopt;  // ambiguous
    only_prefix = &name;
  }
  if (only_prefix == nullptr) return std::nullopt;
  return *only_prefix;
}

}  // namespace sieve::cli
