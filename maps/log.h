// The one logger of both processes: levels (error, warning, notice, info, debug, the syslog
// priorities 3-7), one write(2) per line so that threads never interleave, and the line's
// shape decided by where it goes.
//
//  - Under systemd, when the log stream is the journal (JOURNAL_STREAM names its device and
//    inode, systemd.exec(5)), each line starts with its priority, "<4>sextant-control: ...",
//    as sd-daemon(3) describes, so `journalctl -p warning` finds refusals and targets down.
//    journald stamps the time itself.
//  - Otherwise each line starts with an RFC 3339 UTC timestamp:
//    "2024-05-01T12:34:56.789Z sextant-control: ...".
//
// Lines below the configured level are dropped before they are formatted. Nothing here is
// called per packet.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sextant::maps {

enum class LogLevel : int { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// "error", "warning", "notice", "info", "debug".
std::optional<LogLevel> ParseLogLevel(absl::string_view name);
const char* LogLevelName(LogLevel level);
inline constexpr const char* kLogLevelChoices = "error, warning, notice, info, debug";

// Which program the lines name and where they go: notice, info and debug to `fd`, errors and
// warnings to `error_fd` (sextant-control: both stderr; sextant-dataplane: stdout, beside its
// start line, and stderr). Call once, before any thread logs.
void InitLog(const char* program, int fd, int error_fd);
// The least severe level still written; `info` until set. Safe from any thread.
void SetLogLevel(LogLevel level);
LogLevel CurrentLogLevel();
inline bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) <= static_cast<int>(CurrentLogLevel());
}

// Writes one line: "[<N>|TIMESTAMP ]PROGRAM: TEXT\n".
void Log(LogLevel level, absl::string_view text);

// Whether `fd` is the journal's stream (JOURNAL_STREAM names its device and inode).
bool IsJournalStream(int fd);
// "2024-05-01T12:34:56.789Z " for now.
std::string LogTimestamp();

}  // namespace sextant::maps
