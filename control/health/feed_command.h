// One run of a feed command: `/bin/sh -c COMMAND` in its own process group with stdin from
// /dev/null, stdout collected through a pipe up to a limit, the exit seen through a pidfd on the
// checker's event loop. A run that outlives its feed's timeout is killed, with everything it
// started, and reaped.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "control/health/event_loop.h"

namespace sextant::control::health {

class FeedCommand {
 public:
  struct Outcome {
    std::string output;
    bool over_limit = false;  // stdout reached the limit: the run does not count
    int wait_status = -1;     // as waitpid(2) gives it; -1: unknown (SIGCHLD ignored)
  };
  // Called on the loop thread once stdout is closed and the shell is reaped. It may destroy
  // the FeedCommand.
  using DoneCallback = std::function<void(Outcome outcome)>;

  FeedCommand(EventLoop* loop, size_t max_output, DoneCallback done)
      : loop_(loop), max_output_(max_output), done_(std::move(done)) {}
  ~FeedCommand() { Kill(); }
  FeedCommand(const FeedCommand&) = delete;
  FeedCommand& operator=(const FeedCommand&) = delete;

  // Starts a run. The message of an error says what failed: "pipe: ...", "cannot run /bin/sh:
  // ...".
  absl::Status Spawn(const std::string& command);
  bool running() const { return pid_ > 0; }
  // SIGKILL to the run's process group, then reaps the shell; no Outcome comes. Immediate.
  void Kill();

 private:
  void OnOutput();
  void OnExit();
  void MaybeFinish();

  EventLoop* const loop_;
  const size_t max_output_;
  const DoneCallback done_;
  pid_t pid_ = -1;
  WatchedFd out_;
  WatchedFd pidfd_;  // none on kernels before 5.3
  std::string output_;
  bool eof_ = false;
  bool exited_ = false;
  int wait_status_ = 0;
};

}  // namespace sextant::control::health
