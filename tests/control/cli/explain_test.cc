// sextantctl explain (control/cli/explain.h) through the real engine: a resource reached through a
// wildcard and through a CNAME chain is explained as a resource (not as zone data), with the
// writer that answered, each member's state and pick, and the answer; for every policy row of
// the engine's policy cases, explain prints exactly the records Engine::Answer gives from the
// same random state; and a geo lookup says which layer of the map chose the client's list (the
// latency rows, the nets line, the database record or the default list, with file and line or
// network), or why it cannot say (no config; files changed since the snapshot was published).
#include "control/cli/explain.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/config/config.h"
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

constexpr char kGeoZone[] = R"($ORIGIN geo.test.
$TTL 3600
@       IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@       IN NS  ns1
ns1     IN A   192.0.2.53
)";

// A geo resource over three datacenters whose map has a database, a nets file and a latency file.
class ExplainGeoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Files of this test's own: ctest runs each test in a process of its own, in parallel, and
    // SaysWhenItCannotTell rewrites and removes its nets file under the other's feet.
    std::string dir = ::testing::TempDir();
    if (dir.back() != '/') dir += '/';
    const std::string stem = absl::StrCat(
        dir, "explain_", ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
        getpid());
    nets_ = stem + "_nets.txt";
    rtt_ = stem + "_latency.csv";
    std::ofstream(nets_) << "# lab\n198.18.0.0/16 dc-eu,dc-us\n";
    std::ofstream(rtt_) << "prefix,datacenter,rtt_ms\n198.18.7.0/24,dc-us,12\n";
    yaml_ = absl::StrCat(R"(datacenters:
  dc-ap: {latitude: 1.35, longitude: 103.82}
  dc-us: {latitude: 40.71, longitude: -74.01}
  dc-eu: {latitude: 51.51, longitude: -0.13}
geo_maps:
  world: {database: )",
                         SEXTANT_MAXMIND_TESTDATA, "/GeoIP2-City-Test.mmdb, nets: ", nets_,
                         ", latency: ", rtt_, R"(}
resources:
  www:
    kind: geo
    map: world
    datacenters:
      dc-ap: {members: [198.18.1.1]}
      dc-us: {members: [198.18.2.1]}
      dc-eu: {members: [198.18.3.1]}
records:
  - {name: www.geo.test., type: A, resource: www}
)");
    auto snap = sextant::testing::BuildTestSnapshot({{"geo.test.", kGeoZone}}, "", 9, yaml_);
    ASSERT_TRUE(snap.ok()) << snap.status();
    snap_ = std::move(snap).value();
    config_ = ParseConfig(absl::StrCat("zones:\n  - {origin: geo.test., file: x}\n", yaml_),
                          "/etc/sextant/sextant.yaml", "/tmp");
    ASSERT_TRUE(config_.ok()) << config_.status();
  }
  void TearDown() override {
    std::remove(nets_.c_str());
    std::remove(rtt_.c_str());
  }
  std::string Explain(const std::string& client) {
    auto out = ExplainSnapshot(*snap_, nullptr, {"www.geo.test", "A", client}, &config_);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : "";
  }

  std::string nets_, rtt_, yaml_;
  std::unique_ptr<maps::SnapshotReader> snap_;
  absl::StatusOr<Config> config_;
};

struct SourceRow {
  const char* client;
  std::vector<std::string> says;
};

TEST_F(ExplainGeoTest, SaysWhichLayerChoseTheList) {
  const std::string city = SEXTANT_MAXMIND_TESTDATA "/GeoIP2-City-Test.mmdb";
  const SourceRow rows[] = {
      {"198.18.7.9",
       {"preference list: dc-us, dc-eu\n",
        "chosen by the latency rows for 198.18.7.0/24: " + rtt_ + ":2 (dc-us 12 ms)",
        "datacenters without a measurement follow the nets line " + nets_ + ":2"}},
      {"198.18.9.0/24",
       {"preference list: dc-eu, dc-us",
        "chosen by the nets line " + nets_ + ":2: 198.18.0.0/16 dc-eu,dc-us"}},
      {"81.2.69.160",
       {"preference list: dc-eu, dc-us, dc-ap",
        "client 81.2.69.160/32 in " + city + ": city 'London', subdivision ENG, country GB",
        "(database network 81.2.69.160/27)",
        "chosen by the database record for 81.2.69.160/27 in " + city +
            " (GeoIP2-City): coordinates 51.5142,-0.0931 (city 'London'), nearest first"}},
      {"10.9.9.9",
       {"preference list: dc-ap, dc-us, dc-eu",
        "chosen by the default list (geo map 'world' has no 'default': every datacenter in "
        "config order): no record for 10.0.0.0/"}},
      {"::ffff:198.18.9.1",
       {"looked up as 198.18.9.1/32, the IPv4 address it embeds", "chosen by the nets line"}},
  };
  for (const SourceRow& r : rows) {
    SCOPED_TRACE(r.client);
    const std::string out = Explain(r.client);
    for (const std::string& s : r.says) EXPECT_THAT(out, HasSubstr(s)) << out;
  }
}

TEST_F(ExplainGeoTest, SaysWhenItCannotTell) {
  // Files changed after the snapshot was built: the list they give now is not the one served.
  std::ofstream(nets_) << "198.18.0.0/16 dc-ap\n";
  std::string out = Explain("198.18.9.1");
  EXPECT_THAT(out, HasSubstr("where the list comes from: unknown: /etc/sextant/sextant.yaml and "
                             "its files now give dc-ap (chosen by the nets line " +
                             nets_ + ":1: 198.18.0.0/16 dc-ap), not the published list"));
  EXPECT_THAT(out, HasSubstr("after generation 9 was published"));
  EXPECT_THAT(out,
              Not(HasSubstr("chosen by the nets line " + nets_ + ":1: 198.18.0.0/16 dc-ap\n")));
  // No config at all: why, and what to pass.
  const absl::StatusOr<Config> none = absl::UnavailableError("pass --config FILE");
  auto plain = ExplainSnapshot(*snap_, nullptr, {"www.geo.test", "A", "198.18.9.1"}, &none);
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT(*plain, HasSubstr("where the list comes from: unknown: pass --config FILE"));
  // A file that cannot be read: named.
  std::remove(nets_.c_str());
  EXPECT_THAT(
      Explain("198.18.9.1"),
      HasSubstr("where the list comes from: unknown: geo map 'world': cannot read nets file " +
                nets_ + ": No such file or directory"));
}

}  // namespace
}  // namespace sextant::control
