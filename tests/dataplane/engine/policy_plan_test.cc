// The policy plan the dataplane works out when it loads a snapshot (policy_plan.h): which fast
// writer answers each resource, reading member health through which accessor, the runs it
// proved, and the weighted alias tables.
#include "dataplane/engine/policy_plan.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/policy_cases.h"

namespace sextant::dataplane {
namespace {

using namespace ::sextant::dataplane::policy_cases;  // NOLINT: the tables' vocabulary

// The plan of one snapshot's resources, by name.
class Plan {
 public:
  explicit Plan(const PolicySnapshot& s) : s_(s), engine_(*s.reader) {}
  const ResourcePlan& Of(const std::string& name) const {
    return engine_.view().plans[s_.ResourceIndex(name)];
  }

 private:
  const PolicySnapshot& s_;
  Engine engine_;
};

TEST(PolicyPlan, ProvesTheRunsItCan) {
  auto snap = BuildPolicies(
      "r: {kind: failover, members: [{resource: run}, {resource: gap}, {resource: mixed},\n"
      "    {resource: bare}]}\n"
      "run: {members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}\n"
      "gap: {members: [{address: 192.0.2.3, target: t4}, {address: 192.0.2.4, target: t3}]}\n"
      "mixed: {members: [{address: 192.0.2.5, target: t5}, 192.0.2.6]}\n"
      "bare: {members: [192.0.2.7, 192.0.2.8]}");
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Plan plan(*snap);
  // Nested members: no run of rdata; the general evaluator.
  EXPECT_EQ(plan.Of("r").rdata_stride, 0);
  EXPECT_EQ(plan.Of("r").writer, 0);
  // Every member's rdata is a run (4-byte addresses, 6 bytes apart) ...
  for (const char* name : {"run", "gap", "mixed", "bare"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(plan.Of(name).rdata_stride, 6);
  }
  // ... and the health accessor says how the members' words lie.
  EXPECT_EQ(plan.Of("run").health_first, snap->health_word.at("t1"));
  EXPECT_EQ(plan.Of("run").writer, WriterId(kWriterRun, kFastHealthRun));
  EXPECT_EQ(plan.Of("gap").writer, WriterId(kWriterRun, kFastHealthIndexed));  // t4 before t3
  EXPECT_EQ(plan.Of("mixed").writer, WriterId(kWriterRun, kFastHealthIndexed));
  EXPECT_EQ(plan.Of("bare").writer, WriterId(kWriterRun, kFastNoHealth));
}

TEST(PolicyPlan, ChoosesTheWriterByKind) {
  std::string seventeen;
  for (int i = 1; i <= 17; ++i) absl::StrAppend(&seventeen, i > 1 ? ", " : "", "192.0.2.", i);
  const struct {
    std::string resource;
    int writer;
    uint16_t type = kA;
  } kinds[] = {
      {"r: {kind: failover, members: [192.0.2.1, 192.0.2.2]}", kWriterFailover},
      {"r: {kind: weighted, members: [192.0.2.1, 192.0.2.2]}", kWriterWeighted},
      {"r: {kind: weighted, count: 2, members: [192.0.2.1, 192.0.2.2]}", kWriterGeneral},
      {"r: {kind: multivalue, count: 2, members: [192.0.2.1, 192.0.2.2]}", kWriterSampleA},
      {"r: {kind: multivalue, count: 2, members: ['2001:db8::1', '2001:db8::2']}",
       kWriterSampleAaaa, kAaaa},
      // More than 16 members, or a TTL that depends on every member: the general sample.
      {"r: {kind: multivalue, count: 2, members: [" + seventeen + "]}", kWriterShuffled},
      {"r: {kind: multivalue, count: 2, ttl: 60, ttl_when_down: 5, members: [192.0.2.1, "
       "192.0.2.2]}",
       kWriterShuffled},
      {"r: {kind: static, order: random, members: [192.0.2.1, 192.0.2.2]}", kWriterShuffled},
      {"r: {kind: static, order: fixed, members: [192.0.2.1, 192.0.2.2]}", kWriterRun},
      // A lone member: answered when it is up, whatever the kind.
      {"r: {kind: static, members: [192.0.2.1]}", kWriterOneA},
      {"r: {kind: failover, members: ['2001:db8::1']}", kWriterOneAaaa, kAaaa},
      {"r: {kind: weighted, count: 2, members: [192.0.2.1]}", kWriterOneA},
      {"r: {kind: multivalue, count: 3, ttl: 60, ttl_when_down: 5, members: [192.0.2.1]}",
       kWriterOneA},
      // Names in the rdata are compressed as they are written: the general evaluator.
      {"r: {kind: failover, members: [c1.pol.test., c2.pol.test.]}", kWriterGeneral, kCname},
  };
  for (const auto& k : kinds) {
    SCOPED_TRACE(k.resource);
    auto one = BuildPolicies(k.resource, k.type);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(Plan(*one).Of("r").writer,
              k.writer == kWriterGeneral ? 0 : WriterId(k.writer, kFastNoHealth));
  }
}

// The alias table gives each member its weight's share: worked out exactly from the table (each
// slot 1/n, split keep/2^32 to its member and the rest to its alias), within the n/2^32 that
// rounding each slot's share to 32 bits allows, for weight lists with zeros, one member, equal
// and very unequal weights, and random ones up to the 64-member limit.
TEST(AliasTable, GivesEachMemberItsWeightsShare) {
  std::vector<std::vector<uint16_t>> lists = {
      {1}, {0, 5}, {3, 1, 6}, {1, 1, 1, 1}, {65535, 1}, {0, 0, 7, 0, 1}, {2, 0, 2, 0, 2, 0}};
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int n : {16, 33, 64}) {
    std::vector<uint16_t> w(n);
    for (uint16_t& v : w) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v = static_cast<uint16_t>(x % 4 == 0 ? 0 : x % 1000);
    }
    lists.push_back(w);
  }
  for (const std::vector<uint16_t>& w : lists) {
    SCOPED_TRACE(absl::StrJoin(w, ","));
    const uint32_t n = static_cast<uint32_t>(w.size());
    std::vector<maps::Member> m(n);
    std::vector<AliasSlot> slots(n);
    double total = 0;
    for (uint32_t k = 0; k < n; ++k) {
      m[k].weight = w[k];
      total += w[k];
    }
    BuildAliasTable(m.data(), n, slots.data());
    std::vector<double> p(n, 0.0);
    for (uint32_t s = 0; s < n; ++s) {
      ASSERT_LT(slots[s].alias, n);
      const double keep = slots[s].keep / 4294967296.0;
      p[s] += keep / n;
      p[slots[s].alias] += (1 - keep) / n;
    }
    for (uint32_t k = 0; k < n; ++k) {
      EXPECT_NEAR(p[k], w[k] / total, n / 4294967296.0 + 1e-12) << "member " << k;
      if (w[k] == 0) {
        EXPECT_LT(p[k], n / 4294967296.0) << "weight-0 member " << k;
      }
    }
  }
}

}  // namespace
}  // namespace sextant::dataplane
