// The control socket's request lines (control/daemon/control_command.h): what sextantctl writes
// is what the daemon reads back, and what the daemon refuses it names.
#include "control/daemon/control_command.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;

TEST(ControlCommand, EveryCommandRoundTripsThroughItsLine) {
  const ControlCommand commands[] = {
      {CommandKind::kStatus},
      {CommandKind::kStatus, true},
      {CommandKind::kHealth},
      {CommandKind::kHealth, true},
      {CommandKind::kReload},
      {CommandKind::kForce, false, {"web1", false, ForcedState::kDown, 0}},
      {CommandKind::kForce, false, {"ams", true, ForcedState::kDrain, 600000}},
      {CommandKind::kForce, false, {"web-2.x", false, ForcedState::kUp, 1}},
      {CommandKind::kRelease, false, {"web1", false}},
      {CommandKind::kRelease, false, {"ams", true}},
      {CommandKind::kFleetHealth, true},
      {CommandKind::kFleetStatus},
  };
  for (const ControlCommand& c : commands) {
    SCOPED_TRACE(c.Line());
    auto parsed = ParseControlCommand(c.Line() + "\n");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(
      (ControlCommand{CommandKind::kForce, false, {"ams", true, ForcedState::kDrain, 5000}}.Line()),
      "force drain datacenter ams 5000");
}

TEST(ControlCommand, RefusesWhatItDoesNotKnowSayingWhat) {
  const struct {
    std::string line, says;
  } cases[] = {
      {"", "empty request"},
      {"   ", "empty request"},
      {"\nstatus", "empty request"},
      {"stats", "unknown request 'stats'"},
      {"status now", "unknown request"},
      {"reload json", "unknown request"},
      {"fleet", "unknown request"},
      {"fleet votes", "unknown request"},
      {"force down web1", "force:"},
      {"force sideways target web1", "sideways"},
      {"force down host web1", "expected target or datacenter, not 'host'"},
      {"force down target web1 0", "bad duration '0'"},
      {"force down target web1 -5", "bad duration"},
      {"force down target web1 10s", "bad duration '10s'"},
      {"force down target web\x01", "is not a name"},
      {"release web1", "release:"},
      {"release dc ams", "expected target or datacenter"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto parsed = ParseControlCommand(c.line);
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.says));
  }
}

TEST(ControlCommand, NamesAreOneWordOfPrintableCharacters) {
  EXPECT_TRUE(IsProtocolName("web1"));
  EXPECT_TRUE(IsProtocolName("dc-ams_2.example"));
  EXPECT_FALSE(IsProtocolName(""));
  EXPECT_FALSE(IsProtocolName("two words"));
  EXPECT_FALSE(IsProtocolName("tab\there"));
  EXPECT_FALSE(IsProtocolName("line\n"));
  EXPECT_FALSE(IsProtocolName("del\x7f"));
}

}  // namespace
}  // namespace sextant::control
