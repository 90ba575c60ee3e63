// DNS checks against an in-process responder: every verdict and its reason, and a flapping backend
// whose state never changes under rise/fall damping.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "control/health/health_checker.h"
#include "gtest/gtest.h"
#include "tests/control/health/health_checker_test_support.h"

namespace sextant::control::health_checker_test {
namespace {

// --- DNS ---------------------------------------------------------------------------------------

TEST(HealthChecker, DnsVerdicts) {
  DnsServer answering, servfail, nxdomain, silent, wrong_id;
  servfail.set_mode(DnsServer::kServFail);
  nxdomain.set_mode(DnsServer::kNxDomain);
  silent.set_mode(DnsServer::kSilent);
  wrong_id.set_mode(DnsServer::kWrongId);
  auto dns = [](uint16_t port, const std::string& expect_answer, uint8_t expect_rcode = 0) {
    CheckSpec c = Spec(CheckType::kDns, port, 1, 1);
    c.query = "health.example.test.";
    c.expect_answer = expect_answer;
    c.expect_rcode = expect_rcode;
    return c;
  };
  struct Row {
    std::string name;
    CheckSpec spec;
    bool up;
    std::string reason;
  } rows[] = {
      {"answer", dns(answering.port(), "198.18.1.1"), true, "answer 198.18.1.1"},
      {"noerror", dns(answering.port(), ""), true, "rcode NOERROR"},
      {"other-answer", dns(answering.port(), "198.18.1.2"), false, "no answer matched 198.18.1.2"},
      {"servfail", dns(servfail.port(), ""), false, "rcode SERVFAIL"},
      {"nx-expected", dns(nxdomain.port(), "", 3), true, "rcode NXDOMAIN"},
      {"nx-unexpected", dns(nxdomain.port(), ""), false, "rcode NXDOMAIN"},
      {"noerror-not-nx", dns(answering.port(), "", 3), false, "rcode NOERROR (expected NXDOMAIN)"},
      {"silent", dns(silent.port(), ""), false, "timeout after 100 ms"},
      {"wrong-id", dns(wrong_id.port(), ""), false, "timeout after 100 ms"},
  };
  Harness h;
  std::vector<CheckedTarget> targets;
  for (size_t i = 0; i < std::size(rows); ++i) {
    targets.push_back(Target(i, rows[i].name, rows[i].spec, !rows[i].up));
  }
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  for (size_t i = 0; i < std::size(rows); ++i) {
    const int e = h.WaitFor(i, rows[i].up);
    ASSERT_GE(e, 0) << rows[i].name;
    EXPECT_EQ(h.event(e).result.reason, rows[i].reason) << rows[i].name;
  }
  // Each answer took one query: the id is checked, RD is clear.
  EXPECT_GT(answering.queries(), 0);
}

TEST(HealthChecker, FlappingBackendNeverChangesState) {
  // Alternates NOERROR / SERVFAIL on every query (one server per target, so that each sees
  // the alternation): with rise=2 and fall=2 no streak gets to 2.
  DnsServer flapping1, flapping2;
  flapping1.set_mode(DnsServer::kAlternate);
  flapping2.set_mode(DnsServer::kAlternate);
  CheckSpec c1 = Spec(CheckType::kDns, flapping1.port(), 2, 2);
  c1.query = "flap.example.test.";
  CheckSpec c2 = c1;
  c2.port = flapping2.port();
  Harness h;
  h.checker().Update({Target(1, "flap-up", c1, true), Target(2, "flap-down", c2, false)});
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_TRUE(h.WaitForChecks("flap-up", 12));
  ASSERT_TRUE(h.WaitForChecks("flap-down", 12));
  h.checker().Stop();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_TRUE(h.StatusOf("flap-up").up);
  EXPECT_FALSE(h.StatusOf("flap-down").up);
  EXPECT_LE(h.StatusOf("flap-up").consecutive_ok + h.StatusOf("flap-up").consecutive_fail, 1u);
}

}  // namespace
}  // namespace sextant::control::health_checker_test
