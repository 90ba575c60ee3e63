// What README.md's "Configuration" section promises where no other test pins it down, each
// through the real parser, compiler and answer engine:
//   * a bare number in a duration is seconds (fractions allowed), in every duration key;
//   * the latency CSV's header is optional, any case, and only the first data line can be one;
//   * TTLs do not inherit between a geo resource and its sites: each resource has its own `ttl`
//     (default 300) and the answer carries the smallest TTL on the way to it; the geo resource's
//     `ttl_when_down` applies while any member under it is down, a site's own does not;
//   * `kind: latency` answers exactly as `kind: geo` over the same map (latency rows steer both);
//     it only insists that the map has latency data;
//   * `check: {type: none}` is a target without a probe and takes no other key.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/config/config.h"
#include "control/geo/geo_config.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "tests/dataplane/engine/policy_cases.h"
#include "tests/support/test_snapshot.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;

constexpr char kZones[] = "zones:\n  - {origin: geo.test., file: geo.test.zone}\n";

absl::StatusOr<Config> Parse(const std::string& yaml) {
  return ParseConfig(absl::StrCat(kZones, yaml), "sextant.yaml", "/etc/sextant");
}

TEST(ReadmeConfiguration, BareNumberDurationsAreSeconds) {
  auto c = Parse(R"(targets:
  web1:
    check: {type: tcp, address: 198.18.1.10, port: 80, interval: 2, timeout: 0.5}
health_feeds:
  - {command: /usr/local/bin/probe, interval: 5, timeout: 3}
control: {reload_delay: 1}
tcp: {idle_timeout: 4, query_timeout: 1.5}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const CheckSpec& check = *c->policies.targets.at(0).check;
  EXPECT_EQ(check.interval_ms, 2000u);
  EXPECT_EQ(check.timeout_ms, 500u);
  EXPECT_EQ(c->policies.health_feeds.at(0).interval_ms, 5000u);
  EXPECT_EQ(c->policies.health_feeds.at(0).timeout_ms, 3000u);
  EXPECT_EQ(c->control.reload_delay_ms, 1000u);
  EXPECT_EQ(c->tcp.idle_timeout_ms, 4000u);
  EXPECT_EQ(c->tcp.query_timeout_ms, 1500u);
  // sextantctl --for takes the same grammar.
  EXPECT_EQ(*ParseDurationMs("90"), 90000u);
  EXPECT_EQ(*ParseDurationMs("90s"), 90000u);
}

struct CsvRow {
  const char* text;
  size_t rows;          // when accepted
  const char* refusal;  // else
};

TEST(ReadmeConfiguration, LatencyCsvHeaderIsOptional) {
  const CsvRow cases[] = {
      {"198.18.7.0/24,dc-us,12\n", 1, nullptr},
      {"prefix,datacenter,rtt_ms\n198.18.7.0/24,dc-us,12\n", 1, nullptr},
      {"Prefix, Datacenter, RTT (ms)\n198.18.7.0/24,dc-us,12\n", 1, nullptr},
      {"# measured 2024-05-01\n\nPREFIX,DC,RTT\n198.18.7.0/24,dc-us,12\n", 1, nullptr},
      {"198.18.7.0/24,dc-us,12\nprefix,datacenter,rtt_ms\n", 0,
       "rtt.csv:2: 'prefix' is not an IPv4 or IPv6 network"},
  };
  for (const CsvRow& c : cases) {
    absl::StatusOr<std::vector<LatencyRow>> rows = ParseLatencyCsv(c.text, "rtt.csv");
    if (c.refusal == nullptr) {
      ASSERT_TRUE(rows.ok()) << c.text << rows.status();
      EXPECT_EQ(rows->size(), c.rows) << c.text;
    } else {
      ASSERT_FALSE(rows.ok()) << c.text;
      EXPECT_THAT(std::string(rows.status().message()), HasSubstr(c.refusal));
    }
  }
}

TEST(ReadmeConfiguration, CheckTypeNoneIsATargetWithoutAProbe) {
  auto c = Parse("targets:\n  web1: {datacenter: fra, check: {type: none}}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->policies.targets.at(0).check->type, CheckType::kNone);
  c = Parse("targets:\n  web1: {check: {type: none, interval: 5s}}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("does not apply to a none check"));
}

constexpr char kZone[] = R"($ORIGIN geo.test.
$TTL 3600
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.53
)";

// One geo map over the City test database with a latency file that sends 81.2.69.0/24 (London)
// to dc-us; resources `*-geo` and `*-latency` are the same but for their kind.
class GeoAnswers : public ::testing::Test {
 protected:
  void SetUp() override {
    // A file of this process's own: ctest runs each test of the fixture in a process of its own,
    // in parallel, and a rewrite truncates the file under another's read.
    const std::string rtt = absl::StrCat(::testing::TempDir(), "/readme_rtt_", getpid(), ".csv");
    std::ofstream(rtt) << "81.2.69.0/24,dc-us,3\n";
    const std::string yaml =
        absl::StrCat(R"(datacenters:
  dc-us: {latitude: 40.71, longitude: -74.01}
  dc-eu: {latitude: 51.51, longitude: -0.13}
geo_maps:
  world: {database: )",
                     SEXTANT_MAXMIND_TESTDATA, "/GeoIP2-City-Test.mmdb, latency: ", rtt, R"(}
targets:
  us1: {}
  us2: {}
  eu1: {}
resources:
  eu-pool: {ttl: 120, members: [{address: 198.18.3.1, target: eu1}]}
  short-geo:
    kind: geo
    map: world
    ttl: 60
    datacenters:
      dc-us: {kind: failover, members: [{address: 198.18.2.1, target: us1}, 198.18.2.2]}
      dc-eu: {resource: eu-pool}
  short-latency:
    kind: latency
    map: world
    ttl: 60
    datacenters:
      dc-us: {kind: failover, members: [{address: 198.18.2.1, target: us1}, 198.18.2.2]}
      dc-eu: {resource: eu-pool}
  long-geo:
    kind: geo
    map: world
    datacenters:
      dc-us: {ttl: 30, members: [198.18.2.1]}
      dc-eu: {resource: eu-pool}
  down-geo:
    kind: geo
    map: world
    ttl: 60
    ttl_when_down: 5
    datacenters:
      dc-us: {kind: failover, members: [{address: 198.18.2.1, target: us2}, 198.18.2.2]}
      dc-eu: {resource: eu-pool}
  site-down-geo:
    kind: geo
    map: world
    ttl: 60
    datacenters:
      dc-us:
        kind: failover
        ttl_when_down: 7
        members: [{address: 198.18.2.1, target: us2}, 198.18.2.2]
      dc-eu: {resource: eu-pool}
records:
  - {name: site-down-geo.geo.test., type: A, resource: site-down-geo}
  - {name: short-geo.geo.test., type: A, resource: short-geo}
  - {name: short-latency.geo.test., type: A, resource: short-latency}
  - {name: long-geo.geo.test., type: A, resource: long-geo}
  - {name: down-geo.geo.test., type: A, resource: down-geo}
  - {name: eu.geo.test., type: A, resource: eu-pool}
)");
    auto snap = sextant::testing::BuildTestSnapshot({{"geo.test.", kZone}}, "", 1, yaml);
    std::remove(rtt.c_str());  // compiled into the snapshot
    ASSERT_TRUE(snap.ok()) << snap.status();
    snap_ = std::move(snap).value();
    for (auto& w : words_) w.store(maps::kHealthUp);
    const auto strings = snap_->bytes(maps::kStrings);
    for (const maps::Target& t : snap_->section<maps::Target>(maps::kTargets)) {
      word_[std::string(reinterpret_cast<const char*>(strings.data()) + t.name.offset,
                        t.name.length)] = t.health;
    }
    engine_ = std::make_unique<dataplane::Engine>(*snap_);
    engine_->set_health(words_);
  }

  // "TTL ADDRESS" of the first answer record for `name` asked from `client` (IPv4).
  std::string Ask(const std::string& name, const std::string& client) {
    dataplane::ClientInfo c;
    c.family = 4;
    const std::vector<std::string> octets = absl::StrSplit(client, '.');
    for (int i = 0; i < 4; ++i) c.addr[i] = static_cast<uint8_t>(std::stoi(octets[i]));
    const std::vector<uint8_t> q = sextant::testing::MakeQuery(name, 1);
    std::vector<uint8_t> out(dataplane::kMaxDnsMessage);
    dataplane::AnswerInfo info;
    const size_t n = engine_->Answer(q.data(), q.size(), c, out.data(), out.size(), &info);
    const auto reply = dataplane::policy_cases::DecodeReply(out.data(), n);
    if (reply.answer.empty()) return "no answer";
    const std::vector<std::string> f = absl::StrSplit(reply.answer[0], ' ');
    return f.size() == 4 ? absl::StrCat(f[1], " ", f[3]) : reply.answer[0];
  }
  void Down(const std::string& target) { words_[word_.at(target)].store(0); }

  std::unique_ptr<maps::SnapshotReader> snap_;
  std::unique_ptr<dataplane::Engine> engine_;
  std::atomic<uint32_t> words_[8];
  std::map<std::string, uint32_t> word_;
};

constexpr char kLondon[] = "81.2.69.160";      // latency row: dc-us first
constexpr char kBoxford[] = "2.125.160.216";   // no row: nearest, dc-eu first
constexpr char kChangchun[] = "175.16.199.1";  // no row: nearest is dc-eu as well

struct TtlRow {
  const char* rule;
  const char* name;
  const char* client;
  const char* want;  // "TTL ADDRESS"
};

TEST_F(GeoAnswers, TtlsDoNotInheritTheSmallestOnTheWayWins) {
  const TtlRow rows[] = {
      {"geo ttl 60 over an inline site without ttl (300)", "short-geo", kLondon, "60 198.18.2.1"},
      {"geo ttl 60 over a site with ttl 120", "short-geo", kBoxford, "60 198.18.3.1"},
      {"geo without ttl (300) over a site with ttl 30", "long-geo", kLondon, "30 198.18.2.1"},
      {"geo without ttl (300) over a site with ttl 120", "long-geo", kBoxford, "120 198.18.3.1"},
      {"the site asked directly keeps its own ttl", "eu", kBoxford, "120 198.18.3.1"},
  };
  for (const TtlRow& r : rows) {
    EXPECT_EQ(Ask(absl::StrCat(r.name, ".geo.test"), r.client), r.want) << r.rule;
  }
  // ttl_when_down on the geo resource: while a member anywhere below it is down. A site's own
  // ttl_when_down is not applied when the site is reached through the geo resource (the README
  // says to put it on the geo resource; change both if that changes).
  EXPECT_EQ(Ask("down-geo.geo.test", kLondon), "60 198.18.2.1");
  Down("us2");
  EXPECT_EQ(Ask("down-geo.geo.test", kLondon), "5 198.18.2.2");
  EXPECT_EQ(Ask("site-down-geo.geo.test", kLondon), "60 198.18.2.2");
}

TEST_F(GeoAnswers, LatencyKindAnswersAsGeoOverTheSameMap) {
  for (const char* client : {kLondon, kBoxford, kChangchun}) {
    EXPECT_EQ(Ask("short-latency.geo.test", client), Ask("short-geo.geo.test", client)) << client;
  }
  // The latency row steers both kinds: London is sent to dc-us, not to the nearest dc-eu.
  EXPECT_EQ(Ask("short-geo.geo.test", kLondon), "60 198.18.2.1");
  Down("us1");
  EXPECT_EQ(Ask("short-latency.geo.test", kLondon), Ask("short-geo.geo.test", kLondon));
  // What latency adds: a map without latency data is refused for it.
  auto c = Parse(R"(datacenters: {dc-eu: {latitude: 51.51, longitude: -0.13}}
geo_maps: {world: {}}
resources:
  r: {kind: latency, map: world, datacenters: {dc-eu: {members: [198.18.3.1]}}}
)");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("kind latency needs a map with latency data"));
}

}  // namespace
}  // namespace sextant::control
