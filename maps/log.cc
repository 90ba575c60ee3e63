#include "maps/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace sextant::maps {
namespace {

struct LogState {
  const char* program = "sextant";
  int fd = STDERR_FILENO;
  int error_fd = STDERR_FILENO;
  bool fd_journal = false;  // decided in InitLog
  bool error_fd_journal = false;
  std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
};

LogState& State() {
  static LogState state;
  return state;
}

constexpr struct {
  LogLevel level;
  const char* name;
} kLevels[] = {{LogLevel::kError, "error"},
               {LogLevel::kWarning, "warning"},
               {LogLevel::kNotice, "notice"},
               {LogLevel::kInfo, "info"},
               {LogLevel::kDebug, "debug"}};

}  // namespace

std::optional<LogLevel> ParseLogLevel(absl::string_view name) {
  for (const auto& l : kLevels) {
    if (name == l.name) return l.level;
  }
  return std::nullopt;
}

const char* LogLevelName(LogLevel level) {
  for (const auto& l : kLevels) {
    if (l.level == level) return l.name;
  }
  return "info";
}

void InitLog(const char* program, int fd, int error_fd) {
  LogState& s = State();
  s.program = program;
  s.fd = fd;
  s.error_fd = error_fd;
  s.fd_journal = IsJournalStream(fd);
  s.error_fd_journal = IsJournalStream(error_fd);
}

void SetLogLevel(LogLevel level) {
  State().level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel CurrentLogLevel() {
  return static_cast<LogLevel>(State().level.load(std::memory_order_relaxed));
}

// A child whose stream was redirected inherits JOURNAL_STREAM but not the stream, so the
// variable alone is not enough: the descriptor must be the one it names.
bool IsJournalStream(int fd) {
  const char* stream = std::getenv("JOURNAL_STREAM");
  unsigned long long dev = 0, ino = 0;
  if (stream == nullptr || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  return fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

std::string LogTimestamp() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof(text) - n, ".%03ldZ ", now.tv_nsec / 1000000);
  return text;
}

void Log(LogLevel level, absl::string_view text) {
  if (!LogEnabled(level)) return;
  const LogState& s = State();
  const bool severe = static_cast<int>(level) <= static_cast<int>(LogLevel::kWarning);
  const int fd = severe ? s.error_fd : s.fd;
  const std::string head = (severe ? s.error_fd_journal : s.fd_journal)
                               ? absl::StrCat("<", static_cast<int>(level), ">")
                               : LogTimestamp();
  const std::string line = absl::StrCat(head, s.program, ": ", text, "\n");
  ssize_t unused = write(fd, line.data(), line.size());
  (void)unused;
}

}  // namespace sextant::maps
