// "Did you mean": the known name closest to a misspelt one, so that a refusal can name the fix
// ("unknown datacenter 'sng' (known: ams, nyc, sgp; did you mean sgp?)"). Used for keys, enum
// words and the names one part of the configuration gives another (datacenters, maps, targets).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sextant::control {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring ASCII
// case: "goe" is 1 from "geo", "intervall" 1 from "interval".
int EditDistance(absl::string_view a, absl::string_view b);

// The one candidate nearest to `wrong`, if it is near enough to be a typo of it (one edit, a
// third of its length for long names, or two edits with the first letter right) and no other
// candidate is as near.
std::optional<std::string> NearestName(absl::string_view wrong,
                                       const std::vector<std::string>& candidates);

// " (known: a, b, c; did you mean b?)", or " (known: a, b, c)", or "" without candidates: the
// tail of a refusal of `wrong`. Past 16 candidates only their number and the guess.
std::string KnownNamesHint(absl::string_view wrong, const std::vector<std::string>& candidates);

}  // namespace sextant::control
