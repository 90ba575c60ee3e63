// CompileGeoMap against MaxMind's test databases: preference lists for the known points in every
// address form, nets overrides beating the database, latency rows beating geography, rules mode,
// merging, and every broken database refused with a message.
#include "control/geo/geo_compiler.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using namespace ::sextant::maps;  // NOLINT: the snapshot side of the maps under test

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kData = SEXTANT_MAXMIND_TESTDATA "/";
const std::string kCity = kData + "GeoIP2-City-Test.mmdb";

// Config order is deliberately not any point's nearest order, so the default list is
// recognisable: "ap,us,eu".
GeoMapConfig CityConfig() {
  GeoMapConfig c;
  c.name = "test";
  c.database_path = kCity;
  c.datacenters = {{"dc-ap", 1.35, 103.82},   // Singapore
                   {"dc-us", 40.71, -74.01},  // New York
                   {"dc-eu", 51.51, -0.13}};  // London
  return c;
}

struct Answer {
  std::string dcs;  // "eu,us,ap" (names without "dc-")
  int scope;
};

Answer Ask(const CompiledGeoMap& map, const std::string& addr, int source = -1) {
  uint8_t a[16] = {};
  const bool v6 = addr.find(':') != std::string::npos;
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), a), 1) << addr;
  if (source < 0) source = v6 ? 128 : 32;
  const LookupResult r = Lookup(map.view(), a, v6 ? kFamilyIpv6 : kFamilyIpv4, source);
  std::vector<std::string> names;
  const DcList& l = map.lists.at(r.list);
  for (int i = 0; i < l.count; ++i) names.push_back(map.datacenters.at(l.dcs[i]).substr(3));
  return {absl::StrJoin(names, ","), r.scope};
}

CompiledGeoMap MustCompile(const GeoMapConfig& c) {
  auto m = CompileGeoMap(c);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  EXPECT_TRUE(ValidatePrefixTable(m->view(), m->lists.size()).ok());
  EXPECT_TRUE(ValidateDcLists(m->lists, m->datacenters.size()).ok());
  return *std::move(m);
}

struct PointRow {
  const char* addr;
  const char* dcs;
};

TEST(GeoCompiler, NearestListsForKnownPointsInEveryAddressForm) {
  const CompiledGeoMap map = MustCompile(CityConfig());
  const PointRow rows[] = {
      {"81.2.69.160", "eu,us,ap"},                           // London
      {"2.125.160.216", "eu,us,ap"},                         // Boxford UK
      {"89.160.20.112", "eu,us,ap"},                         // Linköping SE
      {"216.160.83.56", "us,eu,ap"},                         // Milton, WA
      {"175.16.199.1", "ap,eu,us"},                          // Changchun CN
      {"2001:218::1", "ap,eu,us"},                           // JP
      {"2a02:d3c0::1", "eu,us,ap"},                          // GB (IPv6)
      {"::ffff:81.2.69.160", "eu,us,ap"},                    // IPv4-mapped
      {"::81.2.69.160", "eu,us,ap"},                         // IPv4-compatible
      {"2002:5102:45a0::1", "eu,us,ap"},                     // 6to4 of 81.2.69.160
      {"2002:d8a0:5338::", "us,eu,ap"},                      // 6to4 of 216.160.83.56
      {"2001:0:4136:e378:8000:63bf:aefd:ba5f", "eu,us,ap"},  // Teredo, client 81.2.69.160
      {"214.1.1.1", "ap,us,eu"},   // a record without coordinates: default
      {"198.18.0.1", "ap,us,eu"},  // not in the database: default
      {"2001:db8::1", "ap,us,eu"},
  };
  for (const PointRow& r : rows) EXPECT_EQ(Ask(map, r.addr).dcs, r.dcs) << r.addr;
  EXPECT_EQ(map.stats.database_type, "GeoIP2-City");
}

TEST(GeoCompiler, ScopesAreTheMatchedNetworkInTheClientsFamily) {
  const CompiledGeoMap map = MustCompile(CityConfig());
  const int v4 = Ask(map, "81.2.69.160").scope;
  EXPECT_GE(v4, 8);
  EXPECT_LE(v4, 27);  // ::81.2.69.160/123 in the source data, possibly merged wider
  EXPECT_EQ(Ask(map, "::ffff:81.2.69.160").scope, 96 + v4);
  EXPECT_EQ(Ask(map, "2002:5102:45a0::1").scope, 16 + v4);
  EXPECT_EQ(Ask(map, "2001:0:4136:e378:8000:63bf:aefd:ba5f").scope, 96 + v4);
  // ECS: a /24 source is masked to 81.2.69.0, which the database places elsewhere (or nowhere).
  EXPECT_EQ(Ask(map, "81.2.69.160", 24).dcs, Ask(map, "81.2.69.0").dcs);
  // The scope may be longer than the source (RFC 7871 7.2.1).
  EXPECT_GT(Ask(map, "81.2.69.160", 24).scope, 24);
}

TEST(GeoCompiler, MaxDatacentersLimitsLists) {
  GeoMapConfig c = CityConfig();
  c.max_datacenters = 1;
  const CompiledGeoMap map = MustCompile(c);
  EXPECT_EQ(Ask(map, "81.2.69.160").dcs, "eu");
  EXPECT_EQ(Ask(map, "175.16.199.1").dcs, "ap");
  EXPECT_EQ(Ask(map, "198.18.0.1").dcs, "ap");  // default: config order, capped too
}

TEST(GeoCompiler, NetsOverridesBeatTheDatabaseAndMoreSpecificWins) {
  GeoMapConfig c = CityConfig();
  auto nets = ParseNets(
      "# lab overrides\n"
      "81.2.69.0/24      dc-ap\n"
      "81.2.69.160/27    dc-us, dc-eu   # more specific\n"
      "2001:218::/32     dc-us\n"
      "198.18.0.0/15     dc-eu\n",
      "nets.txt");
  ASSERT_TRUE(nets.ok()) << nets.status();
  c.nets = *nets;
  const CompiledGeoMap map = MustCompile(c);
  const PointRow rows[] = {
      {"81.2.69.160", "us,eu"}, {"81.2.69.1", "ap"},      {"::ffff:81.2.69.161", "us,eu"},
      {"2001:218::1", "us"},    {"198.19.255.255", "eu"}, {"2.125.160.216", "eu,us,ap"},
  };
  for (const PointRow& r : rows) EXPECT_EQ(Ask(map, r.addr).dcs, r.dcs) << r.addr;
  EXPECT_EQ(Ask(map, "81.2.69.1").scope, 25);  // the /24 minus the /27: 81.2.69.0/25 holds .1
  EXPECT_EQ(Ask(map, "81.2.69.170").scope, 27);
}

struct BadInput {
  const char* text;
  const char* message;
};

TEST(GeoCompiler, BadNetsAreRefusedWithFileAndLine) {
  const BadInput cases[] = {
      {"# ok\n81.2.69.0/24\n", "nets.txt:2: expected 'PREFIX DC"},
      {"81.2.69.1/24 dc-ap\n",
       "nets.txt:1: '81.2.69.1/24' has host bits set (did you mean "
       "81.2.69.0/24?)"},
      {"81.2.69.0/33 dc-ap\n", "nets.txt:1: '81.2.69.0/33': prefix length must be 0..32"},
      {"\n\n10.0.0.0/8 dc-moon\n", "nets.txt:3: unknown datacenter 'dc-moon'"},
      {"10.0.0.0/8 dc-ap,dc-ap\n", "nets.txt:1: datacenter 'dc-ap' listed twice"},
      {"10.0.0.0/8 dc-ap,\n", "nets.txt:1: empty datacenter name"},
      {"10.0.0.0/8 dc-ap\n10.0.0.0/8 dc-us\n",
       "nets.txt:2: 10.0.0.0/8 already given at nets.txt:1"},
      {"::ffff:10.0.0.0/104 dc-ap\n", "inside IPv4-mapped ::ffff:0:0/96"},
      {"2002::/24 dc-ap\n", "inside 6to4 2002::/16"},
      // Either family is allowed: the refusal says so unless the text was clearly one of them.
      {"garbage dc-ap\n",
       "nets.txt:1: 'garbage' is not an IPv4 or IPv6 network (like "
       "198.18.7.0/24 or 2001:db8::/32)"},
      {"192.0.2.300/24 dc-ap\n", "nets.txt:1: '192.0.2.300/24' is not an IPv4 network"},
      {"2001:db8::zz/32 dc-ap\n", "nets.txt:1: '2001:db8::zz/32' is not an IPv6 network"},
  };
  for (const BadInput& b : cases) {
    GeoMapConfig c = CityConfig();
    c.database_path.clear();
    auto nets = ParseNets(b.text, "nets.txt");
    absl::Status s = nets.status();
    if (nets.ok()) {
      c.nets = *nets;
      s = CompileGeoMap(c).status();
    }
    EXPECT_THAT(std::string(s.message()), HasSubstr(b.message)) << b.text;
  }
}

TEST(GeoCompiler, NetsFileIsReadFromDisk) {
  const std::string path = ::testing::TempDir() + "/geo_nets.txt";
  std::ofstream(path) << "81.2.69.0/24 dc-us\n";
  GeoMapConfig c = CityConfig();
  c.nets_path = path;
  EXPECT_EQ(Ask(MustCompile(c), "81.2.69.160").dcs, "us");
  c.nets_path = path + ".missing";
  // Named as the absolute, normalised path (TempDir() ends in '/': no "//" in the message).
  const std::string named = std::filesystem::path(path).lexically_normal().string();
  EXPECT_THAT(std::string(CompileGeoMap(c).status().message()),
              HasSubstr("geo map 'test': cannot read nets file " + named +
                        ".missing: No such file or directory"));
  c.nets_path.clear();
  c.latency_path = path + ".missing";
  EXPECT_THAT(std::string(CompileGeoMap(c).status().message()),
              HasSubstr("geo map 'test': cannot read latency file " + named +
                        ".missing: No such file or directory"));
}

TEST(GeoCompiler, LatencyRowsBeatGeographyAndUnmeasuredFollowInGeographicOrder) {
  GeoMapConfig c = CityConfig();
  auto rows = ParseLatencyCsv(
      "prefix,datacenter,rtt_ms\n"
      "81.2.69.0/24,dc-ap,5\n"
      "81.2.69.0/24,dc-us,20.5\n"
      "81.2.0.0/16,dc-us,3\n"  // less specific: loses to the /24 inside it
      "2001:218::/32,dc-eu,1\n",
      "rtt.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  c.latency = *rows;
  auto nets = ParseNets("2.125.160.0/24 dc-us\n", "nets.txt");
  c.nets = *nets;
  c.latency.push_back({*ParseIpPrefix("2.125.160.0/24"), "dc-ap", 9, "inline"});
  const CompiledGeoMap map = MustCompile(c);
  const PointRow want[] = {
      {"81.2.69.160", "ap,us,eu"},   // measured ap, us; eu appended
      {"81.2.1.1", "us,ap,eu"},      // only the /16 row: us, then the default order
      {"2001:218::1", "eu,ap,us"},   // measured eu; then JP's geographic order
      {"2.125.160.216", "ap,us"},    // latency on top of a nets override: ap, then the nets list
      {"175.16.199.1", "ap,eu,us"},  // untouched
  };
  for (const PointRow& r : want) EXPECT_EQ(Ask(map, r.addr).dcs, r.dcs) << r.addr;
}

TEST(GeoCompiler, BadLatencyRowsAreRefusedWithFileAndLine) {
  const BadInput cases[] = {
      {"prefix,datacenter,rtt_ms\n10.0.0.0/8,dc-ap\n", "rtt.csv:2: expected 'prefix,datacenter"},
      {"10.0.0.0/8,dc-ap,fast\n", "rtt.csv:1: rtt_ms 'fast' is not a non-negative number"},
      {"10.0.0.0/8,dc-ap,-1\n", "rtt.csv:1: rtt_ms '-1'"},
      {"10.0.0.0/8,dc-mars,1\n", "rtt.csv:1: unknown datacenter 'dc-mars'"},
      {"10.0.0.0/8,dc-ap,1\n10.0.0.0/8,dc-ap,2\n",
       "rtt.csv:2: 10.0.0.0/8 -> dc-ap already measured at rtt.csv:1"},
  };
  for (const BadInput& b : cases) {
    GeoMapConfig c = CityConfig();
    c.database_path.clear();
    auto rows = ParseLatencyCsv(b.text, "rtt.csv");
    absl::Status s = rows.status();
    if (rows.ok()) {
      c.latency = *rows;
      s = CompileGeoMap(c).status();
    }
    EXPECT_THAT(std::string(s.message()), HasSubstr(b.message)) << b.text;
  }
}

TEST(GeoCompiler, RulesByContinentCountryAndSubdivision) {
  GeoMapConfig c = CityConfig();
  c.mode = GeoMode::kRules;
  c.continent_rules = {{"EU", {"dc-eu", "dc-us"}}, {"AS", {"dc-ap"}}};
  c.country_rules = {{"US", {"dc-us"}}, {"SE", {"dc-us", "dc-eu"}}};
  c.subdivision_rules = {{"GB-WBK", {"dc-ap", "dc-eu"}}, {"GB-ENG", {"dc-us", "dc-ap"}}};
  c.default_datacenters = {"dc-eu"};

  c.database_path = kData + "GeoLite2-Country-Test.mmdb";        // no subdivisions: rules on them
  EXPECT_THAT(std::string(CompileGeoMap(c).status().message()),  // could never match
              HasSubstr("rules.subdivision needs subdivisions[].iso_code, but database type "
                        "GeoLite2-Country"));
  c.subdivision_rules.clear();
  {
    const CompiledGeoMap map = MustCompile(c);
    const PointRow rows[] = {
        {"81.2.69.160", "eu,us"},    // GB: continent EU
        {"89.160.20.112", "us,eu"},  // SE: country rule
        {"216.160.83.56", "us"},     // US
        {"2001:218::1", "ap"},       // JP: continent AS
        {"198.18.0.1", "eu"},        // unknown: default
    };
    for (const PointRow& r : rows) EXPECT_EQ(Ask(map, r.addr).dcs, r.dcs) << "Country " << r.addr;
  }
  c.database_path = kCity;
  c.subdivision_rules = {{"GB-WBK", {"dc-ap", "dc-eu"}}, {"GB-ENG", {"dc-us", "dc-ap"}}};
  {
    const CompiledGeoMap map = MustCompile(c);
    const PointRow rows[] = {
        {"81.2.69.160", "us,ap"},    // GB-ENG beats GB's continent
        {"2.125.160.216", "ap,eu"},  // ENG then WBK: the most specific (last) subdivision wins
        {"2.3.3.1", "eu,us"},        // continent only in the record
        {"2001:218::1", "ap"},       // JP: continent AS
    };
    for (const PointRow& r : rows) EXPECT_EQ(Ask(map, r.addr).dcs, r.dcs) << "City " << r.addr;
  }
}

// A database that cannot serve the mode would hand every client the default list: refused,
// naming the database type. Rows: database, mode, rules (continent, country, subdivision).
TEST(GeoCompiler, ADatabaseThatCannotServeTheModeIsRefusedNamingItsType) {
  struct Row {
    const char* database;
    GeoMode mode;
    bool continent, country, subdivision;
    const char* refusal;  // "" = accepted
  } rows[] = {
      {"GeoIP2-City-Test.mmdb", GeoMode::kNearest, false, false, false, ""},
      {"GeoLite2-City-Test.mmdb", GeoMode::kNearest, false, false, false, ""},
      {"GeoLite2-Country-Test.mmdb", GeoMode::kNearest, false, false, false,
       "mode nearest needs coordinates (location.latitude/longitude), but database type "
       "GeoLite2-Country ("},
      {"GeoLite2-ASN-Test.mmdb", GeoMode::kNearest, false, false, false,
       "mode nearest needs coordinates (location.latitude/longitude), but database type "
       "GeoLite2-ASN ("},
      {"GeoLite2-Country-Test.mmdb", GeoMode::kRules, true, true, false, ""},
      {"GeoLite2-Country-Test.mmdb", GeoMode::kRules, false, false, true,
       "rules.subdivision needs subdivisions[].iso_code, but database type GeoLite2-Country"},
      {"GeoLite2-ASN-Test.mmdb", GeoMode::kRules, false, true, false,
       "rules.country needs country.iso_code, but database type GeoLite2-ASN"},
      {"GeoLite2-ASN-Test.mmdb", GeoMode::kRules, true, false, false,
       "rules.continent needs continent.code, but database type GeoLite2-ASN"},
      {"GeoLite2-ASN-Test.mmdb", GeoMode::kRules, false, false, false, ""},  // nothing read
      {"GeoIP2-City-Test.mmdb", GeoMode::kRules, true, true, true, ""},
  };
  for (const Row& r : rows) {
    GeoMapConfig c = CityConfig();
    c.database_path = kData + r.database;
    c.mode = r.mode;
    if (r.continent) c.continent_rules = {{"EU", {"dc-eu"}}};
    if (r.country) c.country_rules = {{"US", {"dc-us"}}};
    if (r.subdivision) c.subdivision_rules = {{"GB-ENG", {"dc-eu"}}};
    const absl::Status s = CompileGeoMap(c).status();
    if (*r.refusal == '\0') {
      EXPECT_TRUE(s.ok()) << r.database << ": " << s;
    } else {
      EXPECT_THAT(std::string(s.message()),
                  AllOf(HasSubstr("geo map 'test': "), HasSubstr(r.refusal),
                        HasSubstr(c.database_path), HasSubstr("records")))
          << r.database;
    }
  }
}

TEST(GeoCompiler, MergingJoinsNeighboursWithTheSameList) {
  GeoMapConfig c = CityConfig();
  const CompiledGeoMap three = MustCompile(c);
  EXPECT_GT(three.stats.database_networks, 100u);
  EXPECT_LT(three.stats.networks_after_merge, three.stats.networks_before_merge);

  c.datacenters.resize(1);  // one datacenter: every list is the same
  const CompiledGeoMap one = MustCompile(c);
  EXPECT_EQ(one.stats.v4_networks, 1u);
  EXPECT_EQ(Ask(one, "81.2.69.160").scope, 0);
  // IPv6 keeps the IPv4-embedding ranges apart (their entries are never read, but a network
  // spanning them would report a scope that covers clients answered from the IPv4 table).
  EXPECT_LT(one.stats.v6_networks, 400u);
  EXPECT_EQ(Ask(one, "2a02:d3c0::1").dcs, "ap");
  EXPECT_LT(Ask(one, "2a02:d3c0::1").scope, 16);
}

TEST(GeoCompiler, OtherTreeLayoutsCompile) {
  for (const char* f : {"MaxMind-DB-test-mixed-24.mmdb", "MaxMind-DB-no-ipv4-search-tree.mmdb",
                        "GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}) {
    GeoMapConfig c = CityConfig();
    c.database_path = kData + f;
    c.mode = GeoMode::kRules;  // no rules: reads no field, so any layout of records will do
    auto m = CompileGeoMap(c);
    ASSERT_TRUE(m.ok()) << f << ": " << m.status();
    EXPECT_TRUE(ValidatePrefixTable(m->view(), m->lists.size()).ok()) << f;
  }
  GeoMapConfig c = CityConfig();
  c.database_path = kData + "GeoLite2-City-Test.mmdb";
  const CompiledGeoMap lite = MustCompile(c);
  EXPECT_EQ(Ask(lite, "81.2.69.160").dcs, "eu,us,ap");
  EXPECT_EQ(Ask(lite, "175.16.199.1").dcs, "ap,eu,us");
}

// Every address answered like the database says: for random addresses that libmaxminddb finds
// with coordinates, the compiled list is the distance order from those coordinates.
TEST(GeoCompiler, AgreesWithLibmaxminddbOnRandomAddresses) {
  GeoMapConfig c = CityConfig();
  const CompiledGeoMap map = MustCompile(c);
  MMDB_s mmdb;
  ASSERT_EQ(MMDB_open(kCity.c_str(), MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS);
  std::mt19937_64 rng(3);
  int with_location = 0;
  for (int i = 0; i < 20000; ++i) {
    char text[64];
    // Inside the database's populated /8s and /16s so that most addresses hit a record.
    static const char* const kBases[] = {"81.2.69.%d",    "2.125.160.%d",  "89.160.20.%d",
                                         "216.160.83.%d", "175.16.199.%d", "2a02:%x::1"};
    const int k = static_cast<int>(rng() % 6);
    std::snprintf(text, sizeof(text), kBases[k], k == 5 ? 0xcf40 + rng() % 0x30c0 : rng() % 256);
    int gai = 0, err = 0;
    MMDB_lookup_result_s r = MMDB_lookup_string(&mmdb, text, &gai, &err);
    ASSERT_EQ(err, MMDB_SUCCESS);
    MMDB_entry_data_s lat, lon;
    if (!r.found_entry ||
        MMDB_get_value(&r.entry, &lat, "location", "latitude", nullptr) != MMDB_SUCCESS ||
        MMDB_get_value(&r.entry, &lon, "location", "longitude", nullptr) != MMDB_SUCCESS ||
        !lat.has_data || !lon.has_data) {
      continue;
    }
    ++with_location;
    std::vector<std::pair<double, std::string>> order;
    for (const Datacenter& dc : c.datacenters) {
      order.emplace_back(
          GreatCircleKm(lat.double_value, lon.double_value, dc.latitude, dc.longitude),
          dc.name.substr(3));
    }
    std::sort(order.begin(), order.end());
    std::vector<std::string> names;
    for (const auto& [km, n] : order) names.push_back(n);
    ASSERT_EQ(Ask(map, text).dcs, absl::StrJoin(names, ",")) << text;
  }
  MMDB_close(&mmdb);
  EXPECT_GT(with_location, 5000);
}

TEST(GeoCompiler, BrokenDatabasesAreRefusedWithAMessage) {
  const std::string truncated = ::testing::TempDir() + "/truncated-city.mmdb";
  {
    std::ifstream in(kCity, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const std::string cut_tree = ::testing::TempDir() + "/cut-tree-city.mmdb";
  {
    // The metadata intact, but the search tree's records overwritten with junk pointing past
    // the data section.
    std::ifstream in(kCity, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t i = 600; i < 1200; ++i) bytes[i] = '\xff';
    std::ofstream(cut_tree, std::ios::binary) << bytes;
  }
  const std::string paths[] = {
      kData + "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
      kData + "GeoIP2-City-Test-Broken-Double-Format.mmdb",
      kData + "MaxMind-DB-test-broken-search-tree-24.mmdb",
      kData + "MaxMind-DB-test-broken-pointers-24.mmdb",
      truncated,
      cut_tree,
      kData + "does-not-exist.mmdb",
      kData + "README.md",
  };
  for (const std::string& p : paths) {
    GeoMapConfig c = CityConfig();
    c.database_path = p;
    auto m = CompileGeoMap(c);
    ASSERT_FALSE(m.ok()) << p << " was accepted";
    EXPECT_THAT(std::string(m.status().message()), AllOf(HasSubstr("geo map 'test'"), HasSubstr(p)))
        << m.status();
    std::printf("  refused: %s\n", std::string(m.status().message()).c_str());
  }
}

TEST(GeoCompiler, BadConfigsAreRefused) {
  struct Case {
    void (*edit)(GeoMapConfig&);
    const char* message;
  };
  const Case cases[] = {
      {[](GeoMapConfig& c) { c.datacenters.clear(); }, "no datacenters"},
      {[](GeoMapConfig& c) {
         c.datacenters.push_back({"dc-ap", 0, 0});
       },
       "'dc-ap' defined twice"},
      {[](GeoMapConfig& c) { c.datacenters[0].latitude = 91; }, "out of range"},
      {[](GeoMapConfig& c) { c.max_datacenters = 17; }, "max datacenters 17"},
      {[](GeoMapConfig& c) { c.country_rules["GB"] = {"dc-eu"}; }, "only used in rules mode"},
      {[](GeoMapConfig& c) { c.default_datacenters = {"dc-x"}; }, "default: unknown datacenter"},
      {[](GeoMapConfig& c) {
         c.mode = GeoMode::kRules;
         c.continent_rules["EU"] = {};
       },
       "rule 'EU': empty datacenter list"},
  };
  for (const Case& k : cases) {
    GeoMapConfig c = CityConfig();
    k.edit(c);
    EXPECT_THAT(std::string(CompileGeoMap(c).status().message()), HasSubstr(k.message));
  }
}

}  // namespace
}  // namespace sextant::control
