#include "control/daemon/instance_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/daemon/startup_checks.h"

namespace sextant::control {
namespace {

const char* RoleWord(InstanceRole r) { return r == InstanceRole::kOnce ? "once" : "daemon"; }

// The lock file holds "PID ROLE\n" of its holder: the lock names the pid, the file the role.
InstanceRole RoleIn(int fd, pid_t pid) {
  char buf[64] = {};
  const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return InstanceRole::kDaemon;
  const std::vector<std::string> words =
      absl::StrSplit(absl::StripTrailingAsciiWhitespace(buf), ' ');
  int64_t written = 0;
  if (words.size() == 2 && absl::SimpleAtoi(words[0], &written) && written == pid &&
      words[1] == "once") {
    return InstanceRole::kOnce;
  }
  return InstanceRole::kDaemon;
}

std::optional<InstanceHolder> HolderOf(int fd) {
  struct flock q {};
  q.l_type = F_RDLCK;  // conflicts with the holder's write lock; needs only a read descriptor
  q.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &q) != 0 || q.l_type == F_UNLCK) return std::nullopt;
  return InstanceHolder{q.l_pid, RoleIn(fd, q.l_pid)};
}

std::string HeldMessage(const std::string& instance, InstanceRole wanted, const InstanceHolder& h) {
  if (h.role == InstanceRole::kOnce) {
    return absl::StrCat("instance ", instance, " is held by sextant-control --once (pid ", h.pid,
                        "), publishing right now; try again when it has finished");
  }
  if (wanted == InstanceRole::kOnce) {
    return absl::StrCat("instance ", instance,
                        " is held by the running sextant-control daemon (pid ", h.pid,
                        "); --once would publish behind its back; have the daemon publish "
                        "instead: sextantctl --instance ",
                        instance, " reload (or kill -HUP ", h.pid, ")");
  }
  return absl::StrCat("instance ", instance, " is held by another sextant-control daemon (pid ",
                      h.pid,
                      "); not starting a second (stop it first, or give this one another "
                      "instance:)");
}

}  // namespace

std::string InstanceLockPath(const std::string& instance) {
  return absl::StrCat("/dev/shm/", instance, ".lock");
}

absl::StatusOr<std::unique_ptr<InstanceLock>> InstanceLock::Acquire(const std::string& instance,
                                                                    InstanceRole role) {
  const std::string path = InstanceLockPath(instance);
  maps::UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance lock ", path, ": ", ErrnoText(errno)));
  }
  struct flock l {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  if (fcntl(fd.get(), F_SETLK, &l) != 0) {
    const int err = errno;
    if (err != EAGAIN && err != EACCES) {
      return absl::FailedPreconditionError(
          absl::StrCat("instance lock ", path, ": ", ErrnoText(err)));
    }
    // Held: name the holder. It may just have exited; then say so rather than guess.
    const std::optional<InstanceHolder> h = HolderOf(fd.get());
    if (!h) {
      return absl::FailedPreconditionError(absl::StrCat(
          "instance ", instance, " was held by another sextant-control a moment ago; try again"));
    }
    return absl::FailedPreconditionError(HeldMessage(instance, role, *h));
  }
  const std::string text = absl::StrCat(getpid(), " ", RoleWord(role), "\n");
  if (ftruncate(fd.get(), 0) != 0 ||
      pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance lock ", path, ": ", ErrnoText(errno)));
  }
  return std::unique_ptr<InstanceLock>(new InstanceLock(std::move(fd)));
}

std::optional<InstanceHolder> InstanceHolderOf(const std::string& instance) {
  const maps::UniqueFd fd(open(InstanceLockPath(instance).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  return HolderOf(fd.get());
}

}  // namespace sextant::control
