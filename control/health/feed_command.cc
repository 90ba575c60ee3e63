#include "control/health/feed_command.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace sextant::control::health {
namespace {

// Runs `/bin/sh -c command` with stdout on `stdout_fd`; returns posix_spawn's error number.
int SpawnShell(const std::string& command, int stdout_fd, pid_t* pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills the shell and whatever it started; default
  // signal dispositions and an empty mask, whatever the daemon set for itself.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::string cmd = command;
  char sh[] = "sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, cmd.data(), nullptr};
  const int rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

}  // namespace

absl::Status FeedCommand::Spawn(const std::string& command) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t pid = -1;
  const int rc = SpawnShell(command, wr.get(), &pid);
  wr.reset();
  if (rc != 0) return absl::InternalError(absl::StrCat("cannot run /bin/sh: ", strerror(rc)));
  fcntl(rd.get(), F_SETFL, fcntl(rd.get(), F_GETFL) | O_NONBLOCK);
  pid_ = pid;
  output_.clear();
  eof_ = false;
  exited_ = false;
  out_.Watch(loop_, std::move(rd), EPOLLIN, [this](uint32_t) { OnOutput(); });
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd) pidfd_.Watch(loop_, std::move(pidfd), EPOLLIN, [this](uint32_t) { OnExit(); });
  return absl::OkStatus();
}

void FeedCommand::OnOutput() {
  char buf[16384];
  for (;;) {
    const ssize_t n = read(out_.get(), buf, sizeof(buf));
    if (n > 0) {
      if (output_.size() < max_output_) output_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    eof_ = true;
    out_.Reset();
    break;
  }
  if (!pidfd_ && !exited_) {
    // No pidfd (kernel before 5.3): the shell closing stdout is taken as it exiting.
    if (waitpid(pid_, &wait_status_, 0) == pid_) exited_ = true;
  }
  MaybeFinish();
}

void FeedCommand::OnExit() {
  const pid_t r = waitpid(pid_, &wait_status_, WNOHANG);
  if (r == 0) return;
  exited_ = true;
  if (r < 0) wait_status_ = -1;  // SIGCHLD ignored by the daemon: status lost
  pidfd_.Reset();
  MaybeFinish();
}

void FeedCommand::MaybeFinish() {
  if (!eof_ || !exited_) return;
  pid_ = -1;
  pidfd_.Reset();
  Outcome outcome;
  outcome.over_limit = output_.size() >= max_output_;
  outcome.output = std::move(output_);
  outcome.wait_status = wait_status_;
  done_(std::move(outcome));
}

void FeedCommand::Kill() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);  // SIGKILL: immediate
  pid_ = -1;
  out_.Reset();
  pidfd_.Reset();
}

}  // namespace sextant::control::health
