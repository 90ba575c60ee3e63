// Record-set policies statistically (fixed seeds: deterministic, but each threshold holds for
// any seed with the stated probability): rotation, weights and shuffles through the general
// evaluator.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/engine/policy_evaluator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/policy_cases.h"

namespace sextant::dataplane {
namespace {

using namespace ::sextant::dataplane::policy_cases;  // NOLINT: the tables' vocabulary

// The first record of each answer, counted.
std::map<std::string, int> CountFirsts(const PolicySnapshot& snap, const Health& health,
                                       uint32_t resource, int runs,
                                       std::vector<std::vector<std::string>>* answers = nullptr) {
  std::map<std::string, int> firsts;
  for (int i = 0; i < runs; ++i) {
    Selection sel;
    EvaluateResource(snap.view, health.words(), resource, &sel);
    std::vector<std::string> got = Picked(sel);
    if (got.empty()) {
      ADD_FAILURE() << "empty answer";
      continue;
    }
    ++firsts[got[0]];
    if (answers != nullptr) answers->push_back(std::move(got));
  }
  return firsts;
}

const std::string kFourStatic =
    "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2},\n"
    "          {address: 192.0.2.3, target: t3}, {address: 192.0.2.4, target: t4}]}";

TEST(PolicyStatistics, CyclicOrderRotatesEvenly) {
  struct Case {
    std::string rule;
    std::vector<uint32_t> health;
    std::vector<std::string> healthy;  // in config order
    int min_each, max_each;            // of 10,000 answers, how many start with each
  } cases[] = {
      {"4 up: every rotation 2,500 times",
       {Up, Up, Up, Up},
       {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"},
       2500,
       2500},
      {"1 down: 3 rotations, 3,333 or 3,334 times",
       {Up, Down, Up, Up},
       {"192.0.2.1", "192.0.2.3", "192.0.2.4"},
       3333,
       3334},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    auto snap = BuildPolicies("r: {kind: static, order: cyclic, " + kFourStatic);
    ASSERT_TRUE(snap.ok()) << snap.status();
    Health health(*snap, c.health);
    SeedPolicyRandom(42);
    std::vector<std::vector<std::string>> answers;
    const auto firsts = CountFirsts(*snap, health, snap->ResourceIndex("r"), 10000, &answers);
    ASSERT_EQ(firsts.size(), c.healthy.size());
    for (const auto& [first, n] : firsts) {
      EXPECT_GE(n, c.min_each) << first;
      EXPECT_LE(n, c.max_each) << first;
    }
    // Each answer is the config order rotated (cyclic, not shuffled).
    for (const auto& a : answers) {
      ASSERT_EQ(a.size(), c.healthy.size());
      const auto start = std::find(c.healthy.begin(), c.healthy.end(), a[0]) - c.healthy.begin();
      std::vector<std::string> rotated = c.healthy;
      std::rotate(rotated.begin(), rotated.begin() + start, rotated.end());
      ASSERT_EQ(a, rotated);
    }
  }
}

TEST(PolicyStatistics, WeightedFollowsTheWeights) {
  auto snap = BuildPolicies(
      "r: {kind: weighted, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "    {address: 192.0.2.2, target: t2, weight: 1}, {address: 192.0.2.3, target: t3, "
      "weight: 6}]}");
  ASSERT_TRUE(snap.ok()) << snap.status();
  Health health(*snap, {Up, Up, Up});
  SeedPolicyRandom(7);
  constexpr int kPicks = 100000;
  const auto picked = CountFirsts(*snap, health, snap->ResourceIndex("r"), kPicks);
  const std::map<std::string, double> want = {
      {"192.0.2.1", 0.30}, {"192.0.2.2", 0.10}, {"192.0.2.3", 0.60}};
  for (const auto& [addr, share] : want) {
    const double got = picked.count(addr) ? picked.at(addr) / double{kPicks} : 0;
    EXPECT_NEAR(got, share, 0.02) << addr;
  }
}

// Chi-square of which member comes first, against uniform over 4 members: df 3, p = 0.001.
TEST(PolicyStatistics, RandomOrdersAreUnbiased) {
  constexpr double kChiSquareDf3P001 = 16.27;
  struct Case {
    std::string rule;
    std::string resource;
  } cases[] = {
      {"static random", "r: {kind: static, order: random, " + kFourStatic},
      {"multivalue, all 4", "r: {kind: multivalue, " + kFourStatic},
      {"multivalue, 2 of 4", "r: {kind: multivalue, count: 2, " + kFourStatic},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    auto snap = BuildPolicies(c.resource);
    ASSERT_TRUE(snap.ok()) << snap.status();
    Health health(*snap, {Up, Up, Up, Up});
    SeedPolicyRandom(20240601);
    constexpr int kRuns = 40000;
    const auto firsts = CountFirsts(*snap, health, snap->ResourceIndex("r"), kRuns);
    ASSERT_EQ(firsts.size(), 4u);
    double chi2 = 0;
    const double expected = kRuns / 4.0;
    for (const auto& [first, n] : firsts) chi2 += (n - expected) * (n - expected) / expected;
    EXPECT_LT(chi2, kChiSquareDf3P001);
  }
}

// 16 members, every one watched (t1..t16): what the engine benchmark's policy cases use.
// Chi-square of how often each member comes first, against uniform, p = 0.001 (df 15: 37.70,
// df 13: 34.53). The fast path draws several shuffle steps from one random word.
TEST(PolicyStatistics, SixteenMemberShufflesAreUnbiased) {
  struct Case {
    std::string rule;
    std::string resource;
    std::vector<uint32_t> health;
    size_t answers;  // records in each answer
    int members;     // candidates for the first place
    double chi2_max;
  } cases[] = {
      {"static random, all up", "r: {kind: static, order: random, " + Sixteen(), {}, 16, 16, 37.70},
      {"multivalue 8 of 16, all up",
       "r: {kind: multivalue, count: 8, " + Sixteen(),
       {},
       8,
       16,
       37.70},
      {"multivalue 8 of 16, two down (samples with a down member are redrawn)",
       "r: {kind: multivalue, count: 8, " + Sixteen(),
       {Down, Drained},
       8,
       14,
       34.53},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    auto snap = BuildPolicies(c.resource);
    ASSERT_TRUE(snap.ok()) << snap.status();
    Health health(*snap, c.health);
    SeedPolicyRandom(99);
    constexpr int kRuns = 48000;
    std::vector<std::vector<std::string>> answers;
    const auto firsts = CountFirsts(*snap, health, snap->ResourceIndex("r"), kRuns, &answers);
    ASSERT_EQ(firsts.size(), static_cast<size_t>(c.members));
    double chi2 = 0;
    const double expected = double{kRuns} / c.members;
    for (const auto& [first, n] : firsts) chi2 += (n - expected) * (n - expected) / expected;
    EXPECT_LT(chi2, c.chi2_max);
    for (const auto& a : answers) {
      ASSERT_EQ(a.size(), c.answers);
      ASSERT_EQ(std::set<std::string>(a.begin(), a.end()).size(), a.size()) << "duplicates";
      if (!c.health.empty()) {
        ASSERT_THAT(a, ::testing::Not(::testing::Contains("192.0.2.1")));
        ASSERT_THAT(a, ::testing::Not(::testing::Contains("192.0.2.2")));
      }
    }
  }
}

// Every run length the vector sampler handles differently (a multiple of four: the drawn
// members' health by one byte shuffle; otherwise member by member; over 16: the scalar
// shuffle), with members down: no answer holds a down member or a repeat, every up member is
// drawn first about equally often (chi-square, p = 0.001), and all-up static random answers are
// permutations of the whole run.
TEST(PolicyStatistics, SamplesOfEveryRunLengthSkipDownMembersWithoutBias) {
  // chi-square limits at p = 0.001 by degrees of freedom
  const std::map<int, double> kChi2 = {
      {1, 10.83},  {2, 13.82},  {3, 16.27},  {4, 18.47},  {5, 20.52},  {6, 22.46},
      {7, 24.32},  {8, 26.12},  {9, 27.88},  {10, 29.59}, {11, 31.26}, {12, 32.91},
      {13, 34.53}, {14, 36.12}, {15, 37.70}, {16, 39.25}, {17, 40.79}, {18, 42.31}};
  for (const int n : {4, 5, 8, 11, 12, 16, 19}) {
    for (const bool multivalue : {true, false}) {
      SCOPED_TRACE(absl::StrCat(n, " members, ", multivalue ? "multivalue 3" : "static random"));
      std::string members = "members: [";
      for (int i = 1; i <= n; ++i) {
        absl::StrAppend(&members, i > 1 ? ", " : "", "{address: 192.0.2.", i, ", target: t", i,
                        "}");
      }
      auto snap = BuildPolicies(
          absl::StrCat("r: {kind: ", multivalue ? "multivalue, count: 3" : "static, order: random",
                       ", ", members, "]}"));
      ASSERT_TRUE(snap.ok()) << snap.status();
      // Multivalue: members 2 and n-1 down (t2 and t(n-1)); static random: all up.
      std::vector<uint32_t> health(static_cast<size_t>(n), Up);
      if (multivalue) health[1] = health[n - 2] = Down;
      Health h(*snap, health);
      SeedPolicyRandom(1000 + n);
      const int up = multivalue ? n - 2 : n;
      const int runs = 1500 * up;
      std::vector<std::vector<std::string>> answers;
      const auto firsts = CountFirsts(*snap, h, snap->ResourceIndex("r"), runs, &answers);
      ASSERT_EQ(firsts.size(), static_cast<size_t>(up));
      double chi2 = 0;
      const double expected = double{1.0} * runs / up;
      for (const auto& [first, k] : firsts) chi2 += (k - expected) * (k - expected) / expected;
      EXPECT_LT(chi2, kChi2.at(up - 1));
      for (const auto& a : answers) {
        ASSERT_EQ(a.size(), static_cast<size_t>(multivalue ? std::min(3, up) : n));
        ASSERT_EQ(std::set<std::string>(a.begin(), a.end()).size(), a.size()) << "repeats";
        if (multivalue) {
          ASSERT_THAT(a, ::testing::Not(::testing::Contains("192.0.2.2")));
          ASSERT_THAT(a, ::testing::Not(::testing::Contains(absl::StrCat("192.0.2.", n - 1))));
        }
      }
    }
  }
}

TEST(PolicyStatistics, WeightedCountOneSkipsDownMembersWithoutBias) {
  // t2 (weight 1) down: the others keep their shares relative to each other (3 : 6).
  auto snap = BuildPolicies(
      "r: {kind: weighted, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "    {address: 192.0.2.2, target: t2, weight: 1}, {address: 192.0.2.3, target: t3, "
      "weight: 6}]}");
  ASSERT_TRUE(snap.ok()) << snap.status();
  Health health(*snap, {Up, Down, Up});
  SeedPolicyRandom(11);
  constexpr int kPicks = 90000;
  const auto picked = CountFirsts(*snap, health, snap->ResourceIndex("r"), kPicks);
  EXPECT_EQ(picked.count("192.0.2.2"), 0u);
  EXPECT_NEAR(picked.at("192.0.2.1") / double{kPicks}, 1.0 / 3, 0.02);
  EXPECT_NEAR(picked.at("192.0.2.3") / double{kPicks}, 2.0 / 3, 0.02);
}

}  // namespace
}  // namespace sextant::dataplane
