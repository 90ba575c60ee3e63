// sextantctl explain (control/cli/explain.h) through the real engine: a resource reached through a
// wildcard and through a CNAME chain is explained as a resource (not as zone data), with the
// writer that answered, each member's state and pick, and the answer; and for every policy row
// of the engine's policy cases, explain prints exactly the records Engine::Answer gives from the
// same random state.
#include "control/cli/explain.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/policy_pickers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/policy_cases.h"
#include "tests/support/test_snapshot.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace pc = ::sextant::dataplane::policy_cases;

constexpr char kZone[] = R"($ORIGIN pol.test.
$TTL 3600
@       IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@       IN NS  ns1
ns1     IN A   192.0.2.53
alias   IN CNAME alias2
alias2  IN CNAME www
plain   IN A   192.0.2.80
)";

constexpr char kPolicies[] = R"(targets:
  web1: {initial: up}
  web2: {initial: up}
resources:
  pool:
    kind: failover
    ttl: 60
    members: [{address: 192.0.2.1, target: web1}, {address: 192.0.2.2, target: web2}]
records:
  - {name: www.pol.test., type: A, resource: pool}
  - {name: "*.w.pol.test.", type: A, resource: pool}
)";

class ExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = sextant::testing::BuildTestSnapshot({{"pol.test.", kZone}}, "", 5, kPolicies);
    ASSERT_TRUE(snap.ok()) << snap.status();
    snap_ = std::move(snap).value();
    for (auto& w : words_) w.store(maps::kHealthUp);
    for (const maps::Target& t : snap_->section<maps::Target>(maps::kTargets)) {
      const auto strings = snap_->bytes(maps::kStrings);
      word_[std::string(reinterpret_cast<const char*>(strings.data()) + t.name.offset,
                        t.name.length)] = t.health;
    }
  }
  std::string Explain(const std::string& name, const std::string& type) {
    auto out = ExplainSnapshot(*snap_, words_, {name, type, ""});
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : "";
  }
  void Down(const std::string& target) { words_[word_.at(target)].store(0); }

  std::unique_ptr<maps::SnapshotReader> snap_;
  std::atomic<uint32_t> words_[8];
  std::map<std::string, uint32_t> word_;
};

TEST_F(ExplainTest, ResourceReachedThroughAWildcard) {
  Down("web1");
  const std::string out = Explain("anything.w.pol.test", "A");
  EXPECT_THAT(out, HasSubstr("the wildcard *.w.pol.test. answers"));
  EXPECT_THAT(out, HasSubstr("A from resource pool (failover): the policy plan's writer is "
                             "failover (first up)"));
  EXPECT_THAT(out, HasSubstr("member 0 192.0.2.1 (target web1): down"));
  EXPECT_THAT(out, HasSubstr("member 1 192.0.2.2 (target web2): up"));
  EXPECT_THAT(out, HasSubstr("picked member 1 192.0.2.2"));
  EXPECT_THAT(out, HasSubstr("answer: NOERROR, aa; 1 answer"));
  EXPECT_THAT(out, HasSubstr("anything.w.pol.test.\t60\tIN\tA\t192.0.2.2"));
  EXPECT_THAT(out, Not(HasSubstr("static zone data")));
}

TEST_F(ExplainTest, ResourceReachedThroughACnameChain) {
  const std::string out = Explain("alias.pol.test.", "A");
  EXPECT_THAT(out, HasSubstr("look up alias.pol.test. A"));
  EXPECT_THAT(out, HasSubstr("look up alias2.pol.test. A"));
  EXPECT_THAT(out, HasSubstr("look up www.pol.test. A"));
  EXPECT_THAT(out, HasSubstr("CNAME: followed"));
  EXPECT_THAT(out, HasSubstr("A from resource pool (failover)"));
  EXPECT_THAT(out, HasSubstr("picked member 0 192.0.2.1"));
  EXPECT_THAT(out, HasSubstr("www.pol.test.\t60\tIN\tA\t192.0.2.1"));
  EXPECT_THAT(out, HasSubstr("alias.pol.test.\t3600\tIN\tCNAME\talias2.pol.test."));
}

TEST_F(ExplainTest, AllDownHandsOverToTheGeneralEvaluator) {
  Down("web1");
  Down("web2");
  const std::string out = Explain("www.pol.test", "A");
  EXPECT_THAT(out, HasSubstr("hands over to the general evaluator: a member it looked at is "
                             "down or drained"));
  EXPECT_THAT(out, HasSubstr("no member up, all_down rule 'all' applies"));
  EXPECT_THAT(out, HasSubstr("2 answer"));
}

TEST_F(ExplainTest, ZoneDataNegativeAnswersAndTypos) {
  EXPECT_THAT(Explain("plain.pol.test", "A"), HasSubstr("A records from the zone file"));
  EXPECT_THAT(Explain("nothere.pol.test", "A"), HasSubstr("NXDOMAIN, zone pol.test."));
  EXPECT_THAT(Explain("plain.pol.test", "MX"), HasSubstr("NODATA, zone pol.test."));
  EXPECT_THAT(Explain("www.other.test", "A"), HasSubstr("in no zone served here: REFUSED"));
  auto bad = ExplainSnapshot(*snap_, words_, {"www.pol.test", "NOTATYPE", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("not a record type"));
}

// The answer section explain prints: the rdata of each record, in order.
std::vector<std::string> ExplainedRecords(const std::string& out) {
  std::vector<std::string> records;
  const size_t at = out.find("\nanswer: ");
  if (at == std::string::npos) return records;
  for (absl::string_view line : absl::StrSplit(out.substr(at + 1), '\n')) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 5 && f[3] != "SOA") records.push_back(f[4]);
  }
  return records;
}

TEST(ExplainPolicyRows, PrintsTheAnswerTheEngineGives) {
  uint64_t seed = 7;
  int rows = 0;
  for (const pc::RowTable& table : pc::AllRowTables()) {
    for (const pc::Row& row : table.rows) {
      SCOPED_TRACE(absl::StrCat(table.name, ": ", row.rule));
      auto snap = pc::BuildPolicies(row.resources, row.type);
      ASSERT_TRUE(snap.ok()) << snap.status();
      pc::Health health(*snap, row.health);
      dataplane::Engine engine(*snap->reader);
      engine.set_health(health.words());
      const std::vector<uint8_t> q = sextant::testing::MakeQuery("r.pol.test", row.type);
      std::vector<uint8_t> out(dataplane::kMaxDnsMessage);
      dataplane::AnswerInfo info;
      dataplane::SeedPolicyRandom(seed);
      const size_t n =
          engine.Answer(q.data(), q.size(), dataplane::ClientInfo{}, out.data(), out.size(), &info);
      std::vector<std::string> want;
      for (const std::string& rr : pc::DecodeReply(out.data(), n).answer) {
        want.push_back(rr.substr(rr.rfind(' ') + 1));
      }
      dataplane::SeedPolicyRandom(seed++);
      auto explained = ExplainSnapshot(*snap->reader, health.words(),
                                       {"r.pol.test", pc::TypeText(row.type), ""});
      ASSERT_TRUE(explained.ok()) << explained.status();
      EXPECT_EQ(ExplainedRecords(*explained), want) << *explained;
      ++rows;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(rows, 50);
}

}  // namespace
}  // namespace sextant::control
