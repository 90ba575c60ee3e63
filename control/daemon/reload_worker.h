// Reloads off the event loop. ReloadWorker runs one job at a time on its own thread and says so
// through fd(), an eventfd in the loop's epoll set; ReloadQueue decides what runs when: one
// reload at a time, and every request that comes in while one runs waits as one more run
// (coalesced: their reasons joined, the `sextantctl reload` callers answered by that run, which
// reads the files after their request did).
//
// A job gets copies of what it reads (the config path, the last good inputs, the generation it
// builds) and hands back one result; the thread is joined before the loop looks at it, so the two
// threads never share mutable state.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace sextant::control {

class ReloadWorker {
 public:
  static absl::StatusOr<std::unique_ptr<ReloadWorker>> Create();
  ~ReloadWorker();  // waits for a running job

  int fd() const { return fd_; }
  bool busy() const { return busy_; }
  // Runs `job` on a new thread. Loop thread only, and only when not busy.
  void Start(std::function<void()> job);
  // When fd() is readable: joins the finished job's thread, after which everything the job wrote
  // is the loop's. Returns false when no job had finished.
  bool Reap();

 private:
  explicit ReloadWorker(int fd) : fd_(fd) {}
  int fd_;
  bool busy_ = false;
  std::thread thread_;
};

class ReloadQueue {
 public:
  struct Run {
    std::string why;
    std::vector<int> waiters;  // control socket connections to answer with the outcome
    bool sighup = false;       // systemd is told when it ends (service_notify.h)
  };

  // A reload was asked for; `waiter` is a connection to answer (-1: none). Returns the run to
  // start now, or nothing when one is running (this one then waits, merged with the others).
  std::optional<Run> Request(const std::string& why, int waiter, bool sighup);
  // The running one ended: the waiting run to start now, if any.
  std::optional<Run> Finished();
  bool running() const { return running_; }
  // The waiting run's connections (to answer at shutdown).
  const std::optional<Run>& waiting() const { return waiting_; }

 private:
  bool running_ = false;
  std::optional<Run> waiting_;
};

}  // namespace sextant::control
