#include "control/daemon/reload_worker.h"

#include <malloc.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::control {

absl::StatusOr<std::unique_ptr<ReloadWorker>> ReloadWorker::Create() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("reload worker: ", std::strerror(errno)));
  return std::unique_ptr<ReloadWorker>(new ReloadWorker(fd));
}

ReloadWorker::~ReloadWorker() {
  if (thread_.joinable()) thread_.join();
  close(fd_);
}

void ReloadWorker::Start(std::function<void()> job) {
  busy_ = true;
  thread_ = std::thread([this, job = std::move(job)] {
    job();
    // A compile frees most of what it allocated when it ends, but glibc keeps the freed pages of
    // this thread's arena resident; hand them back so control's RSS between reloads is its
    // steady state, not the high-water mark of the largest compile (the soak test watches it).
    malloc_trim(0);
    const uint64_t one = 1;
    (void)!write(fd_, &one, sizeof(one));
  });
}

bool ReloadWorker::Reap() {
  uint64_t n = 0;
  if (read(fd_, &n, sizeof(n)) != sizeof(n) || n == 0) return false;
  if (thread_.joinable()) thread_.join();
  busy_ = false;
  return true;
}

std::optional<ReloadQueue::Run> ReloadQueue::Request(const std::string& why, int waiter,
                                                     bool sighup) {
  Run* run = nullptr;
  std::optional<Run> now;
  if (!running_) {
    running_ = true;
    now = Run{};
    run = &*now;
  } else {
    if (!waiting_) waiting_ = Run{};
    run = &*waiting_;
  }
  if (run->why.empty()) {
    run->why = why;
  } else if (run->why.find(why) == std::string::npos) {
    absl::StrAppend(&run->why, ", ", why);
  }
  if (waiter >= 0) run->waiters.push_back(waiter);
  run->sighup |= sighup;
  return now;
}

std::optional<ReloadQueue::Run> ReloadQueue::Finished() {
  std::optional<Run> next;
  next.swap(waiting_);
  running_ = next.has_value();
  return next;
}

}  // namespace sextant::control
