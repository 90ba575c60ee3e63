// TCP checks against an in-process listener: down after `fall` failures and up after `rise`
// successes (and no sooner: the damping really happens), and probes from a source address.
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "control/health/health_checker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/control/health/health_checker_test_support.h"

namespace sextant::control::health_checker_test {
namespace {

using ::testing::HasSubstr;

// --- TCP ---------------------------------------------------------------------------------------

TEST(HealthChecker, TcpDownAfterFallUpAfterRise) {
  TcpServer server;
  Harness h;
  const CheckSpec spec = Spec(CheckType::kTcp, server.port(), /*rise=*/2, /*fall=*/3);
  h.checker().Update({Target(7, "web1", spec, /*initial_up=*/false)});
  ASSERT_TRUE(h.checker().Start().ok());
  int up = h.WaitFor(7, true);
  ASSERT_GE(up, 0);
  EXPECT_EQ(h.event(up).result.reason, "connected");
  EXPECT_TRUE(h.event(up).result.ok);

  // Kill it: down after `fall` failures, no sooner than (fall-1) intervals after the first one
  // and no later than fall intervals plus a timeout.
  server.Stop();
  const auto killed = Clock::now();
  int down = h.WaitFor(7, false, up + 1);
  ASSERT_GE(down, 0);
  const auto detect = h.event(down).at - killed;
  EXPECT_GE(detect, std::chrono::milliseconds(spec.interval_ms * (spec.fall - 1) - 20));
  EXPECT_LE(detect,
            std::chrono::milliseconds(spec.interval_ms * spec.fall + spec.timeout_ms) + kSlack);
  EXPECT_EQ(h.event(down).result.reason, "connect refused");
  TargetStatus st = h.StatusOf("web1");
  EXPECT_FALSE(st.up);
  EXPECT_GE(st.consecutive_fail, spec.fall);
  EXPECT_EQ(st.last.reason, "connect refused");

  // Back: up after `rise` successes.
  server.Start();
  const auto restarted = Clock::now();
  up = h.WaitFor(7, true, down + 1);
  ASSERT_GE(up, 0);
  const auto back = h.event(up).at - restarted;
  EXPECT_GE(back, std::chrono::milliseconds(spec.interval_ms * (spec.rise - 1) - 20));
  EXPECT_LE(back,
            std::chrono::milliseconds(spec.interval_ms * spec.rise + spec.timeout_ms) + kSlack);
  st = h.StatusOf("web1");
  EXPECT_TRUE(st.up);
  EXPECT_GE(st.consecutive_ok, spec.rise);
  EXPECT_GE(st.checks_run, spec.fall + 2 * spec.rise);
  EXPECT_GT(st.since_unix_ms, 0);
  h.checker().Stop();
}

TEST(HealthChecker, TcpSourceAddress) {
  TcpServer server;
  Harness h;
  CheckSpec bound = Spec(CheckType::kTcp, server.port(), 1, 1);
  bound.source = "127.0.0.2";
  CheckSpec unbindable = bound;
  unbindable.source = "192.0.2.1";  // TEST-NET-1: not an address of this host
  h.checker().Update({Target(1, "bound", bound, false), Target(2, "unbindable", unbindable, true)});
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(1, true), 0);
  const int down = h.WaitFor(2, false);
  ASSERT_GE(down, 0);
  EXPECT_THAT(h.event(down).result.reason, HasSubstr("cannot bind source 192.0.2.1"));
  // The listener saw the probe come from the source address.
  for (int i = 0; i < 100 && !server.peers().count("127.0.0.2"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.peers(), (std::set<std::string>{"127.0.0.2"}));
}

}  // namespace
}  // namespace sextant::control::health_checker_test
