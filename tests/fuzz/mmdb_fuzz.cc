// libFuzzer target for the geo compiler on MaxMind DB bytes (control/geo/geo_compiler.h): the
// input is written to a file, opened with libmaxminddb (metadata, search tree size) and walked
// node by node, every data record decoded, in nearest mode and in rules mode. A database comes
// from a vendor's download, unattended: a corrupt one must be refused with a message, never half
// used, never crash or hang control.
//
// A map the compiler accepts must be one the dataplane will accept: its prefix table passes the
// reader's validation (ValidatePrefixTable: chunk numbers, no cycles, every leaf's list id below
// the list count), every list names known datacenters, and lookups of a spread of addresses land
// on a list.
//
// Seeds: tests/fuzz/mmdb_corpus/ holds the MaxMind test databases (City, Country, ASN, the
// broken ones); run_fuzz.sh copies them in.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "control/geo/geo_compiler.h"
#include "maps/prefix_table.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sextant::fuzz::Require;

using sextant::control::GeoMapConfig;
using sextant::control::GeoMode;

const std::string& DatabasePath() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/mmdb_fuzz.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    return std::string(tmpl) + "/fuzz.mmdb";
  }();
  static const bool removed_at_exit = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(path).parent_path(), ec);
    });
    return true;
  }();
  (void)removed_at_exit;
  return path;
}

GeoMapConfig Config(GeoMode mode) {
  GeoMapConfig c;
  c.name = "fuzz";
  c.database_path = DatabasePath();
  c.datacenters = {{"dc-ap", 1.35, 103.82}, {"dc-us", 40.71, -74.01}, {"dc-eu", 51.51, -0.13}};
  c.mode = mode;
  if (mode == GeoMode::kRules) {
    c.continent_rules = {{"EU", {"dc-eu"}}, {"AS", {"dc-ap", "dc-eu"}}};
    c.country_rules = {{"US", {"dc-us"}}, {"GB", {"dc-eu", "dc-us"}}};
    c.subdivision_rules = {{"US-CA", {"dc-us", "dc-ap"}}};
    c.default_datacenters = {"dc-us"};
  } else {
    c.max_datacenters = 2;
  }
  return c;
}

void CheckMap(const sextant::control::CompiledGeoMap& map) {
  Require(map.datacenters.size() == 3 && !map.lists.empty());
  for (const auto& list : map.lists) {
    Require(list.count >= 1 && list.count <= sextant::maps::kMaxDcsPerList);
    for (int i = 0; i < list.count; ++i) Require(list.dcs[i] < map.datacenters.size());
  }
  const auto view = map.view();
  Require(sextant::maps::ValidatePrefixTable(view, static_cast<uint32_t>(map.lists.size())).ok());
  uint8_t addr[16] = {};
  for (int i = 0; i < 64; ++i) {
    addr[0] = static_cast<uint8_t>(i * 4 + 1);
    addr[1] = static_cast<uint8_t>(i * 37);
    const auto v4 = sextant::maps::Lookup(view, addr, sextant::maps::kFamilyIpv4, 32);
    Require(v4.list < map.lists.size() && v4.scope >= 0 && v4.scope <= 32);
    addr[0] = 0x20;
    const auto v6 = sextant::maps::Lookup(view, addr, sextant::maps::kFamilyIpv6, 56);
    Require(v6.list < map.lists.size() && v6.scope >= 0 && v6.scope <= 128);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(DatabasePath(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  for (GeoMode mode : {GeoMode::kNearest, GeoMode::kRules}) {
    auto map = sextant::control::CompileGeoMap(Config(mode));
    if (!map.ok()) {
      Require(!map.status().message().empty());
      continue;
    }
    CheckMap(*map);
  }
  return 0;
}
