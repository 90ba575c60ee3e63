// FindGeoProvenance (explain's "which layer chose this list"): it names the layer, its file and
// line or database network and the fields used, for each layer; and for every address and ECS
// prefix of many maps (nearest and rules, with nets and latency files, several database layouts,
// no database) the list it gives is the list the compiled map gives, so explain never tells a
// story the dataplane does not act on.
#include "control/geo/geo_provenance.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/geo/geo_compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/prefix_table.h"

namespace sextant::control {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kData = SEXTANT_MAXMIND_TESTDATA "/";
const std::string kCity = kData + "GeoIP2-City-Test.mmdb";

// The files WriteTemp wrote, removed when the process exits.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const std::string& p : paths) std::remove(p.c_str());
  }
};
TempFiles& Temps() {
  static TempFiles files;
  return files;
}

// Per process: ctest runs this binary's tests in parallel, and one rewriting a file another
// is reading would hand it a truncated one.
std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  Temps().paths.push_back(path);
  return path;
}

// Config order is no point's nearest order, so the default list is recognisable: ap,us,eu.
GeoMapConfig CityConfig() {
  GeoMapConfig c;
  c.name = "world";
  c.database_path = kCity;
  c.datacenters = {{"dc-ap", 1.35, 103.82}, {"dc-us", 40.71, -74.01}, {"dc-eu", 51.51, -0.13}};
  return c;
}

// Nets and latency files over the City database: every layer has addresses of its own.
GeoMapConfig LayeredConfig() {
  GeoMapConfig c = CityConfig();
  c.nets_path = WriteTemp("prov_nets.txt",
                          "# lab\n"
                          "198.18.0.0/16 dc-eu,dc-us\n"
                          "81.2.69.192/28 dc-ap\n"
                          "2001:db8::/32 dc-us\n"
                          "198.18.128.0/17 dc-ap,dc-eu   # inside the /16 above: wins there\n");
  c.latency_path = WriteTemp("prov_latency.csv",
                             "prefix,datacenter,rtt_ms\n"
                             "198.18.7.0/24,dc-us,12\n"
                             "198.18.7.0/24,dc-ap,30.5\n"
                             "89.160.0.0/16,dc-ap,4\n"
                             "2001:218::/32,dc-eu,1\n");
  return c;
}

IpPrefix Prefix(const std::string& text) {
  absl::StatusOr<IpPrefix> p = ParseIpPrefix(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *p : IpPrefix{};
}

// The list the compiled map gives `p` (the dataplane's lookup of the zero-padded address).
std::vector<std::string> CompiledList(const CompiledGeoMap& map, const IpPrefix& p) {
  const maps::LookupResult r = maps::Lookup(map.view(), p.addr, p.family, p.length);
  std::vector<std::string> names;
  const maps::DcList& l = map.lists.at(r.list);
  for (int i = 0; i < l.count; ++i) names.push_back(map.datacenters.at(l.dcs[i]));
  return names;
}

struct LayerRow {
  const char* client;
  GeoLayer layer;
  const char* list;
  std::vector<std::string> says;  // substrings of the layer's text
};

TEST(GeoProvenance, NamesTheLayerItsFileLineNetworkAndFields) {
  const GeoMapConfig c = LayeredConfig();
  const std::string nets = c.nets_path, rtt = c.latency_path;
  const LayerRow rows[] = {
      {"198.18.7.9",
       GeoLayer::kLatency,
       "dc-us,dc-ap,dc-eu",
       {"latency rows for 198.18.7.0/24: ", rtt + ":2 (dc-us 12 ms), " + rtt + ":3 (dc-ap 30.5 ms)",
        "lowest round trip first"}},
      {"198.18.9.1", GeoLayer::kNets, "dc-eu,dc-us", {"nets line " + nets + ":2: 198.18.0.0/16"}},
      {"81.2.69.200", GeoLayer::kNets, "dc-ap", {"nets line " + nets + ":3: 81.2.69.192/28 dc-ap"}},
      {"198.18.200.1",
       GeoLayer::kNets,
       "dc-ap,dc-eu",
       {"nets line " + nets + ":5: 198.18.128.0/17 dc-ap,dc-eu"}},
      {"81.2.69.160",
       GeoLayer::kDatabase,
       "dc-eu,dc-us,dc-ap",
       {"database record for 81.2.69.160/27 in " + kCity + " (GeoIP2-City)",
        "coordinates 51.5142,-0.0931 (city 'London'), nearest first"}},
      {"214.1.1.7",
       GeoLayer::kDefault,
       "dc-ap,dc-us,dc-eu",
       {"default list (geo map 'world' has no 'default': every datacenter in config order)",
        "the database record for 214.1.1.0/24", ": no coordinates"}},
      {"10.1.2.3",
       GeoLayer::kDefault,
       "dc-ap,dc-us,dc-eu",
       {"default list", "no record for 10.0.0.0/"}},
      {"2001:db8::1", GeoLayer::kNets, "dc-us", {nets + ":4: 2001:db8::/32 dc-us"}},
      {"2001:218::1", GeoLayer::kLatency, "dc-eu,dc-ap,dc-us", {rtt + ":5 (dc-eu 1 ms)"}},
      {"::ffff:198.18.9.1", GeoLayer::kNets, "dc-eu,dc-us", {"198.18.0.0/16"}},
      {"2002:c612:0901::", GeoLayer::kNets, "dc-eu,dc-us", {"198.18.0.0/16"}},  // 6to4
  };
  for (const LayerRow& r : rows) {
    SCOPED_TRACE(r.client);
    absl::StatusOr<GeoProvenance> p = FindGeoProvenance(c, Prefix(r.client));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->chosen.layer, r.layer) << p->chosen.text;
    EXPECT_EQ(absl::StrJoin(p->list, ","), r.list);
    for (const std::string& s : r.says) EXPECT_THAT(p->chosen.text, HasSubstr(s));
  }
  // Latency rows say what ordered the datacenters they do not measure.
  absl::StatusOr<GeoProvenance> p = FindGeoProvenance(c, Prefix("198.18.7.9"));
  ASSERT_TRUE(p.ok() && p->beneath.has_value());
  EXPECT_EQ(p->beneath->layer, GeoLayer::kNets);
  EXPECT_THAT(p->beneath->text, HasSubstr(nets + ":2"));
  p = FindGeoProvenance(c, Prefix("89.160.20.112"));
  ASSERT_TRUE(p.ok() && p->beneath.has_value());
  EXPECT_EQ(p->beneath->layer, GeoLayer::kDatabase);
  EXPECT_THAT(p->beneath->text, HasSubstr("(city 'Linköping')"));
  // An address that embeds an IPv4 address is looked up as that address.
  p = FindGeoProvenance(c, Prefix("::ffff:198.18.9.1"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->looked_up, "198.18.9.1/32");
}

TEST(GeoProvenance, RulesModeNamesTheRuleOrWhyNoneMatched) {
  GeoMapConfig c = CityConfig();
  c.mode = GeoMode::kRules;
  c.continent_rules = {{"AS", {"dc-ap"}}};
  c.country_rules = {{"US", {"dc-us"}}};
  c.subdivision_rules = {{"GB-ENG", {"dc-eu", "dc-us"}}};
  c.default_datacenters = {"dc-us"};
  const LayerRow rows[] = {
      {"81.2.69.160", GeoLayer::kDatabase, "dc-eu,dc-us", {"rule subdivision GB-ENG"}},
      {"216.160.83.56", GeoLayer::kDatabase, "dc-us", {"rule country US"}},
      {"2001:218::1", GeoLayer::kDatabase, "dc-ap", {"rule continent AS"}},
      {"89.160.20.112",
       GeoLayer::kDefault,
       "dc-us",
       {"default list ('default' of geo map 'world')",
        "no rule for subdivision SE-E, country SE, "
        "continent EU"}},
  };
  for (const LayerRow& r : rows) {
    SCOPED_TRACE(r.client);
    absl::StatusOr<GeoProvenance> p = FindGeoProvenance(c, Prefix(r.client));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->chosen.layer, r.layer) << p->chosen.text;
    EXPECT_EQ(absl::StrJoin(p->list, ","), r.list);
    for (const std::string& s : r.says) EXPECT_THAT(p->chosen.text, HasSubstr(s));
  }
}

TEST(GeoProvenance, BadInputsAreErrorsNamingTheMapAndFile) {
  GeoMapConfig c = LayeredConfig();
  c.nets_path += ".missing";
  absl::StatusOr<GeoProvenance> p = FindGeoProvenance(c, Prefix("198.18.0.1"));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()),
              AllOf(HasSubstr("geo map 'world': cannot read nets file "),
                    HasSubstr("prov_nets.txt.missing: No such file or directory")));
  c = CityConfig();
  c.database_path = kData + "nothere.mmdb";
  p = FindGeoProvenance(c, Prefix("198.18.0.1"));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("geo map 'world': cannot open MaxMind DB " + kData +
                        "nothere.mmdb: No such file or directory"));
}

// Random addresses and ECS prefixes, in both families and the IPv4-embedding ranges: the list
// explain attributes is the list the compiled map serves.
std::vector<IpPrefix> SampleClients(std::mt19937& rng) {
  std::vector<IpPrefix> out;
  const char* fixed[] = {"81.2.69.160",
                         "81.2.69.200",
                         "89.160.20.112",
                         "198.18.7.9",
                         "214.1.1.7",
                         "2001:218::1",
                         "2001:db8::1",
                         "::ffff:81.2.69.160",
                         "64:ff9b::5102:45a0",
                         "2002:5102:45a0::",
                         "2001:0:0:0:0:0:aefd:ba5f",
                         "::"};
  for (const char* f : fixed) out.push_back(Prefix(f));
  const int lengths4[] = {32, 24, 20, 16, 8, 0};
  const int lengths6[] = {128, 64, 56, 48, 32, 24, 112, 100};
  for (int i = 0; i < 4000; ++i) {
    IpPrefix p;
    const int kind = i % 5;
    p.family = kind <= 1 || kind == 4 ? kFamilyIpv4 : kFamilyIpv6;
    for (uint8_t& b : p.addr) b = static_cast<uint8_t>(rng());
    if (p.family == kFamilyIpv4) {
      std::fill(p.addr + 4, p.addr + 16, 0);
      if (kind == 1) {  // near the nets entries and latency rows: 198.18.0.0/15, 81.2.0.0/16
        const uint8_t heads[][2] = {{198, 18}, {198, 19}, {81, 2}, {89, 160}};
        std::memcpy(p.addr, heads[rng() % 4], 2);
      }
      p.length = lengths4[rng() % 6];
    } else {
      if (kind == 2) p.addr[0] = 0x20 | (p.addr[0] & 0x1f);  // 2000::/3, where the data is
      if (kind == 3 && i % 8 == 3) {  // an embedding range: 6to4, mapped, Teredo, NAT64
        const uint8_t heads[][4] = {
            {0x20, 0x02}, {0, 0}, {0x20, 0x01, 0, 0}, {0, 0x64, 0xff, 0x9b}};
        const auto& h = heads[rng() % 4];
        std::memcpy(p.addr, h, 4);
        if (h[0] == 0 && h[1] == 0) std::memcpy(p.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
      }
      p.length = lengths6[rng() % 8];
    }
    for (int bit = p.length; bit < p.max_length(); ++bit) {
      p.addr[bit / 8] &= ~(0x80 >> (bit % 8));
    }
    out.push_back(p);
  }
  return out;
}

TEST(GeoProvenance, GivesTheCompiledListForEveryClient) {
  std::vector<std::pair<std::string, GeoMapConfig>> maps;
  maps.emplace_back("layered City", LayeredConfig());
  GeoMapConfig rules = LayeredConfig();
  rules.mode = GeoMode::kRules;
  rules.continent_rules = {{"EU", {"dc-eu", "dc-us"}}, {"AS", {"dc-ap"}}};
  rules.country_rules = {{"US", {"dc-us"}}};
  rules.subdivision_rules = {{"GB-ENG", {"dc-us", "dc-ap"}}};
  maps.emplace_back("rules", rules);
  GeoMapConfig capped = LayeredConfig();
  capped.max_datacenters = 2;
  maps.emplace_back("max 2", capped);
  GeoMapConfig no_db = LayeredConfig();
  no_db.database_path.clear();
  no_db.default_datacenters = {"dc-eu"};
  maps.emplace_back("no database", no_db);
  // Databases without coordinates serve rules mode only (nearest is refused for them): the
  // Country one with rules on its codes, the others with none (every record: the default list).
  const struct {
    const char* file;
    GeoMode mode;
    bool rules;
  } others[] = {{"GeoLite2-Country-Test.mmdb", GeoMode::kRules, true},
                {"GeoLite2-ASN-Test.mmdb", GeoMode::kRules, false},
                {"MaxMind-DB-test-mixed-24.mmdb", GeoMode::kRules, false},
                {"MaxMind-DB-no-ipv4-search-tree.mmdb", GeoMode::kRules, false},
                {"GeoLite2-City-Test.mmdb", GeoMode::kNearest, false}};
  for (const auto& o : others) {
    GeoMapConfig other = LayeredConfig();
    other.database_path = kData + o.file;
    other.mode = o.mode;
    if (o.rules) {
      other.continent_rules = {{"EU", {"dc-eu", "dc-us"}}, {"AS", {"dc-ap"}}};
      other.country_rules = {{"US", {"dc-us"}}};
    }
    maps.emplace_back(o.file, other);
  }
  std::mt19937 rng(18);
  const std::vector<IpPrefix> clients = SampleClients(rng);
  for (const auto& [name, config] : maps) {
    SCOPED_TRACE(name);
    absl::StatusOr<CompiledGeoMap> map = CompileGeoMap(config);
    ASSERT_TRUE(map.ok()) << map.status();
    int checked = 0;
    for (const IpPrefix& client : clients) {
      absl::StatusOr<GeoProvenance> p = FindGeoProvenance(config, client);
      ASSERT_TRUE(p.ok()) << FormatIpPrefix(client) << ": " << p.status();
      ASSERT_EQ(p->list, CompiledList(*map, client))
          << FormatIpPrefix(client) << " chosen by " << p->chosen.text;
      ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(clients.size()));
  }
}

}  // namespace
}  // namespace sextant::control
