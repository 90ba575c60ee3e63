// Record-set policies (dataplane/policy.h), rule by rule. Each policy is written as the YAML an
// operator would write, compiled through the real control plane (BuildTestSnapshot), and
// evaluated against a local array of health words that every row sets explicitly.
//
// Conventions in the tables:
//   * member address 192.0.2.N (or 2001:db8::N, or cN.pol.test. for CNAME targets), when it
//     has a target, is watched by tN; `health` lists the words of t1, t2, ... in that order
//     (Up, Down or Drained), the rest stay up;
//   * the record under test is `r.pol.test.` and uses resource `r`;
//   * randomised policies are evaluated many times per row (fixed seed) and every evaluation
//     must match the row.
//
// Then statistics with fixed seeds (rotation, weights, shuffles), and the same policies seen
// through Engine::Answer.
#include "dataplane/engine/policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace dns = ::sextant::maps::dns;

namespace sxt = ::sextant::testing;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr uint16_t kA = 1, kCname = 5, kSoa = 6, kAaaa = 28, kAny = 255;

// Health words, as the health checker writes them.
constexpr uint32_t Up = maps::kHealthUp;
constexpr uint32_t Down = 0;
constexpr uint32_t Drained = maps::kHealthUp | maps::kHealthDrained;

constexpr int kHealthWords = 20;

// The zone every test serves. c1..c3 and sorry are in-zone CNAME targets.
constexpr char kZone[] = R"($ORIGIN pol.test.
$TTL 3600
@      IN SOA ns1.pol.test. hostmaster.pol.test. 1 7200 3600 1209600 300
@      IN NS  ns1
ns1    IN A   192.0.2.53
c1     IN A   192.0.2.101
c2     IN A   192.0.2.102
c3     IN A   192.0.2.103
sorry  IN A   192.0.2.199
)";

std::string TypeText(uint16_t type) {
  switch (type) {
    case kAaaa:
      return "AAAA";
    case kCname:
      return "CNAME";
    default:
      return "A";
  }
}

// `targets:` t1..t16 (declared in order, so tN is health word N-1 when BuildSnapshot numbers
// them; the tests still look the index up in the snapshot's target table).
std::string TargetsYaml() {
  std::string y = "targets:\n";
  for (int i = 1; i <= kHealthWords; ++i) absl::StrAppend(&y, "  t", i, ": {initial: up}\n");
  return y;
}

// `resources` is the body of `resources:` (one resource per line, flow style).
std::string PolicyYaml(const std::string& resources, const std::string& records) {
  std::string y = TargetsYaml() + "resources:\n";
  for (absl::string_view line : absl::StrSplit(resources, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&y, "  ", line, "\n");
  }
  return absl::StrCat(y, "records:\n", records);
}

// A compiled snapshot with its view, and the names the tables use.
struct PolicySnapshot {
  std::unique_ptr<maps::SnapshotReader> reader;
  SnapshotView view;
  std::map<std::string, uint32_t> health_word;  // target name -> health word index

  uint32_t ResourceIndex(const std::string& name) const {
    auto rs = reader->section<maps::Resource>(maps::kResources);
    for (size_t i = 0; i < rs.size(); ++i) {
      const std::string n(reinterpret_cast<const char*>(view.strings) + rs[i].name.offset,
                          rs[i].name.length);
      if (n == name) return static_cast<uint32_t>(i);
    }
    ADD_FAILURE() << "no resource " << name << " in the snapshot";
    return 0;
  }
};

absl::StatusOr<PolicySnapshot> BuildPolicies(const std::string& resources, uint16_t type = kA,
                                             const std::string& zone = kZone) {
  const std::string records =
      absl::StrCat("  - {name: r.pol.test., type: ", TypeText(type), ", resource: r}\n");
  auto reader =
      sxt::BuildTestSnapshot({{"pol.test.", zone}}, "", 1, PolicyYaml(resources, records));
  if (!reader.ok()) return reader.status();
  PolicySnapshot s;
  s.reader = std::move(reader).value();
  s.view = SnapshotView::Of(*s.reader);
  // Until SnapshotView::Of fills the policy sections itself (the engine integration), do it
  // here so that EvaluateResource can be tested on its own.
  if (s.view.resources == nullptr) {
    s.view.resources = s.reader->section<maps::Resource>(maps::kResources).data();
  }
  if (s.view.members == nullptr) {
    s.view.members = s.reader->section<maps::Member>(maps::kMembers).data();
  }
  for (const maps::Target& t : s.reader->section<maps::Target>(maps::kTargets)) {
    s.health_word[std::string(reinterpret_cast<const char*>(s.view.strings) + t.name.offset,
                              t.name.length)] = t.health;
  }
  return s;
}

// Health words: t1.. from `states`, everything else up.
class Health {
 public:
  Health(const PolicySnapshot& s, const std::vector<uint32_t>& states) : s_(s) { Set(states); }
  void Set(const std::vector<uint32_t>& states) {
    for (auto& w : words_) w.store(Up, std::memory_order_relaxed);
    for (size_t i = 0; i < states.size(); ++i) Of(static_cast<int>(i) + 1).store(states[i]);
  }
  std::atomic<uint32_t>& Of(int target) {
    return words_[s_.health_word.at(absl::StrCat("t", target))];
  }
  const std::atomic<uint32_t>* words() const { return words_; }

 private:
  const PolicySnapshot& s_;
  std::atomic<uint32_t> words_[kHealthWords];
};

// One selected record (`u16 len | rdata`, length in host order) in presentation form.
std::string RdataText(const uint8_t* rd, uint16_t type) {
  uint16_t len;
  std::memcpy(&len, rd, 2);
  const uint8_t* p = rd + 2;
  char buf[INET6_ADDRSTRLEN] = {};
  if (type == kA && len == 4) return inet_ntop(AF_INET, p, buf, sizeof(buf));
  if (type == kAaaa && len == 16) return inet_ntop(AF_INET6, p, buf, sizeof(buf));
  std::string name;  // an uncompressed wire name
  for (size_t i = 0; i < len && p[i] != 0; i += p[i] + 1) {
    name.append(reinterpret_cast<const char*>(p + i + 1), p[i]);
    name.push_back('.');
  }
  return name.empty() ? "." : name;
}

std::vector<std::string> Picked(const Selection& sel, uint16_t type = kA) {
  std::vector<std::string> out;
  for (int i = 0; i < sel.n; ++i) out.push_back(RdataText(sel.rd[i], type));
  return out;
}

// What a row expects of the records picked.
enum class Match {
  kInOrder,   // exactly these, in this order
  kAnyOrder,  // exactly these, in any order
  kPickFrom,  // `picks` distinct ones of these; over the row's runs, each of them at least once
  kOneOf,     // one of these; which one is not specified
};
struct Expect {
  Match match;
  size_t picks;
  std::vector<std::string> records;
  PolicyOutcome outcome = PolicyOutcome::kAnswer;
  uint32_t ttl = 300;  // the default when the resource sets none

  Expect Ttl(uint32_t t) const {
    Expect e = *this;
    e.ttl = t;
    return e;
  }
};
Expect InOrder(std::vector<std::string> r) { return {Match::kInOrder, r.size(), std::move(r)}; }
Expect AnyOrder(std::vector<std::string> r) { return {Match::kAnyOrder, r.size(), std::move(r)}; }
Expect PickFrom(size_t n, std::vector<std::string> r) {
  return {Match::kPickFrom, n, std::move(r)};
}
Expect OneOf(std::vector<std::string> r) { return {Match::kOneOf, 1, std::move(r)}; }
Expect NoData() { return {Match::kInOrder, 0, {}, PolicyOutcome::kNoData}; }
Expect ServFail() { return {Match::kInOrder, 0, {}, PolicyOutcome::kServFail}; }

std::string OutcomeName(PolicyOutcome o) {
  switch (o) {
    case PolicyOutcome::kAnswer:
      return "answer";
    case PolicyOutcome::kNoData:
      return "nodata";
    case PolicyOutcome::kServFail:
      return "servfail";
  }
  return "?";
}

struct Row {
  std::string rule;
  std::string resources;         // YAML; the record uses resource `r`
  std::vector<uint32_t> health;  // words of t1, t2, ...
  Expect want;
  uint16_t type = kA;
};

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

TEST(Policy, StaticAnswersEveryHealthyMember) {
  const std::string three =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2},\n"
      "          {address: 192.0.2.3, target: t3}]}";
  ExpectRows({
      {"cyclic, all up",
       "r: {kind: static, order: cyclic, " + three,
       {Up, Up, Up},
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"cyclic, one down",
       "r: {kind: static, order: cyclic, " + three,
       {Up, Down, Up},
       AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"cyclic, one drained",
       "r: {kind: static, order: cyclic, " + three,
       {Drained, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"random, one down",
       "r: {kind: static, order: random, " + three,
       {Down, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"random, one drained",
       "r: {kind: static, order: random, " + three,
       {Up, Up, Drained},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
      {"fixed keeps config order",
       "r: {kind: static, order: fixed, " + three,
       {Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"fixed drops the unhealthy, keeps the order",
       "r: {kind: static, order: fixed, " + three,
       {Up, Down, Up},
       InOrder({"192.0.2.1", "192.0.2.3"})},
      {"fixed drops drained",
       "r: {kind: static, order: fixed, " + three,
       {Drained, Up, Up},
       InOrder({"192.0.2.2", "192.0.2.3"})},
      {"default kind is static, default order cyclic",
       "r: {" + three,
       {Up, Down, Up},
       AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"a member without target is always up",
       "r: {order: fixed, members: [{address: 192.0.2.1, target: t1}, 192.0.2.9]}",
       {Down},
       InOrder({"192.0.2.9"})},
      {"AAAA members",
       "r: {order: fixed, members: [{address: '2001:db8::1', target: t1},\n"
       "                            {address: '2001:db8::2', target: t2}]}",
       {Down, Up},
       InOrder({"2001:db8::2"}),
       kAaaa},
  });
}

TEST(Policy, FailoverAnswersTheFirstHealthyMember) {
  const std::string three =
      "r: {kind: failover, ttl: 60, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}, {address: 192.0.2.3, target: t3}]}";
  // Groups: r fails over from a (t1, t2) to b (t3, t4).
  const std::string groups =
      "r: {kind: failover, members: [{resource: a}, {resource: b}]}\n"
      "a: {order: fixed, members: [{address: 192.0.2.1, target: t1},\n"
      "                            {address: 192.0.2.2, target: t2}]}\n"
      "b: {order: fixed, members: [{address: 192.0.2.3, target: t3},\n"
      "                            {address: 192.0.2.4, target: t4}]}";
  ExpectRows({
      {"all up: the first", three, {Up, Up, Up}, InOrder({"192.0.2.1"}).Ttl(60)},
      {"first down: the second", three, {Down, Up, Up}, InOrder({"192.0.2.2"}).Ttl(60)},
      {"skips down and drained", three, {Down, Drained, Up}, InOrder({"192.0.2.3"}).Ttl(60)},
      {"skips drained first", three, {Drained, Up, Up}, InOrder({"192.0.2.2"}).Ttl(60)},
      {"group a healthy: all of a's healthy members",
       groups,
       {Up, Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.2"})},
      {"group a half down: a's healthy member only",
       groups,
       {Down, Up, Up, Up},
       InOrder({"192.0.2.2"})},
      {"group a all down: skipped (its own all_down rule does not apply)",
       groups,
       {Down, Down, Up, Up},
       InOrder({"192.0.2.3", "192.0.2.4"})},
      {"group a drained: skipped", groups, {Drained, Drained, Down, Up}, InOrder({"192.0.2.4"})},
      {"a target on a nested member takes the whole group out",
       "r: {kind: failover, members: [{resource: a, target: t5}, {resource: b}]}\n"
       "a: {members: [{address: 192.0.2.1, target: t1}]}\n"
       "b: {members: [{address: 192.0.2.3, target: t3}]}",
       {Up, Up, Up, Up, Down},
       InOrder({"192.0.2.3"})},
  });
}

TEST(Policy, WeightedPicksDistinctHealthyMembersByWeight) {
  const std::string count1 =
      "r: {kind: weighted, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "    {address: 192.0.2.2, target: t2, weight: 1}, {address: 192.0.2.3, target: t3}]}";
  const std::string count2 =
      "r: {kind: weighted, count: 2, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "    {address: 192.0.2.2, target: t2, weight: 1}, {address: 192.0.2.3, target: t3}]}";
  // t1 has weight 1, t2 and t3 weight 0.
  const std::string zero =
      "r: {kind: weighted, count: 2, members: [{address: 192.0.2.1, target: t1, weight: 1},\n"
      "    {address: 192.0.2.2, target: t2, weight: 0},\n"
      "    {address: 192.0.2.3, target: t3, weight: 0}]}";
  ExpectRows({
      {"count 1 (default), all up",
       count1,
       {Up, Up, Up},
       PickFrom(1, {"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"count 1, two down", count1, {Down, Up, Drained}, InOrder({"192.0.2.2"})},
      {"count 1, one down", count1, {Up, Down, Up}, PickFrom(1, {"192.0.2.1", "192.0.2.3"})},
      {"count 2: two distinct",
       count2,
       {Up, Up, Up},
       PickFrom(2, {"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"count 2, one down: the other two",
       count2,
       {Up, Down, Up},
       AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"count 2, two down: fewer than count", count2, {Down, Down, Up}, InOrder({"192.0.2.3"})},
      {"weight 0 unused while a weighted member is up", zero, {Up, Up, Up}, InOrder({"192.0.2.1"})},
      {"weight 0 used when no weighted member is up",
       zero,
       {Down, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"weight 0, one of them down", zero, {Drained, Down, Up}, InOrder({"192.0.2.3"})},
  });
}

TEST(Policy, MultivalueAnswersUpToCountHealthyMembers) {
  const std::string four =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2},\n"
      "          {address: 192.0.2.3, target: t3}, {address: 192.0.2.4, target: t4}]}";
  ExpectRows({
      {"default count (8): all healthy",
       "r: {kind: multivalue, " + four,
       {Up, Up, Up, Up},
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"default count: unhealthy left out",
       "r: {kind: multivalue, " + four,
       {Up, Down, Drained, Up},
       AnyOrder({"192.0.2.1", "192.0.2.4"})},
      {"count 2 of 4: two distinct",
       "r: {kind: multivalue, count: 2, " + four,
       {Up, Up, Up, Up},
       PickFrom(2, {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"count 2 of 3 healthy",
       "r: {kind: multivalue, count: 2, " + four,
       {Up, Up, Down, Up},
       PickFrom(2, {"192.0.2.1", "192.0.2.2", "192.0.2.4"})},
      {"count 2, one healthy",
       "r: {kind: multivalue, count: 2, " + four,
       {Down, Down, Drained, Up},
       InOrder({"192.0.2.4"})},
  });
}

// Two nested pools may share an address; an RRset never holds the same record twice
// (RFC 2181 section 5), so the answer must not either.
TEST(Policy, OverlappingNestedPoolsNeverRepeatARecord) {
  const std::string pools =
      "p1: {order: fixed, members: [{address: 192.0.2.1, target: t1},\n"
      "                             {address: 192.0.2.2, target: t2}]}\n"
      "p2: {order: fixed, members: [{address: 192.0.2.2, target: t2},\n"
      "                             {address: 192.0.2.3, target: t3}]}";
  ExpectRows({
      {"multivalue of both pools",
       "r: {kind: multivalue, members: [{resource: p1}, {resource: p2}]}\n" + pools,
       {Up, Up, Up},
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"static of both pools",
       "r: {order: fixed, members: [{resource: p1}, {resource: p2}]}\n" + pools,
       {Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"all down (rule all)",
       "r: {order: fixed, members: [{resource: p1}, {resource: p2}]}\n" + pools,
       {Down, Down, Down},
       InOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
  });
}

TEST(Policy, NestedResourcesCombine) {
  // Failover from weighted pool w1 (t1, t2) to weighted pool w2 (t3, t4).
  const std::string failover_of_weighted =
      "r: {kind: failover, members: [{resource: w1}, {resource: w2}]}\n"
      "w1: {kind: weighted, members: [{address: 192.0.2.1, target: t1},\n"
      "                               {address: 192.0.2.2, target: t2}]}\n"
      "w2: {kind: weighted, members: [{address: 192.0.2.3, target: t3},\n"
      "                               {address: 192.0.2.4, target: t4}]}";
  // A fixed list of the winners of two failover pairs (t1 > t2, t3 > t4).
  const std::string static_of_failover =
      "r: {kind: static, order: fixed, members: [{resource: f1}, {resource: f2}]}\n"
      "f1: {kind: failover, members: [{address: 192.0.2.1, target: t1},\n"
      "                               {address: 192.0.2.2, target: t2}]}\n"
      "f2: {kind: failover, members: [{address: 192.0.2.3, target: t3},\n"
      "                               {address: 192.0.2.4, target: t4}]}";
  // Three levels: failover of (multivalue of (failover pair, address), address).
  const std::string three_levels =
      "r: {kind: failover, members: [{resource: m}, {address: 192.0.2.9}]}\n"
      "m: {kind: multivalue, members: [{resource: f}, {address: 192.0.2.3, target: t3}]}\n"
      "f: {kind: failover, members: [{address: 192.0.2.1, target: t1},\n"
      "                              {address: 192.0.2.2, target: t2}]}";
  ExpectRows({
      {"failover of weighted: first pool",
       failover_of_weighted,
       {Up, Up, Up, Up},
       PickFrom(1, {"192.0.2.1", "192.0.2.2"})},
      {"failover of weighted: first pool half up",
       failover_of_weighted,
       {Down, Up, Up, Up},
       InOrder({"192.0.2.2"})},
      {"failover of weighted: first pool down",
       failover_of_weighted,
       {Down, Drained, Up, Up},
       PickFrom(1, {"192.0.2.3", "192.0.2.4"})},
      {"static of failover: both primaries",
       static_of_failover,
       {Up, Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.3"})},
      {"static of failover: one secondary",
       static_of_failover,
       {Down, Up, Up, Up},
       InOrder({"192.0.2.2", "192.0.2.3"})},
      {"static of failover: one pair gone",
       static_of_failover,
       {Up, Up, Down, Down},
       InOrder({"192.0.2.1"})},
      {"three levels, all up", three_levels, {Up, Up, Up}, AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"three levels, inner failover",
       three_levels,
       {Down, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"three levels, everything inside down",
       three_levels,
       {Down, Down, Down},
       InOrder({"192.0.2.9"})},
  });
}

TEST(Policy, AllDownRules) {
  // Static t1, t2 plus nested n (t3, t4); every member has a target.
  auto with_nested = [](const std::string& rule) {
    return "r: {order: fixed, " + rule +
           "members: [{address: 192.0.2.1, target: t1},\n"
           "    {address: 192.0.2.2, target: t2}, {resource: n}]}\n"
           "n: {order: fixed, all_down: servfail, members: [{address: 192.0.2.3, target: t3},\n"
           "                                                {address: 192.0.2.4, target: t4}]}";
  };
  auto failover = [](const std::string& rule) {
    return "r: {kind: failover, " + rule +
           "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}";
  };
  const std::vector<uint32_t> all_down = {Down, Drained, Down, Down};
  ExpectRows({
      {"all (default): every member, nested too", with_nested(""), all_down,
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"all, explicit", with_nested("all_down: all, "), all_down,
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"all does not apply while one nested member is up",
       with_nested("all_down: nodata, "),
       {Down, Down, Down, Up},
       InOrder({"192.0.2.4"})},
      {"all, failover",
       failover("all_down: all, "),
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
      {"first", failover("all_down: first, "), {Down, Down}, InOrder({"192.0.2.1"})},
      {"first, static", with_nested("all_down: first, "), all_down, InOrder({"192.0.2.1"})},
      {"nodata", with_nested("all_down: nodata, "), all_down, NoData()},
      {"servfail", with_nested("all_down: servfail, "), all_down, ServFail()},
      {"servfail, failover", failover("all_down: servfail, "), {Drained, Drained}, ServFail()},
      {"nodata, weighted",
       "r: {kind: weighted, all_down: nodata, members: [{address: 192.0.2.1, target: t1},\n"
       "    {address: 192.0.2.2, target: t2, weight: 0}]}",
       {Down, Down},
       NoData()},
      {"fallback addresses",
       failover("all_down: fallback, fallback: [198.51.100.1, 198.51.100.2], "),
       {Down, Down},
       AnyOrder({"198.51.100.1", "198.51.100.2"})},
      {"fallback unused while a member is up",
       failover("all_down: fallback, fallback: [198.51.100.1], "),
       {Down, Up},
       InOrder({"192.0.2.2"})},
      {"fallback CNAME",
       "r: {kind: failover, all_down: fallback, fallback: sorry.pol.test.,\n"
       "    members: [{cname: c1.pol.test., target: t1}, {cname: c2.pol.test., target: t2}]}",
       {Down, Down},
       InOrder({"sorry.pol.test."}),
       kCname},
  });
}

// Random orders shuffle what they picked; with nothing picked the shuffle must be a no-op and the
// all-down rule must still apply.
TEST(Policy, ShuffledPoliciesWithEverythingDownApplyTheAllDownRule) {
  const std::string two =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}";
  ExpectRows({
      {"multivalue, servfail",
       "r: {kind: multivalue, all_down: servfail, " + two,
       {Down, Down},
       ServFail()},
      {"multivalue, all",
       "r: {kind: multivalue, " + two,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
      {"static random, nodata",
       "r: {order: random, all_down: nodata, " + two,
       {Down, Drained},
       NoData()},
      {"static random, all",
       "r: {order: random, " + two,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
  });
}

TEST(Policy, TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtls) {
  const std::string pair =
      "r: {order: fixed, ttl: 60, ttl_when_down: 10,\n"
      "    members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}";
  // r (300) fails over from a (ttl 30) to b (ttl 120).
  const std::string nested =
      "r: {kind: failover, members: [{resource: a}, {resource: b}]}\n"
      "a: {ttl: 30, members: [{address: 192.0.2.1, target: t1}]}\n"
      "b: {ttl: 120, members: [{address: 192.0.2.2, target: t2}]}";
  const std::string nested_when_down =
      "r: {kind: failover, ttl_when_down: 20, members: [{resource: a}, {resource: b}]}\n"
      "a: {ttl: 5, members: [{address: 192.0.2.1, target: t1}]}\n"
      "b: {ttl: 120, members: [{address: 192.0.2.2, target: t2}, 192.0.2.3]}";
  ExpectRows({
      {"all up: ttl", pair, {Up, Up}, InOrder({"192.0.2.1", "192.0.2.2"}).Ttl(60)},
      {"one down: ttl_when_down", pair, {Up, Down}, InOrder({"192.0.2.1"}).Ttl(10)},
      {"one drained: ttl_when_down", pair, {Drained, Up}, InOrder({"192.0.2.2"}).Ttl(10)},
      {"all down (rule all): ttl_when_down",
       pair,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"}).Ttl(10)},
      {"recovered: ttl again", pair, {Up, Up}, InOrder({"192.0.2.1", "192.0.2.2"}).Ttl(60)},
      {"no ttl_when_down: ttl while down",
       "r: {ttl: 60, members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: "
       "t2}]}",
       {Up, Down},
       InOrder({"192.0.2.1"}).Ttl(60)},
      {"nested a used: a's ttl", nested, {Up, Up}, InOrder({"192.0.2.1"}).Ttl(30)},
      {"nested b used: b's ttl, not the unused a's",
       nested,
       {Down, Up},
       InOrder({"192.0.2.2"}).Ttl(120)},
      {"all down (rule all): smallest nested ttl",
       nested,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"}).Ttl(30)},
      {"ttl_when_down never raises a nested ttl",
       nested_when_down,
       {Up, Down},
       InOrder({"192.0.2.1"}).Ttl(5)},
      {"ttl_when_down below the nested ttl",
       nested_when_down,
       {Down, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"}).Ttl(20)},
      {"nothing down anywhere: nested ttl",
       nested_when_down,
       {Up, Up},
       InOrder({"192.0.2.1"}).Ttl(5)},
      {"ttl_when_down above ttl does not raise it",
       "r: {ttl: 30, ttl_when_down: 90, members: [{address: 192.0.2.1, target: t1}, 192.0.2.2]}",
       {Down},
       InOrder({"192.0.2.2"}).Ttl(30)},
  });
}

TEST(Policy, CnameResourcesAnswerExactlyOneTarget) {
  const std::string failover =
      "r: {kind: failover, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}]}";
  const std::string weighted =
      "r: {kind: weighted, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}, {cname: c3.pol.test., target: t3}]}";
  const std::string nested =
      "r: {kind: failover, members: [{resource: w}, {cname: c3.pol.test., target: t3}]}\n"
      "w: {kind: weighted, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}]}";
  ExpectRows({
      {"failover, all up", failover, {Up, Up}, InOrder({"c1.pol.test."}), kCname},
      {"failover, first down", failover, {Down, Up}, InOrder({"c2.pol.test."}), kCname},
      {"failover, all down (rule all): still one",
       failover,
       {Down, Down},
       OneOf({"c1.pol.test.", "c2.pol.test."}),
       kCname},
      {"weighted count 1",
       weighted,
       {Up, Up, Up},
       PickFrom(1, {"c1.pol.test.", "c2.pol.test.", "c3.pol.test."}),
       kCname},
      {"weighted, all down (rule all): still one",
       weighted,
       {Down, Down, Down},
       OneOf({"c1.pol.test.", "c2.pol.test.", "c3.pol.test."}),
       kCname},
      {"static single",
       "r: {members: [{cname: c2.pol.test., target: t2}]}",
       {Down, Up},
       InOrder({"c2.pol.test."}),
       kCname},
      {"failover of weighted",
       nested,
       {Up, Up, Up},
       PickFrom(1, {"c1.pol.test.", "c2.pol.test."}),
       kCname},
      {"failover of weighted, pool down",
       nested,
       {Down, Down, Up},
       InOrder({"c3.pol.test."}),
       kCname},
  });
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

// ---------------------------------------------------------------------------------------------
// Statistics (fixed seeds: deterministic, but each threshold holds for any seed with the
// stated probability)

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
std::string Sixteen() {
  std::string m = "members: [";
  for (int i = 1; i <= 16; ++i) {
    absl::StrAppend(&m, i > 1 ? ", " : "", "{address: 192.0.2.", i, ", target: t", i, "}");
  }
  return m + "]}";
}

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

// ---------------------------------------------------------------------------------------------
// The fast path (PickFast) against the general evaluator

// What the compiler works out for the fast path, resource by resource.
TEST(PolicyFastPath, CompilerSetsTheRunsItCanProve) {
  auto snap = BuildPolicies(
      "r: {kind: failover, members: [{resource: run}, {resource: gap}, {resource: mixed},\n"
      "    {resource: bare}]}\n"
      "run: {members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}\n"
      "gap: {members: [{address: 192.0.2.3, target: t4}, {address: 192.0.2.4, target: t3}]}\n"
      "mixed: {members: [{address: 192.0.2.5, target: t5}, 192.0.2.6]}\n"
      "bare: {members: [192.0.2.7, 192.0.2.8]}");
  ASSERT_TRUE(snap.ok()) << snap.status();
  auto flags = [&](const std::string& name) {
    const maps::Resource& r = snap->view.resources[snap->ResourceIndex(name)];
    std::vector<std::string> f;
    if (r.flags & maps::kResourceLeaf) f.push_back("leaf");
    if (r.flags & maps::kResourceRdataRun) f.push_back("rdata-run");
    if (r.flags & maps::kResourceHealthRun) f.push_back("health-run");
    if (r.flags & maps::kResourceNoHealth) f.push_back("no-health");
    return absl::StrJoin(f, " ");
  };
  EXPECT_EQ(flags("r"), "no-health");  // nested members, none watched itself
  EXPECT_EQ(flags("run"), "leaf rdata-run health-run");
  EXPECT_EQ(flags("gap"), "leaf rdata-run");  // t4 before t3: not a run of health words
  EXPECT_EQ(flags("mixed"), "leaf rdata-run");
  EXPECT_EQ(flags("bare"), "leaf rdata-run no-health");
  const maps::Resource& run = snap->view.resources[snap->ResourceIndex("run")];
  EXPECT_EQ(run.health_first, snap->health_word.at("t1"));
  EXPECT_EQ(run.rdata_stride, 6);
  // The dispatch id: which writer answers, reading health through which accessor.
  auto dispatch = [&](const std::string& name) {
    return snap->view.resources[snap->ResourceIndex(name)].flags >> maps::kFastDispatchShift;
  };
  EXPECT_EQ(dispatch("r"), maps::kWriterGeneral);  // nested: the general evaluator
  EXPECT_EQ(dispatch("run"), maps::kWriterRun << 2 | maps::kFastHealthRun);
  EXPECT_EQ(dispatch("gap"), maps::kWriterRun << 2 | maps::kFastHealthIndexed);
  EXPECT_EQ(dispatch("bare"), maps::kWriterRun << 2 | maps::kFastNoHealth);
  std::string seventeen;
  for (int i = 1; i <= 17; ++i) absl::StrAppend(&seventeen, i > 1 ? ", " : "", "192.0.2.", i);
  const struct {
    std::string resource;
    int writer;
    uint16_t type = kA;
  } kinds[] = {
      {"r: {kind: failover, members: [192.0.2.1, 192.0.2.2]}", maps::kWriterFailover},
      {"r: {kind: weighted, members: [192.0.2.1, 192.0.2.2]}", maps::kWriterWeighted},
      {"r: {kind: weighted, count: 2, members: [192.0.2.1, 192.0.2.2]}", maps::kWriterGeneral},
      {"r: {kind: multivalue, count: 2, members: [192.0.2.1, 192.0.2.2]}", maps::kWriterSampleA},
      {"r: {kind: multivalue, count: 2, members: ['2001:db8::1', '2001:db8::2']}",
       maps::kWriterSampleAaaa, kAaaa},
      // More than 16 members, or a TTL that depends on every member: the general sample.
      {"r: {kind: multivalue, count: 2, members: [" + seventeen + "]}", maps::kWriterShuffled},
      {"r: {kind: multivalue, count: 2, ttl: 60, ttl_when_down: 5, members: [192.0.2.1, "
       "192.0.2.2]}",
       maps::kWriterShuffled},
      {"r: {kind: static, order: random, members: [192.0.2.1, 192.0.2.2]}", maps::kWriterShuffled},
      {"r: {kind: static, order: fixed, members: [192.0.2.1, 192.0.2.2]}", maps::kWriterRun},
      // A lone member: answered when it is up, whatever the kind.
      {"r: {kind: static, members: [192.0.2.1]}", maps::kWriterOneA},
      {"r: {kind: failover, members: ['2001:db8::1']}", maps::kWriterOneAaaa, kAaaa},
      {"r: {kind: weighted, count: 2, members: [192.0.2.1]}", maps::kWriterOneA},
      {"r: {kind: multivalue, count: 3, ttl: 60, ttl_when_down: 5, members: [192.0.2.1]}",
       maps::kWriterOneA},
  };
  for (const auto& k : kinds) {
    auto one = BuildPolicies(k.resource, k.type);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->view.resources[one->ResourceIndex("r")].flags >> maps::kFastDispatchShift,
              k.writer == maps::kWriterGeneral ? 0 : (k.writer << 2 | maps::kFastNoHealth))
        << k.resource;
  }
}

// A trace makes EvaluateResource take the general evaluator; without one it tries PickFast
// first. Both must give the same records and TTL in every health state.
TEST(PolicyFastPath, AgreesWithTheGeneralEvaluator) {
  const std::string four =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2},\n"
      "          {address: 192.0.2.3, target: t3}, 192.0.2.4]}";
  const std::string gap =
      "members: [{address: 192.0.2.1, target: t3}, {address: 192.0.2.2, target: t1},\n"
      "          {address: 192.0.2.3, target: t2}]}";
  const std::vector<std::string> resources = {
      "r: {kind: static, order: fixed, " + four,
      "r: {kind: static, order: fixed, ttl: 50, ttl_when_down: 5, " + four,
      "r: {kind: failover, " + four,
      "r: {kind: failover, ttl: 50, ttl_when_down: 5, " + four,
      "r: {kind: failover, " + gap,
      "r: {kind: failover, all_down: nodata, " + gap,
      "r: {kind: static, order: fixed, all_down: servfail, " + gap,
  };
  for (const std::string& res : resources) {
    SCOPED_TRACE(res);
    auto snap = BuildPolicies(res);
    ASSERT_TRUE(snap.ok()) << snap.status();
    const uint32_t r = snap->ResourceIndex("r");
    for (int mask = 0; mask < 27; ++mask) {  // every state of t1..t3: up, down, drained
      std::vector<uint32_t> states;
      for (int i = 0, m = mask; i < 3; ++i, m /= 3)
        states.push_back(m % 3 == 0 ? Up : m % 3 == 1 ? Down : Drained);
      Health health(*snap, states);
      Selection fast, general;
      PolicyTrace trace;
      EvaluateResource(snap->view, health.words(), r, &fast);
      EvaluateResource(snap->view, health.words(), r, &general, &trace);
      SCOPED_TRACE(absl::StrCat("state ", mask));
      EXPECT_EQ(OutcomeName(fast.outcome), OutcomeName(general.outcome));
      EXPECT_EQ(Picked(fast), Picked(general));
      EXPECT_EQ(fast.ttl, general.ttl);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Through Engine::Answer

// A decoded response: rcode and the answer and authority sections, one record per string
// ("r.pol.test. 45 A 192.0.2.1"; SOA rdata left out).
struct Reply {
  uint16_t rcode = 0xffff;
  bool aa = false;
  std::vector<std::string> answer, authority;
};

class ReplyDecoder {
 public:
  ReplyDecoder(const uint8_t* p, size_t n) : p_(p), n_(n) {}

  Reply Run() {
    Reply r;
    if (n_ < dns::kHeaderSize) return r;
    r.rcode = p_[dns::kOffFlags2] & 0xF;
    r.aa = p_[dns::kOffFlags1] & dns::kFlag1Aa;
    const uint16_t qd = dns::Get16(p_ + dns::kOffQdcount);
    const uint16_t an = dns::Get16(p_ + dns::kOffAncount);
    const uint16_t ns = dns::Get16(p_ + dns::kOffNscount);
    pos_ = dns::kHeaderSize;
    for (int i = 0; i < qd; ++i) {
      Name();
      pos_ += 4;
    }
    for (int i = 0; i < an; ++i) r.answer.push_back(Record());
    for (int i = 0; i < ns; ++i) r.authority.push_back(Record());
    return r;
  }

 private:
  std::string Name() { return NameAt(&pos_); }
  std::string NameAt(size_t* at) {
    std::string out;
    size_t pos = *at;
    bool jumped = false;
    for (int guard = 0; guard < 128 && pos < n_; ++guard) {
      const uint8_t len = p_[pos];
      if ((len & 0xC0) == 0xC0) {
        if (!jumped) *at = pos + 2;
        jumped = true;
        pos = ((len & 0x3F) << 8) | p_[pos + 1];
        continue;
      }
      if (len == 0) {
        if (!jumped) *at = pos + 1;
        return out.empty() ? "." : out;
      }
      out.append(reinterpret_cast<const char*>(p_ + pos + 1), len);
      out.push_back('.');
      pos += len + 1;
    }
    return "<bad name>";
  }
  std::string Record() {
    const std::string owner = Name();
    if (pos_ + 10 > n_) return "<truncated>";
    const uint16_t type = dns::Get16(p_ + pos_);
    const uint32_t ttl = dns::Get32(p_ + pos_ + 4);
    const uint16_t rdlen = dns::Get16(p_ + pos_ + 8);
    pos_ += 10;
    const size_t end = pos_ + rdlen;
    std::string rdata;
    char buf[INET6_ADDRSTRLEN] = {};
    if (type == kA && rdlen == 4) {
      rdata = inet_ntop(AF_INET, p_ + pos_, buf, sizeof(buf));
    } else if (type == kAaaa && rdlen == 16) {
      rdata = inet_ntop(AF_INET6, p_ + pos_, buf, sizeof(buf));
    } else if (type == kCname) {
      size_t at = pos_;
      rdata = NameAt(&at);
    }
    pos_ = end;
    std::string type_name = type == kA       ? "A"
                            : type == kAaaa  ? "AAAA"
                            : type == kCname ? "CNAME"
                            : type == kSoa   ? "SOA"
                                             : absl::StrCat("TYPE", type);
    return absl::StrCat(owner, " ", ttl, " ", type_name, rdata.empty() ? "" : " ", rdata);
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

Reply Ask(const Engine& e, const std::string& name, uint16_t qtype) {
  const std::vector<uint8_t> q = sxt::MakeQuery(name, qtype);
  std::vector<uint8_t> out(kMaxDnsMessage);
  AnswerInfo info;
  const size_t n = e.Answer(q.data(), q.size(), ClientInfo{}, out.data(), out.size(), &info);
  if (n == 0) {
    ADD_FAILURE() << "query dropped";
    return {};
  }
  Reply r = ReplyDecoder(out.data(), n).Run();
  EXPECT_EQ(info.rcode, r.rcode);
  return r;
}

// A snapshot, its health words and an engine reading both.
struct PolicyServer {
  std::unique_ptr<maps::SnapshotReader> reader;
  std::unique_ptr<Engine> engine;
  std::map<std::string, uint32_t> health_word;
  std::atomic<uint32_t> words[kHealthWords];

  void Set(const std::vector<uint32_t>& states) {
    for (auto& w : words) w.store(Up, std::memory_order_relaxed);
    for (size_t i = 0; i < states.size(); ++i) {
      words[health_word.at(absl::StrCat("t", i + 1))].store(states[i], std::memory_order_relaxed);
    }
  }
};

// `records` is the body of `records:`.
std::unique_ptr<PolicyServer> MakeServer(const std::string& resources, const std::string& records,
                                         const std::string& zone = kZone) {
  auto reader =
      sxt::BuildTestSnapshot({{"pol.test.", zone}}, "", 1, PolicyYaml(resources, records));
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status();
    return nullptr;
  }
  auto s = std::make_unique<PolicyServer>();
  s->reader = std::move(reader).value();
  const SnapshotView v = SnapshotView::Of(*s->reader);
  for (const maps::Target& t : s->reader->section<maps::Target>(maps::kTargets)) {
    s->health_word[std::string(reinterpret_cast<const char*>(v.strings) + t.name.offset,
                               t.name.length)] = t.health;
  }
  s->Set({});
  s->engine = std::make_unique<Engine>(*s->reader);
  s->engine->set_health(s->words);
  return s;
}

const std::string kSoaAuthority = "pol.test. 300 SOA";

TEST(PolicyEngine, AnswersTheHealthyAddressesWithTheResourceTtl) {
  auto s = MakeServer(
      "web: {kind: static, ttl: 45, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}, {address: 192.0.2.3, target: t3}]}",
      "  - {name: www.pol.test., type: A, resource: web}\n");
  ASSERT_NE(s, nullptr);
  struct Case {
    std::vector<uint32_t> health;
    std::vector<std::string> answer;
  } cases[] = {
      {{Up, Up, Up},
       {"www.pol.test. 45 A 192.0.2.1", "www.pol.test. 45 A 192.0.2.2",
        "www.pol.test. 45 A 192.0.2.3"}},
      {{Up, Down, Up}, {"www.pol.test. 45 A 192.0.2.1", "www.pol.test. 45 A 192.0.2.3"}},
      {{Drained, Down, Up}, {"www.pol.test. 45 A 192.0.2.3"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.answer, ", "));
    s->Set(c.health);
    const Reply r = Ask(*s->engine, "www.pol.test", kA);
    EXPECT_EQ(r.rcode, dns::kNoError);
    EXPECT_TRUE(r.aa);
    EXPECT_THAT(r.answer, UnorderedElementsAreArray(c.answer));
  }
  // ANY (minimal, RFC 8482): the one RRset there, picked by the policy like an A query.
  EXPECT_THAT(Ask(*s->engine, "www.pol.test", kAny).answer,
              ElementsAre("www.pol.test. 45 A 192.0.2.3"));
  // Another type at the name: NODATA.
  const Reply aaaa = Ask(*s->engine, "www.pol.test", kAaaa);
  EXPECT_EQ(aaaa.rcode, dns::kNoError);
  EXPECT_THAT(aaaa.answer, IsEmpty());
  EXPECT_THAT(aaaa.authority, ElementsAre(kSoaAuthority));
}

TEST(PolicyEngine, AHealthChangeShowsInTheVeryNextAnswer) {
  auto s = MakeServer(
      "web: {kind: failover, ttl: 30, ttl_when_down: 5, members: [{address: 192.0.2.1, "
      "target: t1},\n    {address: 192.0.2.2, target: t2}]}",
      "  - {name: www.pol.test., type: A, resource: web}\n");
  ASSERT_NE(s, nullptr);
  struct Step {
    uint32_t t1;
    std::string answer;
  } steps[] = {
      {Up, "www.pol.test. 30 A 192.0.2.1"}, {Down, "www.pol.test. 5 A 192.0.2.2"},
      {Up, "www.pol.test. 30 A 192.0.2.1"}, {Drained, "www.pol.test. 5 A 192.0.2.2"},
      {Up, "www.pol.test. 30 A 192.0.2.1"},
  };
  for (const Step& st : steps) {
    s->words[s->health_word.at("t1")].store(st.t1, std::memory_order_relaxed);
    EXPECT_THAT(Ask(*s->engine, "www.pol.test", kA).answer, ElementsAre(st.answer));
  }
}

TEST(PolicyEngine, AllDownRulesShapeTheResponse) {
  struct Case {
    std::string rule;
    uint16_t rcode;
    std::vector<std::string> answer, authority;
  } cases[] = {
      {"servfail", dns::kServFail, {}, {}},
      {"nodata", dns::kNoError, {}, {kSoaAuthority}},
      {"all",
       dns::kNoError,
       {"www.pol.test. 300 A 192.0.2.1", "www.pol.test. 300 A 192.0.2.2"},
       {}},
      {"first", dns::kNoError, {"www.pol.test. 300 A 192.0.2.1"}, {}},
      {"fallback, fallback: [198.51.100.7]",
       dns::kNoError,
       {"www.pol.test. 300 A 198.51.100.7"},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    auto s = MakeServer(absl::StrCat("web: {kind: failover, all_down: ", c.rule,
                                     ", members: [{address: 192.0.2.1, target: t1},\n"
                                     "    {address: 192.0.2.2, target: t2}]}"),
                        "  - {name: www.pol.test., type: A, resource: web}\n");
    ASSERT_NE(s, nullptr);
    s->Set({Down, Drained});
    const Reply r = Ask(*s->engine, "www.pol.test", kA);
    EXPECT_EQ(r.rcode, c.rcode);
    EXPECT_THAT(r.answer, UnorderedElementsAreArray(c.answer));
    EXPECT_THAT(r.authority, ElementsAreArray(c.authority));
  }
}

TEST(PolicyEngine, FollowsCnameResourcesInsideTheZone) {
  auto s = MakeServer(
      "web: {kind: failover, ttl: 20, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}]}\n"
      "pool: {order: fixed, ttl: 40, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}]}",
      "  - {name: www.pol.test., type: CNAME, resource: web}\n"
      "  - {name: pool.pol.test., type: A, resource: pool}\n",
      std::string(kZone) + "alias IN CNAME pool\n");
  ASSERT_NE(s, nullptr);
  struct Case {
    std::string rule;
    std::string query;
    uint16_t qtype;
    std::vector<uint32_t> health;
    std::vector<std::string> answer;
  } cases[] = {
      {"resource CNAME, then the target's A",
       "www.pol.test",
       kA,
       {Up, Up},
       {"www.pol.test. 20 CNAME c1.pol.test.", "c1.pol.test. 3600 A 192.0.2.101"}},
      {"resource CNAME fails over",
       "www.pol.test",
       kA,
       {Down, Up},
       {"www.pol.test. 20 CNAME c2.pol.test.", "c2.pol.test. 3600 A 192.0.2.102"}},
      {"CNAME query: the CNAME only",
       "www.pol.test",
       kCname,
       {Up, Up},
       {"www.pol.test. 20 CNAME c1.pol.test."}},
      {"zone CNAME into a policy name",
       "alias.pol.test",
       kA,
       {Up, Down},
       {"alias.pol.test. 3600 CNAME pool.pol.test.", "pool.pol.test. 40 A 192.0.2.1"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    s->Set(c.health);
    const Reply r = Ask(*s->engine, c.query, c.qtype);
    EXPECT_EQ(r.rcode, dns::kNoError);
    EXPECT_THAT(r.answer, ElementsAreArray(c.answer));
  }
}

// The engine writes PickFast's records itself (PutDynamic): the same answers as the general
// path, with the resource's TTL, for 16-member sets in every policy.
TEST(PolicyEngine, WritesFastPathAnswersLikeTheGeneralPath) {
  struct Case {
    std::string spec;
    std::vector<uint32_t> health;
    size_t answers;
    std::vector<std::string> must;  // records every answer has
    size_t distinct;                // records seen over all answers
  } cases[] = {
      {"kind: static, order: cyclic", {}, 16, {"www.pol.test. 60 A 192.0.2.16"}, 16},
      {"kind: static, order: fixed", {}, 16, {"www.pol.test. 60 A 192.0.2.1"}, 16},
      {"kind: static, order: random", {}, 16, {"www.pol.test. 60 A 192.0.2.9"}, 16},
      {"kind: failover", {Down, Drained, Down}, 1, {"www.pol.test. 60 A 192.0.2.4"}, 1},
      {"kind: weighted", {}, 1, {}, 16},
      {"kind: multivalue, count: 8", {}, 8, {}, 16},
      {"kind: multivalue, count: 8", {Down, Down}, 8, {}, 14},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    auto s = MakeServer("web: {" + c.spec + ", ttl: 60, " + Sixteen(),
                        "  - {name: www.pol.test., type: A, resource: web}\n");
    ASSERT_NE(s, nullptr);
    s->Set(c.health);
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
      const Reply r = Ask(*s->engine, "www.pol.test", kA);
      ASSERT_EQ(r.rcode, dns::kNoError);
      ASSERT_EQ(r.answer.size(), c.answers);
      ASSERT_EQ(std::set<std::string>(r.answer.begin(), r.answer.end()).size(), c.answers);
      for (const std::string& m : c.must) ASSERT_THAT(r.answer, ::testing::Contains(m));
      for (const std::string& a : r.answer) {
        for (size_t k = 0; k < c.health.size(); ++k) {
          if (c.health[k] != Up) {
            ASSERT_NE(a, absl::StrCat("www.pol.test. 60 A 192.0.2.", k + 1));
          }
        }
      }
      seen.insert(r.answer.begin(), r.answer.end());
    }
    EXPECT_EQ(seen.size(), c.distinct);
  }
}

// A lone member (maps::kWriterOneA/Aaaa, any kind): through Engine::Answer, the same answer,
// TTL and rcode as the general evaluator (asked with a trace, so it never takes a fast path),
// with the member up, down and drained, for every kind, all-down rule and ttl_when_down.
TEST(PolicyEngine, LoneMemberWriterAnswersAsTheGeneralEvaluator) {
  const std::string kinds[] = {
      "kind: static",
      "kind: static, order: random",
      "kind: failover, ttl_when_down: 5",
      "kind: weighted",
      "kind: weighted, count: 2",
      "kind: multivalue, count: 3, ttl_when_down: 5",
      "kind: static, all_down: nodata",
      "kind: failover, all_down: servfail",
      "kind: multivalue, all_down: fallback, fallback: [192.0.2.99]",
  };
  for (const bool aaaa : {false, true}) {
    for (std::string kind : kinds) {
      if (aaaa) absl::StrReplaceAll({{"192.0.2.99", "'2001:db8::99'"}}, &kind);
      const std::string address = aaaa ? "'2001:db8::1'" : "192.0.2.1";
      for (const uint32_t state : {Up, Down, Drained}) {
        SCOPED_TRACE(absl::StrCat(kind, aaaa ? ", AAAA" : ", A", ", state ", state));
        auto s = MakeServer(absl::StrCat("web: {", kind, ", ttl: 60, members: [{address: ", address,
                                         ", target: t1}]}"),
                            absl::StrCat("  - {name: www.pol.test., type: ", aaaa ? "AAAA" : "A",
                                         ", resource: web}\n"));
        ASSERT_NE(s, nullptr);
        const uint32_t id = s->reader->section<maps::Resource>(maps::kResources)[0].flags >>
                            maps::kFastDispatchShift;
        ASSERT_EQ(id >> 2, aaaa ? maps::kWriterOneAaaa : maps::kWriterOneA);
        s->Set({state});
        Selection sel;
        PolicyTrace trace;
        EvaluateResource(SnapshotView::Of(*s->reader), s->words, 0, &sel, &trace);
        const Reply r = Ask(*s->engine, "www.pol.test", aaaa ? kAaaa : kA);
        if (sel.outcome == PolicyOutcome::kServFail) {
          EXPECT_EQ(r.rcode, dns::kServFail);
          continue;
        }
        ASSERT_EQ(r.rcode, dns::kNoError);
        std::vector<std::string> want;
        if (sel.outcome == PolicyOutcome::kAnswer) {
          for (const std::string& a : Picked(sel, aaaa ? kAaaa : kA)) {
            want.push_back(absl::StrCat("www.pol.test. ", sel.ttl, aaaa ? " AAAA " : " A ", a));
          }
        }
        EXPECT_EQ(r.answer, want);
      }
    }
  }
}

// Multivalue over at most 16 A or AAAA members is answered by the engine's sample writer
// (maps::kWriterSampleA/Aaaa), which draws in a vector register and writes from it. Through
// Engine::Answer, for every run length, A and AAAA, counts below, at and above 8 (the writer
// writes the high and the low half of its sample separately), all up and with two members
// down: every answer has min(count, up) distinct up members; each up member comes first, and
// is in the answer, about equally often (chi-square, p = 0.001; sampling without replacement
// only makes the membership statistic smaller); every member is written whole.
TEST(PolicyEngine, SampleWriterAnswersUniformSamplesOfTheUpMembers) {
  const std::map<int, double> kChi2 = {{1, 10.83},  {2, 13.82},  {3, 16.27},  {4, 18.47},
                                       {5, 20.52},  {6, 22.46},  {7, 24.32},  {8, 26.12},
                                       {9, 27.88},  {10, 29.59}, {11, 31.26}, {12, 32.91},
                                       {13, 34.53}, {14, 36.12}, {15, 37.70}};
  for (const bool aaaa : {false, true}) {
    for (const int n : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16}) {
      for (const int count : {1, 3, 8, 9, 16}) {
        if (count > n && count != 16) continue;  // one case of count > n is enough
        for (const bool two_down : {false, true}) {
          if (two_down && n < 3) continue;
          SCOPED_TRACE(absl::StrCat(aaaa ? "AAAA" : "A", ", ", n, " members, count ", count,
                                    two_down ? ", members 1 and n down" : ", all up"));
          std::string members = "members: [";
          std::vector<std::string> address;
          for (int i = 1; i <= n; ++i) {
            address.push_back(aaaa ? absl::StrCat("2001:db8::", i) : absl::StrCat("192.0.2.", i));
            absl::StrAppend(&members, i > 1 ? ", " : "", "{address: '", address.back(),
                            "', target: t", i, "}");
          }
          auto s = MakeServer(
              absl::StrCat("web: {kind: multivalue, count: ", count, ", ttl: 60, ", members, "]}"),
              absl::StrCat("  - {name: www.pol.test., type: ", aaaa ? "AAAA" : "A",
                           ", resource: web}\n"));
          ASSERT_NE(s, nullptr);
          const uint32_t id = s->reader->section<maps::Resource>(maps::kResources)[0].flags >>
                              maps::kFastDispatchShift;
          // (A lone member has the lone-member writer, which this checks as well.)
          ASSERT_EQ(id >> 2, n == 1 ? (aaaa ? maps::kWriterOneAaaa : maps::kWriterOneA)
                             : aaaa ? maps::kWriterSampleAaaa
                                    : maps::kWriterSampleA);
          std::vector<uint32_t> health(static_cast<size_t>(n), Up);
          if (two_down) health[0] = health[n - 1] = Down;
          s->Set(health);
          std::set<std::string> up;
          for (int i = 0; i < n; ++i) {
            if (health[i] == Up) up.insert(address[i]);
          }
          const int keep = std::min<int>(count, static_cast<int>(up.size()));
          const int runs = 400 * static_cast<int>(up.size());
          // Seeded per case, as the other statistical tests: about 250 tests at p = 0.001
          // would otherwise fail somewhere in one run of four by chance.
          SeedPolicyRandom(uint64_t{1000} * n + 10 * count + (two_down ? 1 : 0) + (aaaa ? 5 : 0));
          std::map<std::string, int> firsts, in_answer;
          for (int i = 0; i < runs; ++i) {
            const Reply r = Ask(*s->engine, "www.pol.test", aaaa ? kAaaa : kA);
            ASSERT_EQ(r.rcode, dns::kNoError);
            ASSERT_EQ(r.answer.size(), static_cast<size_t>(keep));
            std::set<std::string> distinct;
            for (const std::string& rr : r.answer) {
              const std::string prefix =
                  absl::StrCat("www.pol.test. 60 ", aaaa ? "AAAA" : "A", " ");
              ASSERT_TRUE(absl::StartsWith(rr, prefix)) << rr;
              const std::string a = rr.substr(prefix.size());
              ASSERT_TRUE(up.count(a)) << a << " is not an up member";
              distinct.insert(a);
              ++in_answer[a];
            }
            ASSERT_EQ(distinct.size(), r.answer.size()) << "repeats";
            ++firsts[r.answer[0].substr(r.answer[0].rfind(' ') + 1)];
          }
          if (up.size() < 2) continue;
          const double df_limit = kChi2.at(static_cast<int>(up.size()) - 1);
          double chi2_first = 0, chi2_in = 0;
          const double first_expected = double{1.0} * runs / up.size();
          const double in_expected = double{1.0} * runs * keep / up.size();
          for (const std::string& a : up) {
            chi2_first +=
                (firsts[a] - first_expected) * (firsts[a] - first_expected) / first_expected;
            chi2_in += (in_answer[a] - in_expected) * (in_answer[a] - in_expected) / in_expected;
          }
          EXPECT_LT(chi2_first, df_limit);
          if (keep < static_cast<int>(up.size())) {
            EXPECT_LT(chi2_in, df_limit);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sextant::dataplane
