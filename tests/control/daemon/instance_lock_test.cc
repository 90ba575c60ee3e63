// One sextant-control per instance: while one process holds the instance, a daemon or --once in
// another is refused with the holder's pid and role; the lock goes with the holder, crash
// included. The holder runs in a child process: a POSIX lock is per process, so the test
// process itself must not hold the instance it asks about.
#include "control/daemon/instance_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

namespace sextant::control {
namespace {

// A child that takes `instance` for `role`, says so through a pipe, and waits to be killed.
class Holder {
 public:
  Holder(const std::string& instance, InstanceRole role) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      auto lock = InstanceLock::Acquire(instance, role);
      const char ok = lock.ok() ? '1' : '0';
      (void)!write(fds[1], &ok, 1);
      for (;;) pause();
    }
    close(fds[1]);
    char ok = '0';
    EXPECT_EQ(read(fds[0], &ok, 1), 1);
    EXPECT_EQ(ok, '1');
    close(fds[0]);
  }
  ~Holder() { Kill(); }
  pid_t pid() const { return pid_; }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class InstanceLockTest : public ::testing::Test {
 protected:
  ~InstanceLockTest() override { std::remove(InstanceLockPath(instance_).c_str()); }
  const std::string instance_ = absl::StrCat("sxlocktest", getpid());
};

TEST_F(InstanceLockTest, ADaemonRefusesOnceAndASecondDaemonNamingItsPid) {
  Holder daemon(instance_, InstanceRole::kDaemon);
  const std::optional<InstanceHolder> h = InstanceHolderOf(instance_);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->pid, daemon.pid());
  EXPECT_EQ(h->role, InstanceRole::kDaemon);

  auto once = InstanceLock::Acquire(instance_, InstanceRole::kOnce);
  ASSERT_FALSE(once.ok());
  EXPECT_EQ(once.status().message(),
            absl::StrCat("instance ", instance_,
                         " is held by the running sextant-control daemon "
                         "(pid ",
                         daemon.pid(),
                         "); --once would publish behind its back; have "
                         "the daemon publish instead: sextantctl --instance ",
                         instance_, " reload (or kill -HUP ", daemon.pid(), ")"));
  auto second = InstanceLock::Acquire(instance_, InstanceRole::kDaemon);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(
                absl::StrCat("held by another sextant-control daemon (pid ", daemon.pid(), ")")),
            std::string::npos);
}

TEST_F(InstanceLockTest, OnceHoldsItWhilePublishing) {
  Holder once(instance_, InstanceRole::kOnce);
  EXPECT_EQ(InstanceHolderOf(instance_)->role, InstanceRole::kOnce);
  auto daemon = InstanceLock::Acquire(instance_, InstanceRole::kDaemon);
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(daemon.status().message().find(
                absl::StrCat("held by sextant-control --once (pid ", once.pid(), ")")),
            std::string::npos);
}

TEST_F(InstanceLockTest, TheLockGoesWithItsHolderCrashIncluded) {
  EXPECT_FALSE(InstanceHolderOf(instance_).has_value());  // no lock file yet
  Holder daemon(instance_, InstanceRole::kDaemon);
  daemon.Kill();
  EXPECT_FALSE(InstanceHolderOf(instance_).has_value());
  EXPECT_TRUE(InstanceLock::Acquire(instance_, InstanceRole::kOnce).ok());
}

}  // namespace
}  // namespace sextant::control
