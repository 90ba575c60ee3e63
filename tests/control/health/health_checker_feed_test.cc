// Health feeds: a file rewritten in place and commands (exit status, timeout, children reaped).
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "control/health/health_checker.h"
#include "gtest/gtest.h"
#include "tests/control/health/health_checker_test_support.h"

namespace sextant::control::health_checker_test {
namespace {

// --- Feeds -------------------------------------------------------------------------------------

TEST(HealthChecker, FeedFile) {
  const std::string dir = MakeTempDir();
  const std::string feed = dir + "/feed.txt";
  WriteFile(feed, "# maintenance\nt1 down\nt2 drain   # until Friday\nghost up\nt3 sideways\n");
  Harness h;
  h.checker().Update({Target(1, "t1", std::nullopt, true), Target(2, "t2", std::nullopt, true),
                      Target(3, "t3", std::nullopt, true)});
  h.checker().UpdateFeeds({FeedSpec{FeedSpec::Kind::kFile, feed, "", 0, 0, 0}});
  ASSERT_TRUE(h.checker().Start().ok());
  int e = h.WaitFor(1, false);
  ASSERT_GE(e, 0);
  EXPECT_EQ(h.event(e).result.source, CheckResult::Source::kFeed);
  e = h.WaitFor(2, false);
  ASSERT_GE(e, 0);
  EXPECT_TRUE(h.event(e).result.drained);
  EXPECT_TRUE(h.StatusOf("t2").drained);
  EXPECT_TRUE(h.StatusOf("t3").up);  // the bad line changed nothing

  // Rewritten (renamed into place): applied at the next poll, no rise/fall.
  const size_t before = h.count();
  const auto written = Clock::now();
  WriteFile(feed, "t1 up\nt2 up\n");
  e = h.WaitFor(1, true, before);
  ASSERT_GE(e, 0);
  EXPECT_LE(h.event(e).at - written, std::chrono::milliseconds(50) + kSlack);
  ASSERT_GE(h.WaitFor(2, true, before), 0);
  EXPECT_FALSE(h.StatusOf("t2").drained);
  h.checker().Stop();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST(HealthChecker, FeedCommand) {
  const std::string dir = MakeTempDir();
  Harness h;
  h.checker().Update({Target(1, "t1", std::nullopt, true), Target(2, "t2", std::nullopt, true),
                      Target(3, "t3", std::nullopt, true)});
  h.checker().UpdateFeeds({
      FeedSpec{FeedSpec::Kind::kCommand, "", "printf 't1 down\\n'", 100, 100, 0},
      // Non-zero exit: its output is ignored.
      FeedSpec{FeedSpec::Kind::kCommand, "", "echo t2 down; exit 3", 100, 100, 0},
      // Killed at the timeout, with the shell's children: nothing applied.
      FeedSpec{FeedSpec::Kind::kCommand, "", "sleep 5; echo t3 down", 100, 100, 0},
  });
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(1, false), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(h.StatusOf("t2").up);
  EXPECT_TRUE(h.StatusOf("t3").up);
  EXPECT_GE(h.checker().Stats().feed_runs, 3u);
  h.checker().Stop();
  // No children left behind (killed and reaped).
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_NE(std::system("pgrep -f 'sleep 5; echo t[3]' >/dev/null"), 0);
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

}  // namespace
}  // namespace sextant::control::health_checker_test
