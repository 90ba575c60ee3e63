// The control plane's log lines and the counts in its messages.
//
// A log line goes to stderr in one write(2) (lines from the checker thread and the main loop do
// not interleave), as "sextant-control: ...", with an RFC 3339 UTC timestamp in front
// ("2024-05-01T12:34:56.789Z sextant-control: ...") unless stderr is the journal: journald stamps
// every line itself. systemd says how to tell (systemd.exec(5), JOURNAL_STREAM): it sets
// JOURNAL_STREAM to the "device:inode" of the stream it connected, and a process whose stderr
// has that device and inode writes to the journal; a child whose stderr was redirected inherits
// the variable but not the stream, so the variable alone is not enough.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sextant::control {

// Writes "[TIMESTAMP ]sextant-control: <text>\n" to stderr.
void LogLine(absl::string_view text);

// Whether stderr is the stream JOURNAL_STREAM names (decided once per process).
bool StderrIsJournal();

// "2024-05-01T12:34:56.789Z " for now, or "" when StderrIsJournal().
std::string LogTimestamp();

// "1 zone", "2 zones", "0 zones"; `plural` when adding an "s" is wrong ("1 entry", "2 entries").
inline std::string Plural(uint64_t n, absl::string_view singular, absl::string_view plural = "") {
  if (n == 1) return absl::StrCat(n, " ", singular);
  return plural.empty() ? absl::StrCat(n, " ", singular, "s") : absl::StrCat(n, " ", plural);
}

}  // namespace sextant::control
