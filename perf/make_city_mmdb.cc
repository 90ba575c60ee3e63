// make_city_mmdb: writes a GeoIP2-City-like MaxMind DB of realistic size (millions of IPv4 and
// IPv6 networks) for the geo compile benchmark, then checks it with libmaxminddb: MMDB_open and
// a lookup of a sample of the written networks, which must return the written network length and
// coordinates.
//
// Realistic in the ways that matter to the compiler: networks of all lengths (/8../32 in IPv4,
// /3../64 in IPv6, from a random binary split of a network budget), some empty space, City
// records shared by many networks (a pool per region), neighbouring networks mostly in the same
// region (so merging has something to merge), and IPv4 inside the IPv6 tree at ::/96 with the
// usual aliases.
//
//   make_city_mmdb --out /tmp/city3m.mmdb [--networks 3100000] [--v6_share 0.35]
//                  [--regions 64] [--cities_per_region 300] [--record_size 0=auto] [--seed 1]
//                  [--points points.txt]
//
// --points writes the checked sample networks with their coordinates, "network latitude
// longitude" a line (IPv4 networks as ::a.b.c.d/1xx), for perf/make_query_pcap.py --geo-points:
// ECS client networks whose nearest datacenter is known.
#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "perf/mmdb_writer.h"

namespace {

using sextant::perf::MmdbValue;
using sextant::perf::MmdbWriter;
using T = MmdbValue::Type;

struct City {
  uint32_t offset;  // in the data section
  double lat, lon;
};

struct Sample {
  uint8_t addr[16];
  int len;  // in the tree (IPv4 networks: 96 + length)
  int city;
};

struct Generator {
  std::mt19937_64 rng;
  std::vector<std::vector<int>> region_cities;  // region -> city indices
  std::vector<City> cities;
  std::vector<Sample> samples;
  MmdbWriter* writer;
  uint64_t emitted = 0;
  uint64_t empty = 0;
  int sample_every = 300;

  double Uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }

  // Splits `budget` networks over addr/depth: a random share to each half until one is left.
  void Split(uint8_t* addr, int depth, uint64_t budget, int max_depth, int region_depth, int region,
             int tree_offset) {
    if (depth == region_depth) {
      region = static_cast<int>(rng() % region_cities.size());
    }
    if (budget <= 1 || depth == max_depth) {
      Emit(addr, depth, region, tree_offset);
      return;
    }
    const double f = Uniform(0.15, 0.85);
    uint64_t left = static_cast<uint64_t>(std::llround(budget * f));
    if (left < 1) left = 1;
    if (left >= budget) left = budget - 1;
    Split(addr, depth + 1, left, max_depth, region_depth, region, tree_offset);
    const int bit = tree_offset + depth;
    addr[bit / 8] |= 0x80 >> (bit % 8);
    Split(addr, depth + 1, budget - left, max_depth, region_depth, region, tree_offset);
    addr[bit / 8] &= ~(0x80 >> (bit % 8));
  }

  void Emit(const uint8_t* addr, int depth, int region, int tree_offset) {
    if (depth == 0) return;
    if (rng() % 100 == 0) {  // 1% of space without data
      ++empty;
      return;
    }
    const auto& pool = region_cities[region < 0 ? 0 : region];
    // 5% of networks are placed anywhere in the world (anycast, mobile, mislabelled blocks).
    const int city =
        rng() % 20 == 0 ? static_cast<int>(rng() % cities.size()) : pool[rng() % pool.size()];
    writer->Insert(addr, tree_offset + depth, cities[city].offset);
    if (emitted++ % sample_every == 0) {
      Sample s;
      std::memcpy(s.addr, addr, 16);
      s.len = tree_offset + depth;
      s.city = city;
      samples.push_back(s);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a GeoIP2-City-like MaxMind DB with millions of networks and check it"};
  std::string out_path;
  std::string points_path;
  uint64_t networks = 3100000;  // ~1% become empty space: >= 3M with data
  double v6_share = 0.35;
  int regions = 64;
  int cities_per_region = 300;
  int record_size = 0;
  uint64_t seed = 1;
  app.add_option("--out", out_path, "output .mmdb")->required();
  app.add_option("--networks", networks, "networks to write (IPv4 + IPv6, approximately)");
  app.add_option("--v6_share", v6_share, "share of IPv6 networks");
  app.add_option("--regions", regions, "regions (each a pool of nearby cities)");
  app.add_option("--cities_per_region", cities_per_region, "City records per region");
  app.add_option("--record_size", record_size, "24, 28 or 32; 0 = smallest that fits");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--points", points_path, "also write the checked samples with coordinates");
  CLI11_PARSE(app, argc, argv);

  const auto t0 = std::chrono::steady_clock::now();
  // Node count is about the network count plus the ::/96 path; records must hold node_count +
  // 16 + data size.
  const uint64_t expect_records =
      networks * 2 + 200 + 16 + static_cast<uint64_t>(regions) * cities_per_region * 400;
  if (record_size == 0) record_size = expect_records < (1u << 24) ? 24 : 28;
  MmdbWriter writer(6, record_size);
  Generator gen;
  gen.rng.seed(seed);
  gen.writer = &writer;

  static const char* const kContinents[] = {"AF", "AS", "EU", "NA", "OC", "SA"};
  std::vector<uint32_t> continent_offsets;
  for (const char* c : kContinents) {
    continent_offsets.push_back(writer.AddData(MmdbValue::Map({
        {"code", MmdbValue::String(c)},
        {"geoname_id", MmdbValue::Uint(T::kUint32, 6255146 + continent_offsets.size())},
        {"names", MmdbValue::Map({{"en", MmdbValue::String(std::string("Continent ") + c)}})},
    })));
  }
  for (int r = 0; r < regions; ++r) {
    const double lat0 = gen.Uniform(-50, 65);
    const double lon0 = gen.Uniform(-180, 180);
    const std::string cc = {static_cast<char>('A' + r / 26 % 26), static_cast<char>('A' + r % 26)};
    const uint32_t country = writer.AddData(MmdbValue::Map({
        {"geoname_id", MmdbValue::Uint(T::kUint32, 1000000 + r)},
        {"iso_code", MmdbValue::String(cc)},
        {"names", MmdbValue::Map({{"en", MmdbValue::String("Country " + cc)}})},
    }));
    const uint32_t continent = continent_offsets[r % continent_offsets.size()];
    gen.region_cities.emplace_back();
    for (int c = 0; c < cities_per_region; ++c) {
      const double lat = std::fmax(-89.9, std::fmin(89.9, lat0 + gen.Uniform(-6, 6)));
      double lon = lon0 + gen.Uniform(-8, 8);
      if (lon > 180) lon -= 360;
      if (lon < -180) lon += 360;
      const int id = static_cast<int>(gen.cities.size());
      const uint32_t off = writer.AddData(MmdbValue::Map({
          {"city",
           MmdbValue::Map({
               {"geoname_id", MmdbValue::Uint(T::kUint32, 2000000 + id)},
               {"names", MmdbValue::Map({{"en", MmdbValue::String("City " + std::to_string(id))}})},
           })},
          {"continent", MmdbValue::Pointer(continent)},
          {"country", MmdbValue::Pointer(country)},
          {"location", MmdbValue::Map({
                           {"accuracy_radius", MmdbValue::Uint(T::kUint16, 20 + id % 200)},
                           {"latitude", MmdbValue::Double(lat)},
                           {"longitude", MmdbValue::Double(lon)},
                           {"time_zone", MmdbValue::String("Etc/UTC")},
                       })},
          {"subdivisions", MmdbValue::Array({MmdbValue::Map({
                               {"iso_code", MmdbValue::String("S" + std::to_string(c % 10))},
                           })})},
      }));
      gen.cities.push_back({off, lat, lon});
      gen.region_cities.back().push_back(id);
    }
  }
  gen.sample_every = std::max<uint64_t>(1, networks / 10000);

  // IPv4 at ::/96: bits 96..127; IPv6 in 2000::/3 down to /64.
  const uint64_t v6_networks = static_cast<uint64_t>(networks * v6_share);
  uint8_t addr[16] = {};
  gen.Split(addr, 0, networks - v6_networks, 32, /*region_depth=*/10, -1, /*tree_offset=*/96);
  const uint64_t v4_emitted = gen.emitted;
  std::memset(addr, 0, 16);
  addr[0] = 0x20;  // 2000::/3
  gen.Split(addr, 3, v6_networks, 64, /*region_depth=*/20, -1, /*tree_offset=*/0);
  writer.AliasIpv4();
  const std::vector<uint8_t> db = writer.Build("GeoIP2-City", {"en"}, 1700000000);
  {
    std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(db.data()), static_cast<std::streamsize>(db.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  const double write_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "wrote %s: %llu networks (%llu IPv4, %llu IPv6), %llu empty, %zu City records, "
      "record size %d, %.1f MiB, data section %.1f MiB, %.2f s\n",
      out_path.c_str(), static_cast<unsigned long long>(gen.emitted),
      static_cast<unsigned long long>(v4_emitted),
      static_cast<unsigned long long>(gen.emitted - v4_emitted),
      static_cast<unsigned long long>(gen.empty), gen.cities.size(), record_size,
      db.size() / 1048576.0, writer.data_size() / 1048576.0, write_s);

  // Read it back with libmaxminddb.
  MMDB_s mmdb;
  int rc = MMDB_open(out_path.c_str(), MMDB_MODE_MMAP, &mmdb);
  if (rc != MMDB_SUCCESS) {
    std::fprintf(stderr, "MMDB_open: %s\n", MMDB_strerror(rc));
    return 1;
  }
  std::FILE* points = nullptr;
  if (!points_path.empty() && (points = std::fopen(points_path.c_str(), "w")) == nullptr) {
    std::fprintf(stderr, "cannot write %s\n", points_path.c_str());
    return 1;
  }
  size_t bad = 0;
  size_t checked = 0;
  for (const Sample& s : gen.samples) {
    // AliasIpv4 replaced whatever was generated in 2001::/32 and 2002::/16.
    const bool aliased =
        (s.addr[0] == 0x20 && s.addr[1] == 0x02) ||
        (s.addr[0] == 0x20 && s.addr[1] == 0x01 && s.addr[2] == 0 && s.addr[3] == 0);
    if (aliased) continue;
    ++checked;
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, s.addr, 16);
    int mmdb_error = 0;
    MMDB_lookup_result_s r =
        MMDB_lookup_sockaddr(&mmdb, reinterpret_cast<sockaddr*>(&sa), &mmdb_error);
    MMDB_entry_data_s lat, lon;
    if (mmdb_error != MMDB_SUCCESS || !r.found_entry || r.netmask != s.len ||
        MMDB_get_value(&r.entry, &lat, "location", "latitude", nullptr) != MMDB_SUCCESS ||
        MMDB_get_value(&r.entry, &lon, "location", "longitude", nullptr) != MMDB_SUCCESS ||
        lat.double_value != gen.cities[s.city].lat || lon.double_value != gen.cities[s.city].lon) {
      if (bad++ < 5) {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, s.addr, buf, sizeof(buf));
        std::fprintf(stderr, "mismatch at %s/%d (found %d, netmask %u)\n", buf, s.len,
                     r.found_entry, r.netmask);
      }
    } else if (points != nullptr) {
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, s.addr, buf, sizeof(buf));
      std::fprintf(points, "%s/%d %.17g %.17g\n", buf, s.len, lat.double_value, lon.double_value);
    }
  }
  MMDB_close(&mmdb);
  if (points != nullptr && std::fclose(points) != 0) {
    std::fprintf(stderr, "cannot write %s\n", points_path.c_str());
    return 1;
  }
  std::printf("checked %zu sampled networks with libmaxminddb: %zu mismatches\n", checked, bad);
  return bad == 0 ? 0 : 1;
}
