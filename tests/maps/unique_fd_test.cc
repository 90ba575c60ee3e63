// UniqueFd closes what it owns exactly once, hands it over on move and release, and leaves errno
// as the failed call set it.
#include "maps/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "gtest/gtest.h"

namespace sextant::maps {
namespace {

int OpenDevNull() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }
bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnDestruction) {
  const int raw = OpenDevNull();
  ASSERT_GE(raw, 0);
  { UniqueFd fd(raw); }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFd, DefaultIsInvalid) {
  UniqueFd fd;
  EXPECT_FALSE(fd);
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, MoveHandsOverOwnership) {
  UniqueFd a(OpenDevNull());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(UniqueFd, MoveAssignmentClosesThePreviousFd) {
  UniqueFd a(OpenDevNull());
  UniqueFd b(OpenDevNull());
  const int old = a.get();
  a = std::move(b);
  EXPECT_FALSE(IsOpen(old));
  EXPECT_TRUE(IsOpen(a.get()));
}

TEST(UniqueFd, ReleaseKeepsTheFdOpen) {
  UniqueFd fd(OpenDevNull());
  const int raw = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(IsOpen(raw));
  close(raw);
}

TEST(UniqueFd, ResetClosesAndKeepsErrno) {
  UniqueFd fd(OpenDevNull());
  const int raw = fd.get();
  errno = EADDRINUSE;
  fd.reset();
  EXPECT_EQ(errno, EADDRINUSE);
  EXPECT_FALSE(IsOpen(raw));
  EXPECT_FALSE(fd.valid());
}

}  // namespace
}  // namespace sextant::maps
