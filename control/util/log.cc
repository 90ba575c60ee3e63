#include "control/util/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace sextant::control {

bool StderrIsJournal() {
  static const bool kJournal = [] {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    if (stream == nullptr || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  }();
  return kJournal;
}

std::string LogTimestamp() {
  if (StderrIsJournal()) return "";
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof(text) - n, ".%03ldZ ", now.tv_nsec / 1000000);
  return text;
}

void LogLine(absl::string_view text) {
  const std::string line = absl::StrCat(LogTimestamp(), "sextant-control: ", text, "\n");
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace sextant::control
