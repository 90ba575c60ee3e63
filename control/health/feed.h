// One health feed (control/config/health_check.h FeedSpec) on the checker's event loop: a file
// re-read whenever stat() says it changed, or a command run every interval (feed_command.h).
// Each new text is parsed (feed_text.h) and its lines handed to the checker; a run that failed
// leaves the verdicts as they were. Failures are logged when they change, not once per run.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "control/config/health_check.h"
#include "control/health/event_loop.h"
#include "control/health/feed_command.h"
#include "control/health/feed_text.h"

namespace sextant::control::health {

struct FeedOptions {
  uint32_t file_poll_ms = 200;  // how often a feed file is stat()ed
  size_t max_output = 1 << 20;  // a command's stdout past this (or a file past it) is cut
};

class Feed {
 public:
  // The lines of a new text. Runs on the loop thread; the feed touches nothing after it.
  using LinesCallback = std::function<void(Feed& feed, const std::vector<FeedLine>& lines)>;

  // Runs counts the texts read (CheckerStats::feed_runs). The first run is at Start().
  Feed(FeedSpec spec, const FeedOptions& options, EventLoop* loop, std::atomic<uint64_t>* runs,
       LinesCallback on_lines);
  Feed(const Feed&) = delete;
  Feed& operator=(const Feed&) = delete;

  const FeedSpec& spec() const { return spec_; }
  const std::string& name() const { return name_; }  // "feed /path" or "feed 'command'"

  // Runs the feed at `now` and from then on on its schedule.
  void Start(int64_t now);
  // For HealthChecker::Stop(): kills a running command; the feed runs again at its due time
  // once the loop runs again.
  void Abandon();
  // Logs "<name>: <what>" the first time `key` is seen: a bad line or an unknown target is
  // reported once per feed, not on every read.
  void LogOnce(const std::string& key, absl::string_view what);

 private:
  void OnTimer(int64_t now);
  void PollFile();
  std::string ReadFile(int fd) const;
  void FileError(const char* error);
  void SpawnCommand(int64_t now);
  void OnCommandDone(const FeedCommand::Outcome& outcome);
  void RunError(const std::string& why);
  void ApplyText(absl::string_view text);

  const FeedSpec spec_;
  const std::string name_;
  const FeedOptions options_;
  std::atomic<uint64_t>* const runs_;
  const LinesCallback on_lines_;
  Timer timer_;
  int64_t due_ns_ = 0;
  // File.
  bool have_stat_ = false;
  struct stat last_stat_ {};
  std::string last_error_;
  // Command.
  FeedCommand command_;
  std::string run_error_;  // of the last failed run
  std::set<std::string> logged_;
};

}  // namespace sextant::control::health
