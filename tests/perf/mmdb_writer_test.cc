// perf/mmdb_writer.h, the MaxMind DB writer behind the scale benchmark: what it writes,
// libmaxminddb reads back (every record size, both IP versions, IPv4 aliases, all value types),
// and CompileGeoMap walks it like MaxMind's own databases.
#include "perf/mmdb_writer.h"

#include <arpa/inet.h>
#include <maxminddb.h>

#include <fstream>
#include <string>
#include <vector>

#include "control/geo/geo_compiler.h"
#include "gtest/gtest.h"

namespace sextant::perf {
namespace {

using T = MmdbValue::Type;

struct Place {
  const char* network;  // in the database's own notation (IPv4 networks in IPv6 as ::a.b.c.d)
  int len;
  double lat, lon;
  const char* city;
};

// London, New York, Tokyo.
const Place kPlaces[] = {
    {"::81.2.69.0", 96 + 24, 51.5, -0.1, "London"},
    {"::216.160.0.0", 96 + 16, 40.7, -74.0, "New York"},
    {"2001:218::", 32, 35.7, 139.7, "Tokyo"},
    {"2a02:d3c0::", 29, 51.0, -1.0, "Winchester"},
};

std::string WriteDb(int ip_version, int record_size) {
  MmdbWriter w(ip_version, record_size);
  // Pad the data section so that 28/32-bit records and 2- and 3-byte pointers really occur.
  std::string padding(ip_version == 6 && record_size > 24 ? 700000 : 10, 'x');
  w.AddData(MmdbValue::String(padding));
  for (const Place& p : kPlaces) {
    uint8_t a[16] = {};
    inet_pton(AF_INET6, p.network, a);
    const bool is_v4 = p.len > 96 && a[0] == 0 && a[10] == 0;
    if (ip_version == 4 && !is_v4) continue;
    const uint32_t off = w.AddData(MmdbValue::Map({
        {"city", MmdbValue::Map({{"names", MmdbValue::Map({{"en", MmdbValue::String(p.city)}})}})},
        {"location", MmdbValue::Map({{"latitude", MmdbValue::Double(p.lat)},
                                     {"longitude", MmdbValue::Double(p.lon)},
                                     {"accuracy_radius", MmdbValue::Uint(T::kUint16, 100)}})},
        {"is_anycast", MmdbValue::Bool(true)},
        {"geoname_id", MmdbValue::Uint(T::kUint32, 2643743)},
        {"big", MmdbValue::Uint(T::kUint64, 1ull << 40)},
        {"tags", MmdbValue::Array({MmdbValue::String("a"), MmdbValue::String("b")})},
        {"padding", MmdbValue::Pointer(0)},
    }));
    if (ip_version == 4) {
      w.Insert(a + 12, p.len - 96, off);
    } else {
      w.Insert(a, p.len, off);
    }
  }
  if (ip_version == 6) w.AliasIpv4();
  const std::vector<uint8_t> db = w.Build("GeoIP2-City", {"en", "de"}, 1700000000);
  const std::string path = ::testing::TempDir() + "/writer-v" + std::to_string(ip_version) + "-" +
                           std::to_string(record_size) + ".mmdb";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(db.data()), static_cast<std::streamsize>(db.size()));
  return path;
}

struct LookupRow {
  const char* addr;
  const char* city;  // nullptr: not found
  int netmask;       // as libmaxminddb reports it for an IPv6 database
};

TEST(MmdbWriter, LibmaxminddbReadsWhatItWrites) {
  const LookupRow v6_rows[] = {
      {"81.2.69.160", "London", 120},     {"::ffff:81.2.69.160", "London", 120},
      {"2002:5102:4500::", "London", 40}, {"216.160.83.56", "New York", 112},
      {"2001:218::1", "Tokyo", 32},       {"2a02:d3c0::1", "Winchester", 29},
      {"198.18.0.1", nullptr, 0},
  };
  for (int ip_version : {4, 6}) {
    for (int record_size : {24, 28, 32}) {
      const std::string path = WriteDb(ip_version, record_size);
      MMDB_s mmdb;
      ASSERT_EQ(MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS) << path;
      EXPECT_EQ(mmdb.metadata.record_size, record_size);
      EXPECT_EQ(mmdb.metadata.ip_version, ip_version);
      EXPECT_STREQ(mmdb.metadata.database_type, "GeoIP2-City");
      EXPECT_EQ(mmdb.metadata.languages.count, 2u);
      for (const LookupRow& r : v6_rows) {
        const bool v6_addr = std::string(r.addr).find(':') != std::string::npos;
        if (ip_version == 4 && v6_addr) continue;
        int gai = 0, err = 0;
        MMDB_lookup_result_s res = MMDB_lookup_string(&mmdb, r.addr, &gai, &err);
        ASSERT_EQ(err, MMDB_SUCCESS) << r.addr;
        ASSERT_EQ(res.found_entry, r.city != nullptr) << path << " " << r.addr;
        if (!r.city) continue;
        EXPECT_EQ(res.netmask, ip_version == 4 ? r.netmask - 96 : r.netmask) << r.addr;
        MMDB_entry_data_s d;
        ASSERT_EQ(MMDB_get_value(&res.entry, &d, "city", "names", "en", nullptr), MMDB_SUCCESS);
        EXPECT_EQ(std::string(d.utf8_string, d.data_size), r.city);
        ASSERT_EQ(MMDB_get_value(&res.entry, &d, "is_anycast", nullptr), MMDB_SUCCESS);
        EXPECT_TRUE(d.boolean);
        ASSERT_EQ(MMDB_get_value(&res.entry, &d, "big", nullptr), MMDB_SUCCESS);
        EXPECT_EQ(d.uint64, 1ull << 40);
        ASSERT_EQ(MMDB_get_value(&res.entry, &d, "tags", "1", nullptr), MMDB_SUCCESS);
        EXPECT_EQ(std::string(d.utf8_string, d.data_size), "b");
        ASSERT_EQ(MMDB_get_value(&res.entry, &d, "padding", nullptr), MMDB_SUCCESS);
        EXPECT_EQ(d.type, MMDB_DATA_TYPE_UTF8_STRING);
      }
      MMDB_entry_data_list_s* list = nullptr;
      int gai = 0, err = 0;
      MMDB_lookup_result_s res = MMDB_lookup_string(&mmdb, "81.2.69.1", &gai, &err);
      ASSERT_TRUE(res.found_entry);
      EXPECT_EQ(MMDB_get_entry_data_list(&res.entry, &list), MMDB_SUCCESS);
      MMDB_free_entry_data_list(list);
      MMDB_close(&mmdb);

      // The compiler walks it: London's network prefers the London datacenter.
      control::GeoMapConfig c;
      c.name = "writer";
      c.database_path = path;
      c.datacenters = {{"dc-ap", 35.68, 139.69}, {"dc-us", 40.71, -74.01}, {"dc-eu", 51.51, -0.13}};
      auto m = control::CompileGeoMap(c);
      ASSERT_TRUE(m.ok()) << m.status();
      const uint8_t london[4] = {81, 2, 69, 160};
      const maps::LookupResult r = maps::Lookup(m->view(), london, maps::kFamilyIpv4, 32);
      EXPECT_EQ(m->lists[r.list].dcs[0], 2) << path;
      EXPECT_EQ(r.scope, 24) << path;
    }
  }
}

}  // namespace
}  // namespace sextant::perf
