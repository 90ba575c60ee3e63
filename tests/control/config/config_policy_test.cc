// The record-set policy part of the configuration (control/config/resource_config.h): refusals,
// each with a message that names the key at fault by its YAML path and says what is wrong. Rows say
// where the refusal happens: when the YAML is parsed (control::ParseConfig), or only when the
// policies are compiled against the zones (BuildSnapshot, through BuildTestSnapshot).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/compile/resource_compiler.h"
#include "control/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_snapshot.h"

namespace sextant::control {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::AllOfArray;
using ::testing::HasSubstr;

constexpr char kZone[] = R"($ORIGIN pol.test.
$TTL 3600
@      IN SOA ns1.pol.test. hostmaster.pol.test. 1 7200 3600 1209600 300
@      IN NS  ns1
ns1    IN A   192.0.2.53
c1     IN A   192.0.2.101
c2     IN A   192.0.2.102
)";

// Targets t1 and t2, then `resources:` and `records:` with one entry per line of each.
std::string PolicyYaml(const std::string& resources, const std::string& records) {
  std::string y = "targets:\n  t1: {initial: up}\n  t2: {initial: down}\n";
  if (!resources.empty()) {
    absl::StrAppend(&y, "resources:\n");
    for (absl::string_view line : absl::StrSplit(resources, '\n', absl::SkipEmpty())) {
      absl::StrAppend(&y, "  ", line, "\n");
    }
  }
  absl::StrAppend(&y, "records:\n");
  for (absl::string_view line : absl::StrSplit(records, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&y, "  - ", line, "\n");
  }
  return y;
}

absl::Status Parse(const std::string& resources, const std::string& records) {
  return ParseConfig("zones:\n  - {origin: pol.test., file: pol.test.zone}\n" +
                         PolicyYaml(resources, records),
                     "/etc/sextant/sextant.yaml", "/etc/sextant")
      .status();
}

absl::Status Build(const std::string& resources, const std::string& records) {
  return sxt::BuildTestSnapshot({{"pol.test.", kZone}}, "", 1, PolicyYaml(resources, records))
      .status();
}

enum Stage { kParse, kCompile };

struct Row {
  std::string rule;
  Stage stage;
  std::string resources;          // body of `resources:`, one resource per line
  std::string records;            // body of `records:`, one record per line
  std::vector<std::string> says;  // substrings of the error: who is at fault, and what
};

const char kWwwA[] = "{name: www.pol.test., type: A, resource: r}";

void ExpectRefused(const Row& row) {
  SCOPED_TRACE(row.rule);
  std::vector<::testing::Matcher<std::string>> says;
  for (const std::string& s : row.says) says.push_back(HasSubstr(s));
  const absl::Status parsed = Parse(row.resources, row.records);
  if (row.stage == kParse) {
    EXPECT_EQ(parsed.code(), absl::StatusCode::kInvalidArgument) << parsed;
    EXPECT_THAT(std::string(parsed.message()), AllOfArray(says));
  } else {
    EXPECT_TRUE(parsed.ok()) << parsed;
  }
  // Whatever the parser lets through, the build refuses.
  const absl::Status built = Build(row.resources, row.records);
  EXPECT_EQ(built.code(), absl::StatusCode::kInvalidArgument) << built;
  EXPECT_THAT(std::string(built.message()), AllOfArray(says));
}

TEST(ConfigPolicy, RefusesBadPoliciesNamingTheCulprit) {
  const Row rows[] = {
      {"unknown member resource",
       kParse,
       "r: {members: [{resource: nope}]}",
       kWwwA,
       {"resources.r.members[0].resource: unknown resource 'nope' (known: r)"}},
      {"unknown target",
       kParse,
       "r: {members: [{address: 192.0.2.1, target: t9}]}",
       kWwwA,
       {"resources.r.members[0].target: unknown target 't9' (known: t1, t2)"}},
      {"negative weight",
       kParse,
       "r: {kind: weighted, members: [{address: 192.0.2.1, weight: -1}, 192.0.2.2]}",
       kWwwA,
       {"resources.r.members[0].weight must be an integer in 0..65535, not '-1'"}},
      {"weight not a number",
       kParse,
       "r: {kind: weighted, members: [{address: 192.0.2.1, weight: heavy}, 192.0.2.2]}",
       kWwwA,
       {"resources.r.members[0].weight must be an integer in 0..65535, not 'heavy'"}},
      {"weight too big for the snapshot",
       kParse,
       "r: {kind: weighted, members: [{address: 192.0.2.1, weight: 65536}, 192.0.2.2]}",
       kWwwA,
       {"resources.r.members[0].weight must be an integer in 0..65535, not '65536'"}},
      {"nesting cycle",
       kParse,
       "a: {members: [{resource: b}]}\n"
       "b: {members: [{resource: a}]}",
       "{name: www.pol.test., type: A, resource: a}",
       {"resources.a: nesting cycle a -> b -> a"}},
      {"resource nested in itself",
       kParse,
       "r: {members: [192.0.2.1, {resource: r}]}",
       kWwwA,
       {"resources.r: nesting cycle r -> r"}},
      {"nesting deeper than 4",
       kParse,
       "r1: {members: [{resource: r2}]}\n"
       "r2: {members: [{resource: r3}]}\n"
       "r3: {members: [{resource: r4}]}\n"
       "r4: {members: [{resource: r5}]}\n"
       "r5: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: A, resource: r1}",
       {"resources.r1: nesting deeper than 4 (r1 -> r2 -> r3 -> r4 -> r5)"}},
      {"empty members list",
       kParse,
       "r: {kind: failover, members: []}",
       kWwwA,
       {"'resources.r.members' must be a non-empty list"}},
      {"no members at all",
       kParse,
       "r: {kind: failover}",
       kWwwA,
       {"'resources.r.members' must be a non-empty list"}},
      {"all_down fallback without a fallback list",
       kParse,
       "r: {all_down: fallback, members: [192.0.2.1]}",
       kWwwA,
       {"resources.r.all_down is fallback, which needs a resources.r.fallback list"}},
      {"record naming an unknown resource",
       kParse,
       "r: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: A, resource: nope}",
       {"records[0].resource: unknown resource 'nope' (known: r)"}},

      {"CNAME resource with a static list of two",
       kCompile,
       "r: {members: [{cname: c1.pol.test.}, {cname: c2.pol.test.}]}",
       "{name: www.pol.test., type: CNAME, resource: r}",
       {"resources.r: a CNAME resource must pick one target"}},
      {"CNAME resource answering several (multivalue)",
       kCompile,
       "r: {kind: multivalue, members: [{cname: c1.pol.test.}, {cname: c2.pol.test.}]}",
       "{name: www.pol.test., type: CNAME, resource: r}",
       {"resources.r: a CNAME resource must pick one target"}},
      {"CNAME fallback of two names",
       kCompile,
       "r: {kind: failover, all_down: fallback, fallback: [c1.pol.test., c2.pol.test.],\n"
       "    members: [{cname: c1.pol.test.}]}",
       "{name: www.pol.test., type: CNAME, resource: r}",
       {"resources.r.fallback: a CNAME fallback is one name"}},
      {"resource used for A and AAAA",
       kCompile,
       "r: {members: ['2001:db8::1']}",
       "{name: www.pol.test., type: A, resource: r}\n"
       "{name: www6.pol.test., type: AAAA, resource: r}",
       {"resources.r: is used for two record types"}},
      {"nested resource used for A and AAAA",
       kCompile,
       "r4: {members: [{resource: n}]}\n"
       "r6: {members: [{resource: n}]}\n"
       "n: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: A, resource: r4}\n"
       "{name: www6.pol.test., type: AAAA, resource: r6}",
       {"resources.n: is used for two record types"}},
      {"IPv6 address in an A resource",
       kCompile,
       "r: {members: [192.0.2.1, '2001:db8::1']}",
       kWwwA,
       {"resources.r.members[1]: '2001:db8::1' is not an IPv4 address"}},
      {"IPv4 address in an AAAA resource",
       kCompile,
       "r: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: AAAA, resource: r}",
       {"resources.r.members[0]: '192.0.2.1' is not an IPv6 address"}},
      {"IPv6 fallback in an A resource",
       kCompile,
       "r: {all_down: fallback, fallback: ['2001:db8::9'], members: [192.0.2.1]}",
       kWwwA,
       {"resources.r.fallback: '2001:db8::9' is not an IPv4 address"}},
      {"relative CNAME target",
       kCompile,
       "r: {members: [{cname: c1}]}",
       "{name: www.pol.test., type: CNAME, resource: r}",
       {"resources.r.members[0]: CNAME target 'c1' must be absolute"}},
      {"weighted with every weight 0",
       kCompile,
       "r: {kind: weighted, members: [{address: 192.0.2.1, weight: 0}]}",
       kWwwA,
       {"resources.r: every member has weight 0"}},
      {"record outside any zone",
       kCompile,
       "r: {members: [192.0.2.1]}",
       "{name: www.elsewhere.test., type: A, resource: r}",
       {"records[0].name: www.elsewhere.test. is not inside any configured zone"}},
      {"record whose type the zone already has there",
       kCompile,
       "r: {members: [192.0.2.1]}",
       "{name: ns1.pol.test., type: A, resource: r}",
       {"records[0].name: ns1.pol.test. already has records of this type in the zone file"}},
      {"CNAME record beside zone data",
       kCompile,
       "r: {members: [{cname: c1.pol.test.}]}",
       "{name: ns1.pol.test., type: CNAME, resource: r}",
       {"records[0].name: ns1.pol.test. cannot have a CNAME beside other data"}},
      {"record listed twice",
       kCompile,
       "r: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: A, resource: r}\n"
       "{name: www.pol.test., type: A, resource: r}",
       {"records[1].name: www.pol.test. is listed twice"}},
  };
  for (const Row& row : rows) ExpectRefused(row);
}

// Only A, AAAA and CNAME records can take their data from a resource; the refusal names the
// record's type key, like every other record error.
TEST(ConfigPolicy, RefusesRecordTypesThatCannotCarryAResourceNamingTheRecord) {
  const Row rows[] = {
      {"TXT",
       kParse,
       "r: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: TXT, resource: r}",
       {"records[0].type TXT cannot carry a resource (one of A, AAAA, CNAME)"}},
      {"MX, inline",
       kParse,
       "",
       "{name: www.pol.test., type: MX, members: [192.0.2.1]}",
       {"records[0].type MX cannot carry a resource (one of A, AAAA, CNAME)"}},
      {"no such type",
       kParse,
       "r: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: AAA, resource: r}",
       {"records[0].type 'AAA' is not one of A, AAAA, CNAME (did you mean AAAA?)"}},
  };
  for (const Row& row : rows) ExpectRefused(row);
}

// The limits are limits, not off by one: what sits exactly on them is accepted. Also the
// near misses of the refusals above.
TEST(ConfigPolicy, AcceptsPoliciesAtTheLimits) {
  struct Case {
    std::string rule;
    std::string resources;
    std::string records;
  } cases[] = {
      {"nesting exactly 4 deep",
       "r1: {members: [{resource: r2}]}\n"
       "r2: {members: [{resource: r3}]}\n"
       "r3: {members: [{resource: r4}]}\n"
       "r4: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: A, resource: r1}"},
      {"weights 0 and 65535",
       "r: {kind: weighted, members: [{address: 192.0.2.1, weight: 0},\n"
       "    {address: 192.0.2.2, weight: 65535, target: t2}]}",
       kWwwA},
      {"one resource shared by two A records", "r: {members: [192.0.2.1]}",
       "{name: www.pol.test., type: A, resource: r}\n"
       "{name: web.pol.test., type: A, resource: r}"},
      {"A and AAAA at one name, from two resources",
       "r: {members: [192.0.2.1]}\n"
       "r6: {members: ['2001:db8::1']}",
       "{name: www.pol.test., type: A, resource: r}\n"
       "{name: www.pol.test., type: AAAA, resource: r6}"},
      {"inline resource", "",
       "{name: api.pol.test., type: AAAA, kind: failover, members: ['2001:db8::1', "
       "'2001:db8::2']}"},
      {"CNAME failover with a fallback name",
       "r: {kind: failover, all_down: fallback, fallback: c2.pol.test.,\n"
       "    members: [{cname: c1.pol.test., target: t1}]}",
       "{name: www.pol.test., type: CNAME, resource: r}"},
      {"AAAA record beside the zone's A", "r6: {members: ['2001:db8::53']}",
       "{name: ns1.pol.test., type: AAAA, resource: r6}"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    const absl::Status parsed = Parse(c.resources, c.records);
    EXPECT_TRUE(parsed.ok()) << parsed;
    const absl::Status built = Build(c.resources, c.records);
    EXPECT_TRUE(built.ok()) << built;
  }
}

}  // namespace
}  // namespace sextant::control

namespace sextant::control {
namespace {

// Health words never change owner between two consecutive assignments: a new target takes a
// word the previous one did not use (the snapshot being served may still read a removed
// target's word), kept targets keep theirs, and words of just-removed targets are reused only
// when nothing else is left.
TEST(TargetWords, NewTargetsDoNotTakeWordsFreedInTheSameReload) {
  auto config = [](std::vector<std::string> names) {
    PolicyConfig c;
    for (const std::string& n : names) {
      TargetConfig t;
      t.name = n;
      c.targets.push_back(t);
    }
    return c;
  };
  const std::map<std::string, uint32_t> previous = {{"a", 0}, {"b", 1}, {"c", 2}};
  auto next = AssignTargetIndexes(config({"a", "c", "d"}), previous, 8);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->at("a"), 0u);
  EXPECT_EQ(next->at("c"), 2u);
  EXPECT_EQ(next->at("d"), 3u);  // not 1, which b had until now

  // Full: b's word is the only one left, so d gets it.
  auto full = AssignTargetIndexes(config({"a", "c", "d"}), previous, 3);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->at("d"), 1u);
  EXPECT_FALSE(AssignTargetIndexes(config({"a", "c", "d", "e"}), previous, 3).ok());
}

}  // namespace
}  // namespace sextant::control
