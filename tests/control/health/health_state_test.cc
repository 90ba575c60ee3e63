// HealthTable: verdicts, overrides (target and datacenter, expiry), precedence, the words it
// stores, and the state file round trip that carries health and overrides across restarts.
#include "control/health/health_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "maps/control_block.h"

namespace sextant::control {
namespace {

using maps::kHealthDrained;
using maps::kHealthForced;
using maps::kHealthUp;

std::vector<TargetSpec> Specs() {
  return {{"web1", "dc-a", 3, true, true},
          {"web2", "dc-a", 4, true, true},
          {"web3", "dc-b", 5, false, true}};
}

class HealthTableTest : public ::testing::Test {
 protected:
  HealthTableTest() : words_(maps::kMaxHealthWords), table_(words_.data()) {
    for (auto& w : words_) w.store(0xdead);
    table_.SetTargets(Specs(), 1000);
  }
  uint32_t W(uint32_t i) { return words_[i].load(); }
  std::vector<std::atomic<uint32_t>> words_;
  HealthTable table_;
};

TEST_F(HealthTableTest, InitialStateIsWrittenToTheWords) {
  EXPECT_EQ(W(3), kHealthUp);
  EXPECT_EQ(W(4), kHealthUp);
  EXPECT_EQ(W(5), 0u);
  EXPECT_EQ(W(6), 0xdeadu);  // not ours
}

TEST_F(HealthTableTest, VerdictChangesWordAndSince) {
  ASSERT_TRUE(table_.SetChecked("web1", false, 2000));
  EXPECT_EQ(W(3), 0u);
  EXPECT_EQ(table_.targets().at("web1").since_unix_ms, 2000);
  ASSERT_TRUE(table_.SetChecked("web1", false, 3000));  // no change: since stays
  EXPECT_EQ(table_.targets().at("web1").since_unix_ms, 2000);
  EXPECT_FALSE(table_.SetChecked("nope", true, 3000));
}

struct OverrideRow {
  const char* name;
  bool datacenter;
  ForcedState state;
  uint32_t w1, w2, w3;  // expected words of web1, web2, web3 afterwards
};

TEST_F(HealthTableTest, OverridesTable) {
  const OverrideRow rows[] = {
      {"web1", false, ForcedState::kDown, kHealthForced, kHealthUp, 0},
      {"web3", false, ForcedState::kUp, kHealthUp, kHealthUp, kHealthUp | kHealthForced},
      {"dc-a", true, ForcedState::kDrain, kHealthUp | kHealthDrained | kHealthForced,
       kHealthUp | kHealthDrained | kHealthForced, 0},
      {"dc-b", true, ForcedState::kUp, kHealthUp, kHealthUp, kHealthUp | kHealthForced},
  };
  for (const OverrideRow& r : rows) {
    HealthTable t(words_.data());
    t.SetTargets(Specs(), 1000);
    ASSERT_TRUE(t.Force(r.name, r.datacenter, r.state, 0, 1000).ok()) << r.name;
    EXPECT_EQ(W(3), r.w1) << r.name;
    EXPECT_EQ(W(4), r.w2) << r.name;
    EXPECT_EQ(W(5), r.w3) << r.name;
    ASSERT_TRUE(t.Release(r.name, r.datacenter, 1000).ok());
    EXPECT_EQ(W(3), kHealthUp);
    EXPECT_EQ(W(5), 0u);
  }
}

TEST_F(HealthTableTest, TargetOverrideBeatsDatacenterOverrideBeatsChecks) {
  ASSERT_TRUE(table_.Force("dc-a", true, ForcedState::kDown, 0, 1000).ok());
  ASSERT_TRUE(table_.Force("web2", false, ForcedState::kUp, 0, 1000).ok());
  EXPECT_EQ(W(3), kHealthForced);
  EXPECT_EQ(W(4), kHealthUp | kHealthForced);
  table_.SetChecked("web1", true, 2000);  // checks still run but do not decide
  EXPECT_EQ(W(3), kHealthForced);
  ASSERT_TRUE(table_.Release("dc-a", true, 2000).ok());
  EXPECT_EQ(W(3), kHealthUp);
}

TEST_F(HealthTableTest, UnknownNamesAreRefused) {
  EXPECT_FALSE(table_.Force("web9", false, ForcedState::kDown, 0, 1).ok());
  EXPECT_FALSE(table_.Force("dc-z", true, ForcedState::kDown, 0, 1).ok());
  EXPECT_FALSE(table_.Release("web1", false, 1).ok());  // no override there
}

TEST_F(HealthTableTest, ExpiryLiftsOverrideAndNamesIt) {
  ASSERT_TRUE(table_.Force("web1", false, ForcedState::kDown, 5000, 1000).ok());
  ASSERT_TRUE(table_.Force("dc-b", true, ForcedState::kDrain, 5000, 1000).ok());
  EXPECT_EQ(table_.NextExpiry(), 5000);
  EXPECT_THAT(table_.ExpireOverrides(4999), ::testing::IsEmpty());
  EXPECT_EQ(W(3), kHealthForced);
  EXPECT_THAT(
      table_.ExpireOverrides(5000),
      ::testing::ElementsAre("target web1 (forced down)", "datacenter dc-b (forced drain)"));
  EXPECT_EQ(W(3), kHealthUp);
  EXPECT_EQ(table_.NextExpiry(), 0);
}

TEST_F(HealthTableTest, StateFileCarriesHealthAndOverridesAcrossRestart) {
  table_.SetChecked("web2", false, 2000);
  ASSERT_TRUE(table_.Force("web1", false, ForcedState::kDown, 0, 2000).ok());
  ASSERT_TRUE(table_.Force("dc-b", true, ForcedState::kDrain, 9000, 2000).ok());
  const std::string path =
      (std::filesystem::temp_directory_path() / "sx_health_state_test.state").string();
  ASSERT_TRUE(table_.SaveFile(path).ok());

  // A new process: words start from garbage; the state file wins over `initial`.
  for (auto& w : words_) w.store(0xdead);
  HealthTable next(words_.data());
  ASSERT_TRUE(next.LoadFile(path, 3000).ok());
  next.SetTargets(Specs(), 3000);
  EXPECT_EQ(W(3), kHealthForced);                               // forced down survived
  EXPECT_EQ(W(4), 0u);                                          // last known: down
  EXPECT_EQ(W(5), kHealthUp | kHealthDrained | kHealthForced);  // dc override survived
  EXPECT_EQ(next.targets().at("web2").since_unix_ms, 2000);

  // Loaded after the expiry: the override is gone.
  HealthTable later(words_.data());
  ASSERT_TRUE(later.LoadFile(path, 9001).ok());
  later.SetTargets(Specs(), 9001);
  EXPECT_EQ(W(5), 0u);
  std::filesystem::remove(path);
}

TEST_F(HealthTableTest, DamagedStateFileIsAnErrorNotACrash) {
  HealthTable t(words_.data());
  EXPECT_FALSE(t.Load("targets: [unclosed", 1).ok());
  EXPECT_FALSE(t.Load("overrides: {web1: {state: sideways}}", 1).ok());
  EXPECT_TRUE(t.Load("", 1).ok());
  EXPECT_TRUE(t.LoadFile("/nonexistent/dir/state", 1).ok());  // first start: no file yet
}

// Names that are not UTF-8, or hold control characters, cannot be written back unchanged: their
// entries are skipped, the others kept (found by tests/fuzz/state_fuzz.cc).
TEST_F(HealthTableTest, StateFileEntriesWithUnstorableNamesAreSkipped) {
  HealthTable t(words_.data());
  ASSERT_TRUE(t.Load("overrides:\n  web1: {state: drain}\n  \"bad\\x1bname\": {state: down}\n"
                     "  web\x96: {state: down}\n  caf\xc3\xa9: {state: up}\n",
                     1)
                  .ok());
  EXPECT_EQ(t.target_overrides().size(), 2u);
  EXPECT_EQ(t.target_overrides().count("web1"), 1u);
  EXPECT_EQ(t.target_overrides().count("caf\xc3\xa9"), 1u);
  HealthTable again(words_.data());
  ASSERT_TRUE(again.Load(t.Serialize(), 1).ok());
  EXPECT_EQ(again.Serialize(), t.Serialize());
}

TEST_F(HealthTableTest, RemovedTargetResumesItsStateWhenItComesBack) {
  table_.SetChecked("web1", false, 2000);
  table_.SetTargets({{"web2", "dc-a", 4, true, true}}, 3000);
  EXPECT_EQ(table_.targets().count("web1"), 0u);
  table_.SetTargets(Specs(), 4000);
  EXPECT_FALSE(table_.targets().at("web1").up);
}

// A reload writes the words the new snapshot will read before it is published (StoreAhead),
// without taking the targets yet: a returning target its last known state, a new one its
// initial state, a target moved into a drained datacenter the drain; the table itself still
// describes the old set until SetTargets.
TEST_F(HealthTableTest, StoreAheadWritesTheComingWordsBeforeTheTargetsChange) {
  table_.SetChecked("web1", false, 2000);
  table_.SetTargets({{"web2", "dc-a", 4, true, true}, {"web3", "dc-b", 5, false, true}}, 3000);
  ASSERT_TRUE(table_.Force("dc-b", true, ForcedState::kDrain, 0, 3000).ok());
  words_[7].store(0xdead);
  words_[8].store(0xdead);
  table_.StoreAhead({{"web1", "dc-a", 7, true, true},   // returns: last known down
                     {"web2", "dc-b", 4, true, true},   // moves into the drained datacenter
                     {"web4", "dc-a", 8, true, true}},  // new: initial up
                    4000);
  EXPECT_EQ(W(7), 0u);
  EXPECT_EQ(W(4), kHealthUp | kHealthDrained | kHealthForced);
  EXPECT_EQ(W(8), kHealthUp);
  EXPECT_EQ(table_.targets().count("web1"), 0u);  // not taken yet
  EXPECT_EQ(table_.targets().at("web2").datacenter, "dc-a");
}

// SINCE is the age of what the dataplane serves: an override, its expiry, a verdict that
// changes the word; not a verdict hidden by an override. At start, the served state dates from
// the override in force, else from the checks' last change.
TEST_F(HealthTableTest, ServedSinceFollowsTheWordNotTheChecks) {
  auto served = [&](const char* name) { return table_.targets().at(name).served_since_unix_ms; };
  EXPECT_EQ(served("web1"), 1000);
  ASSERT_TRUE(table_.Force("web1", false, ForcedState::kDown, 9000, 5000).ok());
  EXPECT_EQ(served("web1"), 5000);
  EXPECT_EQ(table_.targets().at("web1").since_unix_ms, 1000);  // the checks' age stays
  table_.SetChecked("web1", false, 6000);  // hidden by the override: the word does not change
  EXPECT_EQ(served("web1"), 5000);
  EXPECT_THAT(table_.ExpireOverrides(9000),
              ::testing::SizeIs(1));  // expired: served as checked, which is down
  EXPECT_EQ(served("web1"), 5000);    // too: the state served did not change
  table_.SetChecked("web1", true, 9500);
  EXPECT_EQ(served("web1"), 9500);
  ASSERT_TRUE(table_.Force("dc-a", true, ForcedState::kDrain, 0, 10000).ok());
  EXPECT_EQ(served("web2"), 10000);
  ASSERT_TRUE(table_.Release("dc-a", true, 11000).ok());
  EXPECT_EQ(served("web2"), 11000);
  EXPECT_NE(table_.Report(false, 12000).find("web2                 up       1s ago"),
            std::string::npos)
      << table_.Report(false, 12000);
  EXPECT_NE(table_.Report(true, 12000).find("\"state_since_unix_ms\":11000"), std::string::npos);

  // A new table (a restart) with the override in the state file: served since it was set.
  ASSERT_TRUE(table_.Force("web3", false, ForcedState::kUp, 0, 12000).ok());
  HealthTable next(nullptr);
  ASSERT_TRUE(next.Load(table_.Serialize(), 13000).ok());
  next.SetTargets(Specs(), 13000);
  EXPECT_EQ(next.targets().at("web3").served_since_unix_ms, 12000);
  EXPECT_EQ(next.targets().at("web2").served_since_unix_ms, 1000);
}

TEST_F(HealthTableTest, ReportShowsEveryTarget) {
  table_.RecordResult("web1", false, "connect refused", 1500, 2000, 7);
  ASSERT_TRUE(table_.Force("web2", false, ForcedState::kDrain, 0, 2000).ok());
  const std::string json = table_.Report(true, 2500);
  EXPECT_NE(json.find("\"target\":\"web1\""), std::string::npos);
  EXPECT_NE(json.find("\"result\":\"connect refused\""), std::string::npos);
  EXPECT_NE(json.find("\"state\":\"drained\""), std::string::npos);
  const std::string text = table_.Report(false, 2500);
  EXPECT_NE(text.find("FORCED drain"), std::string::npos);
}

}  // namespace
}  // namespace sextant::control
