#include "control/config/nearest_name.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sextant::control {
namespace {

constexpr size_t kMaxListedNames = 16;

}  // namespace

int EditDistance(absl::string_view a, absl::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Three rows: the one before last (for transpositions), the last and the current.
  std::vector<int> before(m + 1), last(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) last[j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= m; ++j) {
      const bool same = absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      cur[j] = std::min({last[j] + 1, cur[j - 1] + 1, last[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 2]) &&
          absl::ascii_tolower(a[i - 2]) == absl::ascii_tolower(b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    before.swap(last);
    last.swap(cur);
  }
  return last[m];
}

std::optional<std::string> NearestName(absl::string_view wrong,
                                       const std::vector<std::string>& candidates) {
  int best = std::numeric_limits<int>::max();
  const std::string* found = nullptr;
  bool tie = false;
  for (const std::string& c : candidates) {
    const int d = EditDistance(wrong, c);
    if (d < best) {
      best = d;
      found = &c;
      tie = false;
    } else if (d == best) {
      tie = true;
    }
  }
  if (found == nullptr || tie || best == 0 || best >= static_cast<int>(found->size())) {
    return std::nullopt;
  }
  // A third of the name; two edits also when the first letter is right ("sng" for "sgp", not
  // "icmp" for "tcp").
  const bool same_start =
      !wrong.empty() && absl::ascii_tolower(wrong[0]) == absl::ascii_tolower((*found)[0]);
  if (best > std::max<int>(1, static_cast<int>(found->size()) / 3) && !(best == 2 && same_start)) {
    return std::nullopt;
  }
  return *found;
}

std::string KnownNamesHint(absl::string_view wrong, const std::vector<std::string>& candidates) {
  if (candidates.empty()) return "";
  const std::optional<std::string> near = NearestName(wrong, candidates);
  const std::string guess = near ? absl::StrCat("did you mean ", *near, "?") : "";
  // A long list would bury the line; past a screenful the guess is what helps.
  if (candidates.size() > kMaxListedNames) {
    return absl::StrCat(" (", candidates.size(), " known", near ? "; " : "", guess, ")");
  }
  return absl::StrCat(" (known: ", absl::StrJoin(candidates, ", "), near ? "; " : "", guess, ")");
}

}  // namespace sextant::control
