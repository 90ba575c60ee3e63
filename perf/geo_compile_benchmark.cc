// geo_compile_benchmark: what a geo map costs to build and to use.
//
// Compile mode (default): CompileGeoMap on a MaxMind DB (make a big one with make_city_mmdb) with
// N datacenters in nearest mode; prints wall time, peak RSS (getrusage ru_maxrss), networks
// before/after merging, distinct lists, serialized table size, and the wall time per lookup over
// random addresses. --save_table keeps the table for counting mode.
//
// Counting mode (--load_table): runs exactly --count lookups of one family over a fixed array
// of random addresses, or the same loop without the lookup (--empty), so that under callgrind
//   instructions per lookup = (Ir(lookup loop) - Ir(empty loop)) / count
// (perf/callgrind_geo_lookup.sh does that).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "control/geo/geo_compiler.h"
#include "maps/prefix_table.h"

namespace {

using sextant::control::CompiledGeoMap;
using sextant::control::Datacenter;
using sextant::control::SerializedPrefixTable;
using sextant::maps::kFamilyIpv4;
using sextant::maps::kFamilyIpv6;
using sextant::maps::LookupResult;
using sextant::maps::PrefixTableView;

const Datacenter kDatacenters[] = {
    {"dc-lon", 51.51, -0.13},   {"dc-nyc", 40.71, -74.01},  {"dc-tyo", 35.68, 139.69},
    {"dc-sin", 1.35, 103.82},   {"dc-fra", 50.11, 8.68},    {"dc-sjc", 37.34, -121.89},
    {"dc-syd", -33.87, 151.21}, {"dc-gru", -23.55, -46.63}, {"dc-jnb", -26.20, 28.05},
    {"dc-bom", 19.08, 72.88},
};

double PeakRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // Linux: kilobytes
}

// Random addresses: IPv4 anywhere, IPv6 in 2000::/3 (where the generated database has data).
std::vector<std::array<uint8_t, 16>> RandomAddresses(int family, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::array<uint8_t, 16>> out(n);
  for (auto& a : out) {
    const uint64_t hi = rng(), lo = rng();
    for (int i = 0; i < 8; ++i) a[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) a[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    if (family == kFamilyIpv6) a[0] = 0x20 | (a[0] & 0x1f);
  }
  return out;
}

bool SaveTable(const std::string& path, const CompiledGeoMap& map) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const uint64_t header[3] = {map.table.v4.size(), map.table.v6.size(), map.lists.size()};
  f.write(reinterpret_cast<const char*>(header), sizeof(header));
  f.write(reinterpret_cast<const char*>(map.table.v4.data()), map.table.v4.size() * 4);
  f.write(reinterpret_cast<const char*>(map.table.v6.data()), map.table.v6.size() * 4);
  return static_cast<bool>(f);
}

bool LoadTable(const std::string& path, SerializedPrefixTable* t, uint64_t* lists) {
  std::ifstream f(path, std::ios::binary);
  uint64_t header[3];
  if (!f.read(reinterpret_cast<char*>(header), sizeof(header))) return false;
  t->v4.resize(header[0]);
  t->v6.resize(header[1]);
  *lists = header[2];
  f.read(reinterpret_cast<char*>(t->v4.data()), header[0] * 4);
  f.read(reinterpret_cast<char*>(t->v6.data()), header[1] * 4);
  return static_cast<bool>(f);
}

// Kept out of line so that both loops compile the same way around the lookup.
__attribute__((noinline)) uint64_t LookupLoop(const PrefixTableView& view,
                                              const std::vector<std::array<uint8_t, 16>>& addrs,
                                              int family, uint64_t count) {
  uint64_t sum = 0;
  const int source = family == kFamilyIpv4 ? 32 : 128;
  for (uint64_t i = 0, j = 0; i < count; ++i) {
    const LookupResult r = sextant::maps::Lookup(view, addrs[j].data(), family, source);
    sum += r.list + r.scope;
    if (++j == addrs.size()) j = 0;
  }
  return sum;
}

__attribute__((noinline)) uint64_t EmptyLoop(const PrefixTableView& view,
                                             const std::vector<std::array<uint8_t, 16>>& addrs,
                                             int family, uint64_t count) {
  uint64_t sum = 0;
  for (uint64_t i = 0, j = 0; i < count; ++i) {
    const LookupResult r{addrs[j][0], addrs[j][1]};
    sum += r.list + r.scope;
    if (++j == addrs.size()) j = 0;
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Geo map compile time, memory and table size; lookup cost"};
  std::string mmdb, save_table, load_table;
  int dcs = 5;
  int family = 4;
  uint64_t count = 1000000;
  bool empty = false;
  app.add_option("--mmdb", mmdb, "MaxMind DB to compile");
  app.add_option("--dcs", dcs, "datacenters (3..10)")->check(CLI::Range(3, 10));
  app.add_option("--save_table", save_table, "write the compiled table here");
  app.add_option("--load_table", load_table, "counting mode: table written by --save_table");
  app.add_option("--family", family, "counting mode: 4 or 6")->check(CLI::IsMember({4, 6}));
  app.add_option("--count", count, "lookups (counting mode, and timed lookups per family)");
  app.add_flag("--empty", empty, "counting mode: the loop without the lookup");
  CLI11_PARSE(app, argc, argv);

  const int fam = family == 4 ? kFamilyIpv4 : kFamilyIpv6;
  if (!load_table.empty()) {
    SerializedPrefixTable t;
    uint64_t lists = 0;
    if (!LoadTable(load_table, &t, &lists)) {
      std::fprintf(stderr, "cannot read %s\n", load_table.c_str());
      return 1;
    }
    if (auto s = sextant::maps::ValidatePrefixTable(t.view(), lists); !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
    const auto addrs = RandomAddresses(fam, 4096, 7);
    const uint64_t sum =
        empty ? EmptyLoop(t.view(), addrs, fam, count) : LookupLoop(t.view(), addrs, fam, count);
    std::printf("%s %llu lookups, checksum %llu\n", empty ? "empty" : "lookup",
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(sum));
    return 0;
  }
  if (mmdb.empty()) {
    std::fprintf(stderr, "--mmdb or --load_table is required\n");
    return 1;
  }

  sextant::control::GeoMapConfig config;
  config.name = "bench";
  config.database_path = mmdb;
  config.datacenters.assign(kDatacenters, kDatacenters + dcs);
  const double rss_before = PeakRssMiB();
  const auto t0 = std::chrono::steady_clock::now();
  auto map = sextant::control::CompileGeoMap(config);
  const double compile_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!map.ok()) {
    std::fprintf(stderr, "%s\n", std::string(map.status().message()).c_str());
    return 1;
  }
  const auto& st = map->stats;
  std::printf("database %s: %llu networks, %llu distinct records\n", st.database_type.c_str(),
              static_cast<unsigned long long>(st.database_networks),
              static_cast<unsigned long long>(st.database_records));
  std::printf("compile with %d datacenters: %.2f s wall, peak RSS %.0f MiB (%.0f MiB before)\n",
              dcs, compile_s, PeakRssMiB(), rss_before);
  std::printf("networks: %llu before merging, %llu after (IPv4 %llu, IPv6 %llu); %zu lists\n",
              static_cast<unsigned long long>(st.networks_before_merge),
              static_cast<unsigned long long>(st.networks_after_merge),
              static_cast<unsigned long long>(st.v4_networks),
              static_cast<unsigned long long>(st.v6_networks), map->lists.size());
  std::printf("table: %.2f MiB (IPv4 %.2f MiB, %zu chunks; IPv6 %.2f MiB, %zu chunks)\n",
              map->table.bytes() / 1048576.0, map->table.v4.size() * 4 / 1048576.0,
              map->table.v4.size() / 256 - 256, map->table.v6.size() * 4 / 1048576.0,
              map->table.v6.size() / 256 - 256);
  const auto v0 = std::chrono::steady_clock::now();
  if (auto s = sextant::maps::ValidatePrefixTable(map->view(), map->lists.size()); !s.ok()) {
    std::fprintf(stderr, "validate: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf(
      "validate: %.1f ms\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - v0).count());
  for (int f : {kFamilyIpv4, kFamilyIpv6}) {
    // Addresses spread over the whole table: mostly cache misses, the dataplane's worst case.
    const auto addrs = RandomAddresses(f, 1 << 20, 11);
    const auto l0 = std::chrono::steady_clock::now();
    const uint64_t sum = LookupLoop(map->view(), addrs, f, count);
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - l0).count();
    std::printf("lookup %s: %.1f ns per lookup over %llu random addresses (checksum %llu)\n",
                f == kFamilyIpv4 ? "IPv4" : "IPv6", ns / count,
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(sum));
  }
  if (!save_table.empty() && !SaveTable(save_table, *map)) {
    std::fprintf(stderr, "cannot write %s\n", save_table.c_str());
    return 1;
  }
  return 0;
}
