// Record-set policies through the general evaluator (dataplane/engine/policy_evaluator.h), rule
// by rule: the row tables of policy_cases.h, each row evaluated many times (fixed seed) against
// its health words, every evaluation matching the row.
#include "dataplane/engine/policy_evaluator.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/policy_cases.h"

namespace sextant::dataplane {
namespace {

using namespace ::sextant::dataplane::policy_cases;  // NOLINT: the tables' vocabulary
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr int kRunsPerRow = 64;  // enough for every candidate of a random pick to show up

// Failed assertions so far in the running test.
int Failures() {
  const ::testing::TestResult* r =
      ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < r->total_part_count(); ++i) n += r->GetTestPartResult(i).failed();
  return n;
}

void ExpectRows(const std::vector<Row>& rows) {
  uint64_t seed = 1;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.rule);
    auto snap = BuildPolicies(row.resources, row.type);
    ASSERT_TRUE(snap.ok()) << snap.status();
    Health health(*snap, row.health);
    const uint32_t r = snap->ResourceIndex("r");
    SeedPolicyRandom(seed++);
    std::set<std::string> seen;
    const int failures_before = Failures();
    for (int run = 0; run < kRunsPerRow; ++run) {
      SCOPED_TRACE(absl::StrCat("run ", run));
      Selection sel;
      EvaluateResource(snap->view, health.words(), r, &sel);
      const std::vector<std::string> got = Picked(sel, row.type);
      EXPECT_EQ(OutcomeName(sel.outcome), OutcomeName(row.want.outcome));
      EXPECT_EQ(sel.ttl, row.want.ttl);
      switch (row.want.match) {
        case Match::kInOrder:
          EXPECT_THAT(got, ElementsAreArray(row.want.records));
          break;
        case Match::kAnyOrder:
          EXPECT_THAT(got, UnorderedElementsAreArray(row.want.records));
          break;
        case Match::kPickFrom:
        case Match::kOneOf: {
          EXPECT_EQ(got.size(), row.want.picks) << absl::StrJoin(got, " ");
          EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size())
              << "duplicates: " << absl::StrJoin(got, " ");
          for (const std::string& g : got) {
            EXPECT_THAT(row.want.records, ::testing::Contains(g));
          }
          seen.insert(got.begin(), got.end());
          break;
        }
      }
      if (Failures() > failures_before) break;  // one run's story is enough
    }
    if (row.want.match == Match::kPickFrom) {
      EXPECT_THAT(seen, UnorderedElementsAreArray(row.want.records)) << "never picked some";
    }
  }
}
// ---------------------------------------------------------------------------------------------
// Policies one by one

TEST(Policy, StaticAnswersEveryHealthyMember) { ExpectRows(StaticAnswersEveryHealthyMemberRows()); }

TEST(Policy, FailoverAnswersTheFirstHealthyMember) {
  ExpectRows(FailoverAnswersTheFirstHealthyMemberRows());
}

TEST(Policy, WeightedPicksDistinctHealthyMembersByWeight) {
  ExpectRows(WeightedPicksDistinctHealthyMembersByWeightRows());
}

TEST(Policy, MultivalueAnswersUpToCountHealthyMembers) {
  ExpectRows(MultivalueAnswersUpToCountHealthyMembersRows());
}

// Two nested pools may share an address; an RRset never holds the same record twice
// (RFC 2181 section 5), so the answer must not either.
TEST(Policy, OverlappingNestedPoolsNeverRepeatARecord) {
  ExpectRows(OverlappingNestedPoolsNeverRepeatARecordRows());
}

TEST(Policy, NestedResourcesCombine) { ExpectRows(NestedResourcesCombineRows()); }

TEST(Policy, AllDownRules) { ExpectRows(AllDownRulesRows()); }

// Random orders shuffle what they picked; with nothing picked the shuffle must be a no-op and the
// all-down rule must still apply.
TEST(Policy, ShuffledPoliciesWithEverythingDownApplyTheAllDownRule) {
  ExpectRows(ShuffledPoliciesWithEverythingDownApplyTheAllDownRuleRows());
}

TEST(Policy, TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtls) {
  ExpectRows(TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtlsRows());
}

TEST(Policy, CnameResourcesAnswerExactlyOneTarget) {
  ExpectRows(CnameResourcesAnswerExactlyOneTargetRows());
}

TEST(Policy, NullHealthMeansEverythingUp) {
  auto snap = BuildPolicies(
      "r: {kind: failover, ttl: 60, ttl_when_down: 5, members: [{address: 192.0.2.1, "
      "target: t1}, {address: 192.0.2.2, target: t2}]}");
  ASSERT_TRUE(snap.ok()) << snap.status();
  Selection sel;
  EvaluateResource(snap->view, nullptr, snap->ResourceIndex("r"), &sel);
  EXPECT_THAT(Picked(sel), ElementsAre("192.0.2.1"));
  EXPECT_EQ(sel.ttl, 60u);
  EXPECT_EQ(sel.outcome, PolicyOutcome::kAnswer);
}

TEST(Policy, ReadsEachHealthChangeOnTheNextEvaluation) {
  auto snap = BuildPolicies(
      "r: {kind: failover, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}]}");
  ASSERT_TRUE(snap.ok()) << snap.status();
  Health health(*snap, {Up, Up});
  const uint32_t r = snap->ResourceIndex("r");
  struct Step {
    uint32_t t1, t2;
    std::string want;
  } steps[] = {
      {Up, Up, "192.0.2.1"},      {Down, Up, "192.0.2.2"}, {Up, Up, "192.0.2.1"},
      {Drained, Up, "192.0.2.2"}, {Up, Down, "192.0.2.1"}, {Down, Down, "192.0.2.1 192.0.2.2"},
  };
  for (const Step& s : steps) {
    health.Of(1).store(s.t1, std::memory_order_relaxed);
    health.Of(2).store(s.t2, std::memory_order_relaxed);
    Selection sel;
    EvaluateResource(snap->view, health.words(), r, &sel);
    EXPECT_EQ(absl::StrJoin(Picked(sel), " "), s.want) << "t1=" << s.t1 << " t2=" << s.t2;
  }
}

}  // namespace
}  // namespace sextant::dataplane
