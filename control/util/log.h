// The control plane's log lines and the counts in its messages. The logger itself is shared with
// the dataplane (maps/log.h: levels, one write per line, the journal's priority prefix or a UTC
// timestamp); this names the levels control uses:
//
//   error    start-up failed, a file that cannot be written, the event loop failing
//   warning  a refused reload, a configuration warning, a target down, a feed that fails
//   notice   serving, a target up, overrides set, released or expired, stopping
//   info     each publish, each geo map built, the metrics address, check details
//   debug    nothing yet (nothing is ever logged per packet)
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "maps/log.h"

namespace sextant::control {

using maps::LogLevel;

// "[TIMESTAMP ]sextant-control: <text>" (or "<N>sextant-control: <text>" to the journal).
inline void LogLine(LogLevel level, absl::string_view text) { maps::Log(level, text); }

// "1 zone", "2 zones", "0 zones"; `plural` when adding an "s" is wrong ("1 entry", "2 entries").
inline std::string Plural(uint64_t n, absl::string_view singular, absl::string_view plural = "") {
  if (n == 1) return absl::StrCat(n, " ", singular);
  return plural.empty() ? absl::StrCat(n, " ", singular, "s") : absl::StrCat(n, " ", plural);
}

}  // namespace sextant::control
