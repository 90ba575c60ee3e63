// What force and release answer: the targets an override hits, counted and named (those with an
// override of their own apart), and each mistake refused with the fix.
#include "control/daemon/override_replies.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sextant::control {
namespace {

class OverrideRepliesTest : public ::testing::Test {
 protected:
  OverrideRepliesTest() : table_(nullptr) {
    table_.SetTargets({{"sgp1", "sgp", 1, true, false},
                       {"sgp2", "sgp", 2, true, false},
                       {"nyc1", "nyc", 3, true, false},
                       {"solo", "", 4, true, false}},
                      1000);
  }
  std::string ForceOk(const OverrideRequest& r) {
    EXPECT_TRUE(CheckForce(table_, r).ok()) << r.name;
    EXPECT_TRUE(table_.Force(r.name, r.datacenter, r.state, 0, 1000).ok()) << r.name;
    return ForceReply(table_, r);
  }
  std::string ReleaseOk(const OverrideRequest& r) {
    EXPECT_TRUE(CheckRelease(table_, r).ok()) << r.name;
    EXPECT_TRUE(table_.Release(r.name, r.datacenter, 2000).ok()) << r.name;
    return ReleaseReply(table_, r);
  }
  HealthTable table_;
};

TEST_F(OverrideRepliesTest, RepliesCountAndNameTheTargetsHit) {
  EXPECT_EQ(ForceOk({"sgp", true, ForcedState::kDown}),
            "datacenter sgp forced down: 2 targets (sgp1, sgp2)\n");
  EXPECT_EQ(ForceOk({"sgp1", false, ForcedState::kUp, 90000}),
            "forced up for 90s: 1 target (sgp1)\n");
  EXPECT_EQ(ForceOk({"sgp", true, ForcedState::kDrain}),
            "datacenter sgp forced drain: 1 target (sgp2); sgp1 (up) keeps its own override\n");
  EXPECT_EQ(ReleaseOk({"sgp1", false}),
            "released: 1 target (sgp1); it follows datacenter sgp's override (forced drain)\n");
  EXPECT_EQ(ReleaseOk({"sgp", true}),
            "datacenter sgp released: 2 targets (sgp1, sgp2); the checks decide again\n");
  EXPECT_EQ(ForceOk({"solo", false, ForcedState::kDown}), "forced down: 1 target (solo)\n");
  EXPECT_EQ(ReleaseOk({"solo", false}), "released: 1 target (solo); the checks decide again\n");
}

struct RefusalRow {
  const char* what;
  bool force;
  OverrideRequest request;
  const char* message;
};

TEST_F(OverrideRepliesTest, MistakesAreRefusedWithTheFix) {
  ASSERT_TRUE(table_.Force("nyc", true, ForcedState::kDown, 0, 1000).ok());
  const RefusalRow rows[] = {
      {"datacenter no target is in",
       true,
       {"sng", true},
       "datacenter 'sng' has no targets: nothing forced (the targets' datacenters are nyc, sgp)"},
      {"unknown target", true, {"nosuch", false}, "no such target 'nosuch'"},
      {"a datacenter named as a target",
       true,
       {"sgp", false, ForcedState::kDrain},
       "no such target 'sgp'; sgp is a datacenter: sextantctl force drain sgp --datacenter"},
      {"release unknown target", false, {"nosuch", false}, "no such target 'nosuch'"},
      {"release a datacenter's override as a target",
       false,
       {"nyc", false},
       "no such target 'nyc'; to release datacenter nyc's override: sextantctl release nyc "
       "--datacenter"},
      {"release a target its datacenter holds",
       false,
       {"nyc1", false},
       "no override on target 'nyc1'; it follows datacenter nyc's override (forced down): "
       "release that with sextantctl release nyc --datacenter"},
      {"release a target without override", false, {"sgp1", false}, "no override on target 'sgp1'"},
      {"release unknown datacenter",
       false,
       {"sng", true},
       "no such datacenter 'sng' (the targets' datacenters are nyc, sgp)"},
      {"release a datacenter without override",
       false,
       {"sgp", true},
       "no override on datacenter 'sgp'"},
  };
  for (const RefusalRow& r : rows) {
    const absl::Status s =
        r.force ? CheckForce(table_, r.request) : CheckRelease(table_, r.request);
    EXPECT_TRUE(absl::IsNotFound(s)) << r.what;
    EXPECT_EQ(s.message(), r.message) << r.what;
  }
}

}  // namespace
}  // namespace sextant::control
