#pragma once
// "Did you mean ...?" for a mistyped option or command name: the closest of
// the names the user could have meant, by edit distance (a swapped pair of
// letters counts as one edit), or the only name that starts with what was
// typed. nullopt when nothing is close enough to be a plausible typo.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sieve::cli {

// Edits (insert, delete, replace, swap two neighbours) that turn a into b.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `typed`: within about one edit per three typed
// characters (at least 1, at most 3); otherwise the single candidate that
// `typed` (3 characters or more) is a prefix of. Ties go to the earlier
// candidate; an exact match is returned as is.
std::optional<std::string> nearest_name(std::string_view typed, std::span<const std::string> candidates);

}  // namespace sieve::cli
