#include "control/health/feed.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"
#include "control/health/health_log.h"

namespace sextant::control::health {
namespace {

std::string FeedName(const FeedSpec& spec) {
  return spec.kind == FeedSpec::Kind::kFile ? absl::StrCat("feed ", spec.file)
                                            : absl::StrCat("feed '", spec.command, "'");
}

// Inode too: a file replaced by rename can keep its size and, within a tick, its mtime.
bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Why a finished run does not count, or "" when it does.
std::string ExitProblem(int status) {
  if (status == -1) return "exit status unknown";
  if (!WIFEXITED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  if (WEXITSTATUS(status) != 0) return absl::StrCat("exit status ", WEXITSTATUS(status));
  return "";
}

}  // namespace

Feed::Feed(FeedSpec spec, const FeedOptions& options, EventLoop* loop, std::atomic<uint64_t>* runs,
           LinesCallback on_lines)
    : spec_(std::move(spec)),
      name_(FeedName(spec_)),
      options_(options),
      runs_(runs),
      on_lines_(std::move(on_lines)),
      timer_(loop, [this](int64_t now) { OnTimer(now); }),
      command_(loop, options.max_output,
               [this](const FeedCommand::Outcome& o) { OnCommandDone(o); }) {}

void Feed::Start(int64_t now) {
  due_ns_ = now;
  timer_.Arm(due_ns_);
}

void Feed::Abandon() {
  if (!command_.running()) return;
  command_.Kill();
  timer_.Arm(due_ns_);
}

void Feed::LogOnce(const std::string& key, absl::string_view what) {
  if (logged_.insert(key).second) LogHealth(LogLevel::kWarning, absl::StrCat(name_, ": ", what));
}

void Feed::OnTimer(int64_t now) {
  if (spec_.kind == FeedSpec::Kind::kFile) {
    due_ns_ = now + MsToNs(options_.file_poll_ms);
    timer_.Arm(due_ns_);
    PollFile();  // last: the lines it hands on may end with this feed
    return;
  }
  if (command_.running()) {  // the timeout
    RunError(absl::StrCat("killed after ", spec_.timeout_ms, " ms; ignoring this run"));
    command_.Kill();
    due_ns_ = std::max(due_ns_ + MsToNs(spec_.interval_ms), now);
    timer_.Arm(due_ns_);
    return;
  }
  SpawnCommand(now);
}

// --- File --------------------------------------------------------------------------------------

void Feed::PollFile() {
  struct stat st;
  if (stat(spec_.file.c_str(), &st) != 0) {
    FileError(strerror(errno));
    have_stat_ = false;
    return;
  }
  if (have_stat_ && SameFile(st, last_stat_)) return;
  UniqueFd fd(open(spec_.file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    FileError(strerror(errno));
    return;
  }
  const std::string text = ReadFile(fd.get());
  last_error_.clear();
  have_stat_ = true;
  last_stat_ = st;
  runs_->fetch_add(1, std::memory_order_relaxed);
  ApplyText(text);
}

std::string Feed::ReadFile(int fd) const {
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0 && text.size() < options_.max_output) {
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

void Feed::FileError(const char* error) {
  const std::string err = absl::StrCat(name_, ": ", error, "; verdicts unchanged");
  if (err != last_error_) LogHealth(LogLevel::kWarning, err);
  last_error_ = err;
}

// --- Command -----------------------------------------------------------------------------------

void Feed::SpawnCommand(int64_t now) {
  due_ns_ = std::max(due_ns_ + MsToNs(spec_.interval_ms), now);
  if (absl::Status s = command_.Spawn(spec_.command); !s.ok()) {
    LogHealth(LogLevel::kWarning, absl::StrCat(name_, ": ", s.message()));
    timer_.Arm(due_ns_);
    return;
  }
  timer_.Arm(now + MsToNs(spec_.timeout_ms));
}

void Feed::OnCommandDone(const FeedCommand::Outcome& outcome) {
  timer_.Arm(due_ns_);
  runs_->fetch_add(1, std::memory_order_relaxed);
  if (outcome.over_limit) {
    RunError(absl::StrCat("output over ", options_.max_output, " bytes; ignoring this run"));
    return;
  }
  if (const std::string why = ExitProblem(outcome.wait_status); !why.empty()) {
    RunError(absl::StrCat(why, "; ignoring this run"));
    return;
  }
  if (!run_error_.empty()) LogHealth(LogLevel::kNotice, absl::StrCat(name_, ": runs again"));
  run_error_.clear();
  ApplyText(outcome.output);
}

// A failed run is logged when its reason differs from the last one: no line per interval.
void Feed::RunError(const std::string& why) {
  if (why != run_error_) LogHealth(LogLevel::kWarning, absl::StrCat(name_, ": ", why));
  run_error_ = why;
}

void Feed::ApplyText(absl::string_view text) {
  std::vector<std::string> errors;
  const std::vector<FeedLine> lines = ParseFeedText(text, &errors);
  for (const std::string& e : errors) LogOnce(e, e);
  on_lines_(*this, lines);
}

}  // namespace sextant::control::health
