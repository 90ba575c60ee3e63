// The fleet verdict's table (control/fleet/quorum.h), and how FleetHealth turns a view into
// health words: the quorum per target, this node's own vote, fallback, fleet overrides below
// local ones.
#include "control/fleet/quorum.h"

#include <atomic>
#include <map>
#include <string>

#include "control/config/config.h"
#include "control/fleet/fleet_health.h"
#include "control/health/health_state.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"

namespace sextant::control::fleet {
namespace {

struct Case {
  Quorum quorum;
  bool local_up;
  std::map<std::string, bool> votes;
  bool want_up;
};

TEST(Quorum, Table) {
  const Case cases[] = {
      // local: the fleet does not matter.
      {Quorum::kLocal, true, {{"a", false}, {"b", false}}, true},
      {Quorum::kLocal, false, {{"a", true}, {"b", true}}, false},
      // No votes at all: the local verdict.
      {Quorum::kMajority, false, {}, false},
      {Quorum::kAll, true, {}, true},
      // any: one down vote is enough.
      {Quorum::kAny, true, {{"a", true}, {"b", false}, {"c", true}}, false},
      {Quorum::kAny, true, {{"a", true}, {"b", true}}, true},
      // majority: more than half.
      {Quorum::kMajority, false, {{"a", false}, {"b", true}, {"c", true}}, true},
      {Quorum::kMajority, true, {{"a", false}, {"b", false}, {"c", true}}, false},
      {Quorum::kMajority, false, {{"a", false}, {"b", true}}, true},  // a tie is not a majority
      {Quorum::kMajority, false, {{"a", false}}, false},
      // all: every voter.
      {Quorum::kAll, false, {{"a", false}, {"b", false}, {"c", true}}, true},
      {Quorum::kAll, false, {{"a", false}, {"b", false}}, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FleetUp(c.quorum, c.local_up, c.votes), c.want_up)
        << "quorum " << static_cast<int>(c.quorum) << " local " << c.local_up << " votes "
        << c.votes.size();
  }
}

class FleetHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Config> c = ParseConfig(R"(zones: [{origin: t.test., file: t.zone}]
fleet: {endpoints: [http://127.0.0.1:2379], node: a, quorum: majority}
targets:
  web: {datacenter: dc1, check: {type: tcp, address: 127.0.0.1, port: 1}}
  loc: {quorum: local, check: {type: tcp, address: 127.0.0.1, port: 1}}
  plain: {datacenter: dc1}
)",
                                           "t.yaml", "/tmp");
    ASSERT_TRUE(c.ok()) << c.status();
    config_ = *c;
    table_.SetTargets({{"web", "dc1", 0, true, true},
                       {"loc", "", 1, true, true},
                       {"plain", "dc1", 2, true, false}},
                      1000);
    fleet_.SetTargets(config_);
  }
  bool Up(int word) { return words_[word].load() & maps::kHealthUp; }
  // A view from an etcd that answered.
  static FleetView Reached() {
    FleetView v;
    v.reachable = true;
    v.fallback = false;
    return v;
  }

  Config config_;
  std::atomic<uint32_t> words_[maps::kMaxHealthWords] = {};
  HealthTable table_{words_};
  FleetHealth fleet_;
};

TEST_F(FleetHealthTest, MajorityOverridesOneLocalDownAndLocalQuorumDoesNot) {
  FleetView v = Reached();
  v.votes["web"] = {{"a", true}, {"b", true}, {"c", true}};
  v.votes["loc"] = {{"a", true}, {"b", true}, {"c", true}};
  fleet_.Apply(v, &table_, 2000);
  // This node sees both down: its own vote is taken as it stands now, not from the view.
  table_.SetChecked("web", false, 3000);
  fleet_.Recompute("web", &table_, 3000);
  table_.SetChecked("loc", false, 3000);
  fleet_.Recompute("loc", &table_, 3000);
  EXPECT_TRUE(Up(0)) << "one of three down is no majority";
  EXPECT_FALSE(Up(1)) << "quorum local: this node's verdict";
  EXPECT_EQ(fleet_.LocalVotes(table_),
            (std::map<std::string, bool>{{"loc", false}, {"web", false}}));
  v.votes["web"]["b"] = false;
  fleet_.Apply(v, &table_, 4000);
  EXPECT_FALSE(Up(0)) << "two of three down";
  // Fallback: local verdicts again.
  table_.SetChecked("web", true, 5000);
  v.fallback = true;
  fleet_.Apply(v, &table_, 5000);
  EXPECT_TRUE(Up(0));
}

TEST_F(FleetHealthTest, FleetOverridesRankBelowLocalOnesAndGoInFallback) {
  FleetView v = Reached();
  v.dc_overrides["dc1"] = Override{ForcedState::kDown, 1000, 0};
  fleet_.Apply(v, &table_, 2000);
  EXPECT_FALSE(Up(2));
  EXPECT_TRUE(words_[2].load() & maps::kHealthForced);
  ASSERT_TRUE(table_.Force("plain", false, ForcedState::kUp, 0, 2500).ok());
  EXPECT_TRUE(Up(2)) << "this node's own override wins here";
  EXPECT_NE(table_.Report(false, 3000).find("wins over the fleet's (down)"), std::string::npos);
  ASSERT_TRUE(table_.Release("plain", false, 3000).ok());
  EXPECT_FALSE(Up(2));
  v.fallback = true;
  fleet_.Apply(v, &table_, 4000);
  EXPECT_TRUE(Up(2)) << "partitioned past the grace period: no fleet override";
}

TEST_F(FleetHealthTest, ExpiredFleetOverridesGoEvenFromAStaleView) {
  FleetView v = Reached();
  v.target_overrides["plain"] = Override{ForcedState::kDown, 1000, 5000};
  fleet_.Apply(v, &table_, 2000);
  EXPECT_FALSE(Up(2));
  EXPECT_EQ(table_.ExpireOverrides(5000),
            std::vector<std::string>{"fleet target plain (forced down)"});
  EXPECT_TRUE(Up(2));
  fleet_.Apply(v, &table_, 5100);  // etcd out of reach: the same view again
  EXPECT_TRUE(Up(2));
}

TEST(FleetConfig, ParsesAndRefuses) {
  absl::StatusOr<Config> c = ParseConfig(
      "zones: [{origin: t.test., file: t.zone}]\nfleet: {endpoints: http://127.0.0.1:2379, node: "
      "a, prefix: /x, grace: 5s}\n",
      "t.yaml", "/tmp");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->fleet.present);
  EXPECT_EQ(c->fleet.prefix, "/x/");
  EXPECT_EQ(c->fleet.grace_ms, 5000u);
  EXPECT_EQ(c->fleet.quorum, Quorum::kMajority);
  EXPECT_EQ(c->fleet.bundle_dir, "/var/lib/sextant/sextant.bundle");
  for (const char* bad : {"fleet: {node: a}\n", "fleet: {endpoints: [127.0.0.1:2379], node: a}\n",
                          "fleet: {endpoints: [http://e:1], node: a/b}\n",
                          "fleet: {endpoints: [http://e:1], node: a, quorum: most}\n",
                          "fleet: {endpoints: [http://e:1], node: a, lease_ttl: 1s}\n"}) {
    EXPECT_FALSE(ParseConfig(std::string("zones: [{origin: t.test., file: t.zone}]\n") + bad,
                             "t.yaml", "/tmp")
                     .ok())
        << bad;
  }
}

}  // namespace
}  // namespace sextant::control::fleet
