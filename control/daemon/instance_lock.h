// One sextant-control per instance: the daemon holds /dev/shm/<instance>.lock (a POSIX record
// lock) for as long as it runs, and `--once` for as long as it publishes, so that nothing
// publishes behind a running daemon's back (its status would report a generation it never
// published) and no second daemon starts beside the first, whatever socket each is told to use.
// The kernel drops the lock when the holder exits, crash included, and names the holder's pid to
// whoever asks (fcntl F_GETLK): sextantctl uses that to tell "not running" from "unreachable".
//
// A POSIX lock is released when its process closes ANY descriptor of the file: only this class
// opens the lock file in the holding process, and InstanceHolderOf must not be called there.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "maps/unique_fd.h"

namespace sextant::control {

enum class InstanceRole { kDaemon, kOnce };

struct InstanceHolder {
  pid_t pid = 0;
  InstanceRole role = InstanceRole::kDaemon;  // as the holder wrote it in the lock file
};

class InstanceLock {
 public:
  // Takes the instance for `role`. When another process holds it: FailedPrecondition saying
  // which (pid and role) and what to do instead.
  static absl::StatusOr<std::unique_ptr<InstanceLock>> Acquire(const std::string& instance,
                                                               InstanceRole role);

 private:
  explicit InstanceLock(maps::UniqueFd fd) : fd_(std::move(fd)) {}
  maps::UniqueFd fd_;  // closing it releases the lock
};

// The process that holds `instance` now, if any.
std::optional<InstanceHolder> InstanceHolderOf(const std::string& instance);

// /dev/shm/<instance>.lock
std::string InstanceLockPath(const std::string& instance);

}  // namespace sextant::control
