// Geo and latency resources through the real engine (Engine::Answer) on MaxMind's City test
// database: which datacenter's address a client gets for every address form (IPv4, IPv6,
// IPv4-mapped, 6to4, Teredo, unknown), nets overrides and latency rows beating geography, health
// moving clients to the next datacenter, the all-down rules, and the ECS scope of each answer
// (RFC 7871; dataplane/engine/geo_lookup.h says which address is used when).
//
// Datacenters: dc-ap Singapore, dc-us New York, dc-eu London; each serves one address,
// 198.18.1.1 / 198.18.2.1 / 198.18.3.1, watched by t-ap / t-us / t-eu (health words 0, 1, 2).
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/config/config.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "maps/prefix_table.h"
#include "maps/snapshot_checksum.h"
#include "maps/snapshot_reader.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::HasSubstr;

const std::string kCity = SEXTANT_MAXMIND_TESTDATA "/GeoIP2-City-Test.mmdb";
constexpr uint32_t Up = maps::kHealthUp;
constexpr uint32_t Down = 0;

// Files of this process's own: ctest runs each test in a process of its own, in parallel, and a
// rewrite truncates the file under another's read. GeoTest removes them once compiled.
std::string TempPath(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/geo_test_", getpid(), "_", name);
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  std::ofstream(path) << text;
  return path;
}

std::string GeoYaml(const std::string& extra_map_keys = "") {
  const std::string nets = WriteTemp("nets.txt", "89.160.20.0/24 dc-ap\n198.18.7.0/24 dc-us\n");
  const std::string rtt = WriteTemp(
      "rtt.csv", "prefix,datacenter,rtt_ms\n81.2.69.0/24,dc-ap,5\n81.2.69.0/24,dc-us,9\n");
  return absl::StrCat(R"(
datacenters:
  dc-ap: {latitude: 1.35, longitude: 103.82}
  dc-us: {latitude: 40.71, longitude: -74.01}
  dc-eu: {latitude: 51.51, longitude: -0.13}
geo_maps:
  world: {database: )",
                      kCity, ", nets: ", nets, extra_map_keys, R"(}
  measured: {database: )",
                      kCity, ", latency: ", rtt, R"(}
targets:
  t-ap: {}
  t-us: {}
  t-eu: {}
resources:
  ap-pool: {members: [{address: 198.18.1.1, target: t-ap}]}
  us-pool: {members: [{address: 198.18.2.1, target: t-us}]}
  eu-pool: {members: [{address: 198.18.3.1, target: t-eu}]}
  www:
    kind: geo
    map: world
    all_down: first
    datacenters:
      dc-ap: {resource: ap-pool}
      dc-us: {resource: us-pool}
      dc-eu: {resource: eu-pool}
  strict:
    kind: geo
    map: world
    all_down: servfail
    datacenters: {dc-ap: {resource: ap-pool}, dc-us: {resource: us-pool},
                  dc-eu: {resource: eu-pool}}
  blind:
    kind: geo
    map: world
    ecs: ignore
    datacenters: {dc-ap: {resource: ap-pool}, dc-us: {resource: us-pool},
                  dc-eu: {resource: eu-pool}}
  fast:
    kind: latency
    map: measured
    datacenters: {dc-ap: {resource: ap-pool}, dc-us: {resource: us-pool},
                  dc-eu: {members: [198.18.3.9]}}
records:
  - {name: www.geo.test., type: A, resource: www}
  - {name: strict.geo.test., type: A, resource: strict}
  - {name: blind.geo.test., type: A, resource: blind}
  - {name: fast.geo.test., type: A, resource: fast}
)");
}

const char kZone[] = R"($ORIGIN geo.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.53
plain A 198.18.9.9
)";

struct Result {
  int rcode = -1;
  std::vector<std::string> addrs;
  int scope = -1;  // -1: no ECS option in the response
};

// Parses what the tests need: rcode, A rdata in the answer, the ECS option's scope.
Result Parse(const std::vector<uint8_t>& r, size_t len) {
  Result out;
  if (len < 12) return out;
  out.rcode = r[3] & 0xf;
  const int an = r[6] << 8 | r[7], ns = r[8] << 8 | r[9], ar = r[10] << 8 | r[11];
  size_t p = 12;
  auto skip_name = [&] {
    while (p < len) {
      if ((r[p] & 0xc0) == 0xc0) {
        p += 2;
        return;
      }
      if (r[p] == 0) {
        ++p;
        return;
      }
      p += 1 + r[p];
    }
  };
  skip_name();
  p += 4;
  for (int i = 0; i < an + ns + ar && p < len; ++i) {
    skip_name();
    const int type = r[p] << 8 | r[p + 1];
    const int rdlen = r[p + 8] << 8 | r[p + 9];
    const size_t rd = p + 10;
    if (i < an && type == 1 && rdlen == 4) {
      char buf[16];
      inet_ntop(AF_INET, &r[rd], buf, sizeof(buf));
      out.addrs.push_back(buf);
    }
    if (type == 41) {
      for (size_t o = rd; o + 4 <= rd + rdlen;) {
        const int code = r[o] << 8 | r[o + 1], olen = r[o + 2] << 8 | r[o + 3];
        if (code == 8 && olen >= 4) out.scope = r[o + 7];
        o += 4 + olen;
      }
    }
    p = rd + rdlen;
  }
  return out;
}

// "81.2.69.160/32" -> the ECS option payload (RFC 7871 section 6).
std::string Ecs(const std::string& prefix) {
  const std::vector<std::string> parts = absl::StrSplit(prefix, '/');
  const bool v6 = parts[0].find(':') != std::string::npos;
  uint8_t a[16] = {};
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, parts[0].c_str(), a), 1) << prefix;
  const int len = std::stoi(parts[1]);
  std::string o = {0, static_cast<char>(v6 ? 2 : 1), static_cast<char>(len), 0};
  o.append(reinterpret_cast<const char*>(a), (len + 7) / 8);
  return o;
}

class GeoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = sxt::BuildTestSnapshot({{"geo.test.", kZone}}, "", 1, GeoYaml());
    for (const char* f : {"nets.txt", "rtt.csv"}) std::remove(TempPath(f).c_str());
    ASSERT_TRUE(snap.ok()) << snap.status();
    snap_ = *std::move(snap);
    for (auto& w : health_) w.store(Up);
  }

  // `ecs`: "" = no ECS option; else a prefix. `source`: the packet's source address.
  Result Ask(const std::string& name, const std::string& ecs,
             const std::string& source = "198.51.100.7") {
    sxt::QueryOptions o;
    o.edns_size = 1232;
    if (!ecs.empty()) o.options.push_back({8, Ecs(ecs)});
    const std::vector<uint8_t> q = sxt::MakeQuery(name, 1, o);
    ClientInfo ci;
    const bool v6 = source.find(':') != std::string::npos;
    ci.family = v6 ? 6 : 4;
    EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, source.c_str(), ci.addr), 1);
    Engine e(*snap_);
    e.set_health(health_);
    std::vector<uint8_t> out(4096);
    AnswerInfo info;
    const size_t n = e.Answer(q.data(), q.size(), ci, out.data(), out.size(), &info);
    return Parse(out, n);
  }

  std::unique_ptr<maps::SnapshotReader> snap_;
  std::atomic<uint32_t> health_[8];
};

constexpr int kAp = 0, kUs = 1, kEu = 2;
const char* const kAddr[] = {"198.18.1.1", "198.18.2.1", "198.18.3.1"};

struct Row {
  const char* what;
  const char* name;
  const char* ecs;     // "" = none
  const char* source;  // packet source
  int dc;              // expected datacenter (kAp...)
  int scope;           // expected ECS scope; -1 = no ECS option
};

// Scopes: the City test database has 81.2.69.160/27, 216.160.83.56/29, 2001:218::/32,
// 175.16.199.0/24 (merged with equal-list neighbours into the prefixes below).
TEST_F(GeoTest, AnswersAndScopesForEveryAddressForm) {
  const Row rows[] = {
      {"IPv4 ECS, London", "www.geo.test", "81.2.69.160/32", "198.51.100.7", kEu, 27},
      {"IPv4 ECS /24 is masked", "www.geo.test", "175.16.199.0/24", "198.51.100.7", kAp, 24},
      {"IPv6 ECS, Japan", "www.geo.test", "2001:218::/48", "198.51.100.7", kAp, 32},
      {"IPv4-mapped ECS", "www.geo.test", "::ffff:81.2.69.160/128", "198.51.100.7", kEu, 123},
      {"6to4 ECS of Milton US", "www.geo.test", "2002:d8a0:5338::/48", "198.51.100.7", kUs, 45},
      {"Teredo ECS of London", "www.geo.test", "2001:0:4136:e378:8000:63bf:aefd:ba5f/128",
       "198.51.100.7", kEu, 123},
      // The default list (config order: ap, us, eu) covers the unknown space around it.
      {"unknown ECS: default list (config order)", "www.geo.test", "198.51.100.0/24", "81.2.69.160",
       kAp, 11},
      {"no ECS: packet source", "www.geo.test", "", "216.160.83.56", kUs, -1},
      {"no ECS: IPv6 packet source", "www.geo.test", "", "2001:218::1", kAp, -1},
      {"ECS source /0: packet source, scope 0", "www.geo.test", "0.0.0.0/0", "216.160.83.56", kUs,
       0},
      {"ecs: ignore: packet source, scope 0", "blind.geo.test", "81.2.69.160/32", "216.160.83.56",
       kUs, 0},
      {"nets override beats the database", "www.geo.test", "89.160.20.112/32", "198.51.100.7", kAp,
       24},
      {"nets override for a lab network", "www.geo.test", "198.18.7.0/24", "198.51.100.7", kUs, 24},
      // Measured ap, us (then eu): the default list's order, so it merges with the unknown
      // space around it into a /5.
      {"latency rows beat geography", "fast.geo.test", "81.2.69.160/32", "198.51.100.7", kAp, 5},
      {"unmeasured: geography", "fast.geo.test", "216.160.83.56/32", "198.51.100.7", kUs, 29},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    const Result r = Ask(row.name, row.ecs, row.source);
    EXPECT_EQ(r.rcode, 0);
    ASSERT_EQ(r.addrs.size(), 1u);
    EXPECT_EQ(r.addrs[0], kAddr[row.dc]);
    EXPECT_EQ(r.scope, row.scope);
  }
}

// The policy plan's writer for a geo resource: the lookup fused with the site writer when every
// site is answered the same way (www: three static sites, each watched), the generic geo writer
// when the sites differ (fast: one site has no health word). Every www site is one watched
// address, so its writer is the lone-member one. Both paths answer the rows above.
TEST_F(GeoTest, GeoResourcesWhoseSitesAgreeGetTheFusedWriter) {
  auto resources = snap_->section<maps::Resource>(maps::kResources);
  auto strings = snap_->bytes(maps::kStrings);
  const Engine engine(*snap_);
  auto writer = [&](const std::string& name) {
    for (size_t i = 0; i < resources.size(); ++i) {
      const maps::Resource& r = resources[i];
      if (std::string(reinterpret_cast<const char*>(strings.data()) + r.name.offset,
                      r.name.length) == name) {
        return static_cast<int>(engine.view().plans[i].writer);
      }
    }
    ADD_FAILURE() << "no resource " << name;
    return -1;
  };
  EXPECT_EQ(writer("www"), WriterId(kWriterGeoSites + kWriterOneA, kFastHealthRun));
  EXPECT_EQ(writer("fast"), WriterId(kWriterGeo, 0));
}

TEST_F(GeoTest, StaticAnswersCarryScopeZero) {
  const Result r = Ask("plain.geo.test", "81.2.69.160/32");
  ASSERT_EQ(r.addrs.size(), 1u);
  EXPECT_EQ(r.scope, 0);
}

TEST_F(GeoTest, DownDatacenterMovesClientsToTheNextNearest) {
  health_[kEu].store(Down);  // London down: a London client goes to New York, then Singapore
  Result r = Ask("www.geo.test", "81.2.69.160/32");
  ASSERT_EQ(r.addrs.size(), 1u);
  EXPECT_EQ(r.addrs[0], kAddr[kUs]);
  EXPECT_EQ(r.scope, 27);
  health_[kUs].store(Down);
  r = Ask("www.geo.test", "81.2.69.160/32");
  ASSERT_EQ(r.addrs.size(), 1u);
  EXPECT_EQ(r.addrs[0], kAddr[kAp]);
  // Other clients keep their own first choice.
  r = Ask("www.geo.test", "2001:218::/32");
  ASSERT_EQ(r.addrs.size(), 1u);
  EXPECT_EQ(r.addrs[0], kAddr[kAp]);
}

TEST_F(GeoTest, AllDownFollowsTheResourcesRule) {
  for (auto& w : health_) w.store(Down);
  // all_down: first -> the client's first datacenter (its pool's own all-down rule: all).
  Result r = Ask("www.geo.test", "81.2.69.160/32");
  ASSERT_EQ(r.addrs.size(), 1u);
  EXPECT_EQ(r.addrs[0], kAddr[kEu]);
  r = Ask("www.geo.test", "216.160.83.56/32");
  ASSERT_EQ(r.addrs.size(), 1u);
  EXPECT_EQ(r.addrs[0], kAddr[kUs]);
  // all_down: servfail.
  r = Ask("strict.geo.test", "81.2.69.160/32");
  EXPECT_EQ(r.rcode, 2);
  EXPECT_TRUE(r.addrs.empty());
}

TEST(GeoConfig, BadGeoConfigIsRefusedNamingTheCulprit) {
  const std::string dcs =
      "datacenters: {dc-a: {latitude: 1, longitude: 2}, dc-b: {latitude: 3, longitude: 4}}\n";
  const std::string map = absl::StrCat("geo_maps: {m: {database: ", kCity, "}}\n");
  const std::string pool = "  p: {members: [198.18.1.1]}\n";
  struct Case {
    std::string yaml;
    std::string error;
  } cases[] = {
      {dcs + map + "resources:\n" + pool +
           "  g: {kind: geo, map: nope, datacenters: {dc-a: {resource: p}}}\n",
       "resources.g.map: unknown geo map 'nope' (known: m)"},
      {dcs + map + "resources:\n" + pool +
           "  g: {kind: geo, map: m, datacenters: {dc-z: {resource: p}}}\n",
       "resources.g.datacenters.dc-z: unknown datacenter 'dc-z' (known: dc-a, dc-b)"},
      {dcs + map + "resources:\n" + pool +
           "  g: {kind: latency, map: m, datacenters: {dc-a: {resource: p}}}\n",
       "resources.g.map: kind latency needs a map with latency data"},
      {dcs + map + "resources:\n" + pool +
           "  g: {kind: geo, map: m, ecs: maybe, datacenters: {dc-a: {resource: p}}}\n",
       "resources.g.ecs 'maybe' is not one of use, ignore"},
      {dcs + map + "resources:\n" + pool +
           "  g: {kind: geo, map: m, members: [198.18.1.1], datacenters: {dc-a: {resource: p}}}\n",
       "members"},
      {dcs + "geo_maps: {m: {database: " + kCity + ", default: [dc-q]}}\n",
       "geo_maps.m.default: unknown datacenter 'dc-q' (known: dc-a, dc-b)"},
      {dcs + "geo_maps: {m: {database: " SEXTANT_MAXMIND_TESTDATA
             "/GeoIP2-City-Test-Broken-Double-Format.mmdb}}\n",
       "geo map"},
      {dcs + "geo_maps: {m: {database: " SEXTANT_MAXMIND_TESTDATA
             "/MaxMind-DB-test-broken-pointers-24.mmdb}}\n",
       "geo map"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    auto snap = sxt::BuildTestSnapshot({{"geo.test.", kZone}}, "", 1, c.yaml);
    ASSERT_FALSE(snap.ok());
    EXPECT_THAT(std::string(snap.status().message()), HasSubstr(c.error));
  }
}

TEST(GeoConfig, PathsAreRelativeToTheConfigAndWatched) {
  auto c = control::ParseConfig(
      "zones: [{origin: a.test., file: z}]\n"
      "datacenters: {dc-a: {latitude: 1, longitude: 2}, dc-b: {latitude: -3, longitude: 4}}\n"
      "geo_maps:\n"
      "  m: {database: db/City.mmdb, mode: rules, max: 2, nets: nets.txt, latency: /x/rtt.csv,\n"
      "      rules: {continent: {eu: [dc-a]}, country: {US: [dc-b, dc-a]},\n"
      "              subdivision: {US-CA: dc-b}}, default: [dc-b]}\n",
      "/etc/sextant/sextant.yaml", "/etc/sextant");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->geo_maps.size(), 1u);
  const control::GeoMapConfig& m = c->geo_maps[0];
  EXPECT_EQ(m.database_path, "/etc/sextant/db/City.mmdb");
  EXPECT_EQ(m.nets_path, "/etc/sextant/nets.txt");
  EXPECT_EQ(m.latency_path, "/x/rtt.csv");
  EXPECT_EQ(m.mode, control::GeoMode::kRules);
  EXPECT_EQ(m.max_datacenters, 2);
  EXPECT_EQ(m.continent_rules.at("EU"), std::vector<std::string>{"dc-a"});
  EXPECT_EQ(m.country_rules.at("US"), (std::vector<std::string>{"dc-b", "dc-a"}));
  EXPECT_EQ(m.subdivision_rules.at("US-CA"), std::vector<std::string>{"dc-b"});
  EXPECT_EQ(m.default_datacenters, std::vector<std::string>{"dc-b"});
  ASSERT_EQ(m.datacenters.size(), 2u);
  EXPECT_EQ(m.datacenters[1].latitude, -3);
  const std::vector<std::string> files = control::ConfigInputFiles(*c);
  for (const char* f : {"/etc/sextant/db/City.mmdb", "/etc/sextant/nets.txt", "/x/rtt.csv"}) {
    EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
  }
}

TEST(GeoSnapshot, CorruptPrefixTableIsRefused) {
  const std::string yaml = absl::StrCat(
      "datacenters: {dc-a: {latitude: 1, longitude: 2}}\ngeo_maps: {m: {database: ", kCity,
      "}}\nresources:\n  p: {members: [198.18.1.1]}\n"
      "  g: {kind: geo, map: m, datacenters: {dc-a: {resource: p}}}\n"
      "records: [{name: g.geo.test., type: A, resource: g}]\n");
  auto snap = sxt::BuildTestSnapshot({{"geo.test.", kZone}}, "", 1, yaml);
  ASSERT_TRUE(snap.ok()) << snap.status();
  std::vector<uint8_t> blob((*snap)->base(), (*snap)->base() + (*snap)->size());
  const auto* dir =
      reinterpret_cast<const maps::SectionRef*>(blob.data() + sizeof(maps::SnapshotHeader));
  const maps::SectionRef& v4 = dir[maps::kGeoPrefixesV4];
  ASSERT_GT(v4.count, 0u);
  // A leaf naming a list that does not exist, then a chunk pointing at the root.
  for (uint32_t bad : {maps::PrefixLeaf(9999, 8), maps::kPrefixChunkFlag | 0u}) {
    std::vector<uint8_t> b = blob;
    std::memcpy(b.data() + v4.offset + 4 * 1234, &bad, 4);
    auto* h = reinterpret_cast<maps::SnapshotHeader*>(b.data());
    // A valid checksum, so only the table check can object.
    h->checksum = maps::SnapshotChecksum(b.data() + sizeof(maps::SnapshotHeader),
                                         b.size() - sizeof(maps::SnapshotHeader));
    auto bad_snap = maps::SnapshotReader::FromBytes(b);
    ASSERT_FALSE(bad_snap.ok());
    EXPECT_THAT(std::string(bad_snap.status().message()), HasSubstr("geo map 0 prefix table"));
  }
}

}  // namespace
}  // namespace sextant::dataplane
