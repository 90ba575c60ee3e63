// Runs a test body in a child process inside a network namespace of its own (unshare(2), no
// ip-netns and no shell), so the links, addresses and sysctls it makes vanish with the child and
// the host's interfaces are never touched. The child's EXPECT failures print as usual; its exit
// code carries them back to the parent's test. Needs root (CAP_SYS_ADMIN), as CI runs the tests.
#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gtest/gtest.h"

namespace sextant::dataplane::testing {

template <typename Body>
void InFreshNetworkNamespace(Body body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << "fork: " << std::strerror(errno);
  if (pid == 0) {
    int code = 2;
    if (unshare(CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "unshare(CLONE_NEWNET): %s (the test needs root)\n",
                   std::strerror(errno));
    } else {
      body();
      code = ::testing::Test::HasFailure() ? 1 : 0;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the namespace child died, status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "checks failed in the namespace child (see above)";
}

}  // namespace sextant::dataplane::testing
