// The checker's lifecycle: an update (reload) keeps the state of the targets it keeps, Stop
// abandons checks in flight and leaks nothing, and a thousand targets all come up.
#include <dirent.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/health/health_checker.h"
#include "gtest/gtest.h"
#include "tests/control/health/health_checker_test_support.h"

namespace sextant::control::health_checker_test {
namespace {

// --- Reload, lifecycle, scale ------------------------------------------------------------------

TEST(HealthChecker, ReloadKeepsState) {
  TcpServer server;
  const uint16_t closed = FreeTcpPort();
  Harness h;
  const CheckSpec refused = Spec(CheckType::kTcp, closed, 1, 1);
  h.checker().Update({Target(1, "kept", refused, true), Target(2, "gone", refused, true)});
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(1, false), 0);
  ASSERT_TRUE(h.WaitForChecks("kept", 3));
  const TargetStatus before = h.StatusOf("kept");

  // Reload: "kept" now has id 11 and the daemon believes it up (its configured initial); the
  // checker keeps it down and says so through the callback under the new id.
  const size_t n = h.count();
  h.checker().Update({Target(11, "kept", refused, true), Target(3, "new", std::nullopt, false)});
  const int e = h.WaitFor(11, false, n, std::chrono::milliseconds(100));
  ASSERT_GE(e, 0);
  EXPECT_EQ(h.event(e).result.source, CheckResult::Source::kReload);
  const TargetStatus after = h.StatusOf("kept");
  EXPECT_EQ(after.id, 11u);
  EXPECT_FALSE(after.up);
  EXPECT_EQ(after.since_unix_ms, before.since_unix_ms);
  EXPECT_GE(after.checks_run, before.checks_run);
  EXPECT_FALSE(h.checker().StatusOf("gone").has_value());
  EXPECT_FALSE(h.StatusOf("new").up);
  EXPECT_EQ(h.checker().Status().size(), 2u);

  // A changed check (now pointing at a live port) keeps the state and counters, then moves it.
  h.checker().Update({Target(11, "kept", Spec(CheckType::kTcp, server.port(), 1, 1), false),
                      Target(3, "new", std::nullopt, false)});
  EXPECT_GE(h.StatusOf("kept").checks_run, before.checks_run);
  ASSERT_GE(h.WaitFor(11, true, n), 0);
}

TEST(HealthChecker, StopAbandonsChecksAndLeaksNothing) {
  auto count_fds = [] {
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d)) ++n;
      closedir(d);
    }
    return n;
  };
  DnsServer silent;
  silent.set_mode(DnsServer::kSilent);
  HttpServer http;
  ASSERT_TRUE(http.ready());
  const int fds_before = count_fds();
  {
    Harness h;
    std::vector<CheckedTarget> targets;
    for (uint32_t i = 0; i < 50; ++i) {
      CheckSpec d = Spec(CheckType::kDns, silent.port());
      d.query = "x.test.";
      d.interval_ms = d.timeout_ms = 1000;  // in flight when we stop
      targets.push_back(Target(i, absl::StrCat("dns", i), d, true));
      CheckSpec w = Spec(CheckType::kHttp, http.port());
      w.interval_ms = w.timeout_ms = 1000;
      targets.push_back(Target(100 + i, absl::StrCat("http", i), w, true));
    }
    h.checker().Update(targets);
    h.checker().UpdateFeeds({FeedSpec{FeedSpec::Kind::kCommand, "", "sleep 3", 1000, 1000, 0}});
    ASSERT_TRUE(h.checker().Start().ok());
    EXPECT_NE(h.checker().thread_tid(), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(h.checker().Start().ok());  // already running
    h.checker().Stop();
    h.checker().Stop();  // idempotent
    EXPECT_EQ(h.checker().thread_tid(), 0);
    // Restartable.
    ASSERT_TRUE(h.checker().Start().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(HealthChecker, ThousandTcpTargetsAllComeUp) {
  TcpServer server;
  Harness h;
  std::vector<CheckedTarget> targets;
  for (uint32_t i = 0; i < 1000; ++i) {
    // Fall 10: under load (ASan, a busy CI host) a connect of the burst may time out (its SYN
    // over the listener's backlog is resent after 1 s); that must not count as the target
    // going down and up again (each event is one change of state).
    CheckSpec c = Spec(CheckType::kTcp, server.port(), 1, 10);
    c.interval_ms = 500;
    c.timeout_ms = 500;
    targets.push_back(Target(i, absl::StrCat("t", i), c, false));
  }
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  const auto start = Clock::now();
  while (h.count() < 1000 && MsSince(start) < 5000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(h.count(), 1000u);
  // First checks are spread over the interval, not fired together.
  EXPECT_GE(MsSince(start), 250);
  for (const TargetStatus& s : h.checker().Status()) EXPECT_TRUE(s.up) << s.name;
}

}  // namespace
}  // namespace sextant::control::health_checker_test
