// The prefix table: lookups agree with a naive longest-prefix match over random networks and
// random addresses (both families), IPv4-embedding IPv6 addresses are looked up as IPv4 with the
// scope in IPv6 terms, ECS source masking, merging, and Validate refusing damaged tables.
#include "control/geo/prefix_trie.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/prefix_table.h"

namespace sextant::control {
namespace {

using namespace ::sextant::maps;  // NOLINT: the lookups read what the trie builds

using ::testing::HasSubstr;

struct Net {
  uint8_t addr[16];
  int len;
  uint32_t list;
};

int CommonPrefixLength(const uint8_t* a, const uint8_t* b, int max_bits) {
  for (int bit = 0; bit < max_bits; ++bit) {
    const uint8_t m = 0x80 >> (bit % 8);
    if ((a[bit / 8] & m) != (b[bit / 8] & m)) return bit;
  }
  return max_bits;
}

// Naive reference over networks painted shortest first (so longest prefix wins): the list of the
// longest network containing `a`, and, without merging, the depth of the trie leaf holding `a`:
// the trie is split along the path to every network, so that is the largest
// min(len, common prefix + 1) over all networks.
LookupResult Reference(const std::vector<Net>& nets, const uint8_t* a, int max_bits) {
  LookupResult r{0, 0};
  int best = -1;
  for (const Net& n : nets) {
    const int cpl = CommonPrefixLength(a, n.addr, max_bits);
    if (cpl >= n.len && n.len >= best) {
      best = n.len;
      r.list = n.list;
    }
    r.scope = std::max(r.scope, std::min(n.len, cpl + 1));
  }
  return r;
}

std::vector<Net> RandomNets(std::mt19937_64& rng, int max_bits, int count) {
  std::vector<Net> nets;
  for (int i = 0; i < count; ++i) {
    Net n{};
    // Lengths cluster where real tables have them and cross every stride boundary.
    const int lens4[] = {8, 12, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32};
    const int lens6[] = {3, 16, 17, 24, 29, 32, 33, 40, 48, 56, 64, 65, 96, 120, 127, 128};
    n.len = max_bits == 32 ? lens4[rng() % 12] : lens6[rng() % 16];
    for (auto& b : n.addr) b = static_cast<uint8_t>(rng());
    if (max_bits == 128) n.addr[0] = 0x30 | (n.addr[0] & 0x0f);  // 3000::/4: no embedded IPv4
    // Cluster half of them under a few /8s so that networks nest.
    if (i % 2) n.addr[0] = max_bits == 32 ? 10 : 0x3f;
    for (int b = n.len; b < 128; ++b) n.addr[b / 8] &= ~(0x80 >> (b % 8));
    n.list = 1 + static_cast<uint32_t>(rng() % 50);
    nets.push_back(n);
  }
  std::stable_sort(nets.begin(), nets.end(),
                   [](const Net& a, const Net& b) { return a.len < b.len; });
  return nets;
}

TEST(PrefixTable, RandomLookupsMatchNaiveLongestPrefixMatch) {
  std::mt19937_64 rng(42);
  const std::vector<Net> v4 = RandomNets(rng, 32, 300);
  const std::vector<Net> v6 = RandomNets(rng, 128, 300);
  PrefixTrie t4(32, 0), t6(128, 0);
  for (const Net& n : v4) t4.Paint(n.addr, n.len, n.list);
  for (const Net& n : v6) t6.Paint(n.addr, n.len, n.list);
  SerializedPrefixTable table{t4.Flatten(0), t6.Flatten(0)};
  ASSERT_TRUE(ValidatePrefixTable(table.view(), 51).ok());

  for (int i = 0; i < 100000; ++i) {
    const bool v6_case = i % 2;
    const std::vector<Net>& nets = v6_case ? v6 : v4;
    uint8_t a[16];
    if (i % 4 < 2) {
      // Inside or right next to a network: the interesting boundaries.
      std::memcpy(a, nets[rng() % nets.size()].addr, 16);
      a[rng() % (v6_case ? 16 : 4)] ^= static_cast<uint8_t>(1u << (rng() % 8));
    } else {
      for (auto& b : a) b = static_cast<uint8_t>(rng());
    }
    if (v6_case) a[0] = 0x30 | (a[0] & 0x0f);
    const LookupResult want = Reference(nets, a, v6_case ? 128 : 32);
    const LookupResult got =
        Lookup(table.view(), a, v6_case ? kFamilyIpv6 : kFamilyIpv4, v6_case ? 128 : 32);
    ASSERT_EQ(got.list, want.list) << "case " << i;
    ASSERT_EQ(got.scope, want.scope) << "case " << i;
  }
}

TEST(PrefixTable, MergedLookupsKeepTheirListsAndWidenScopes) {
  std::mt19937_64 rng(7);
  std::vector<Net> v4 = RandomNets(rng, 32, 400);
  for (Net& n : v4) n.list = 1 + n.list % 3;  // few lists: many equal neighbours
  PrefixTrie plain(32, 0), merged(32, 0);
  for (const Net& n : v4) plain.Paint(n.addr, n.len, n.list);
  for (const Net& n : v4) merged.Paint(n.addr, n.len, n.list);
  const size_t before = merged.LeafCount();
  merged.Merge();
  EXPECT_LT(merged.LeafCount(), before);
  SerializedPrefixTable a{plain.Flatten(0), PrefixTrie(128, 0).Flatten(0)};
  SerializedPrefixTable b{merged.Flatten(0), PrefixTrie(128, 0).Flatten(0)};
  for (int i = 0; i < 100000; ++i) {
    uint8_t addr[4];
    for (auto& x : addr) x = static_cast<uint8_t>(rng());
    if (i % 2) addr[0] = 10;
    const LookupResult ra = Lookup(a.view(), addr, kFamilyIpv4, 32);
    const LookupResult rb = Lookup(b.view(), addr, kFamilyIpv4, 32);
    ASSERT_EQ(ra.list, rb.list);
    ASSERT_LE(rb.scope, ra.scope);
  }
}

// One small table for the address-form rows: 192.0.2.0/24 -> 1, 198.51.100.0/22 -> 2,
// 2001:db8::/32 -> 3, 2400:cb00::/32 -> 4, everything else 0.
SerializedPrefixTable SmallTable() {
  PrefixTrie t4(32, 0), t6(128, 0);
  const uint8_t n1[4] = {192, 0, 2, 0}, n2[4] = {198, 51, 100, 0};
  t4.Paint(n1, 24, 1);
  t4.Paint(n2, 22, 2);
  uint8_t n3[16] = {0x20, 0x01, 0x0d, 0xb8}, n4[16] = {0x24, 0x00, 0xcb, 0x00};
  t6.Paint(n3, 32, 3);
  t6.Paint(n4, 32, 4);
  return {t4.Flatten(0), t6.Flatten(0)};
}

struct AddressRow {
  const char* addr;
  int source;  // -1: the full length
  uint32_t list;
  int scope;
};

TEST(PrefixTable, AddressFormsAndSourcePrefixes) {
  const SerializedPrefixTable table = SmallTable();
  const AddressRow rows[] = {
      {"192.0.2.77", -1, 1, 24},
      {"192.0.2.77", 24, 1, 24},
      {"192.0.2.77", 16, 0, 23},  // masked to 192.0.0.0: the /23 beside 192.0.2.0/24
      {"198.51.103.1", -1, 2, 22},
      {"198.51.104.1", -1, 0, 21},
      {"203.0.113.9", -1, 0, 5},
      {"::ffff:192.0.2.77", -1, 1, 120},    // IPv4-mapped
      {"::192.0.2.77", -1, 1, 120},         // IPv4-compatible
      {"::ffff:0:192.0.2.77", -1, 1, 120},  // SIIT
      {"64:ff9b::192.0.2.77", -1, 1, 120},  // NAT64 well-known prefix
      {"::ffff:192.0.2.77", 112, 0, 119},   // masked to 192.0.0.0 inside mapped
      {"2002:c000:024d::1", -1, 1, 40},     // 6to4 of 192.0.2.77
      {"2002:c000:024d::", 48, 1, 40},
      {"2002:c633:6401::", 48, 2, 38},                       // 6to4 of 198.51.100.1
      {"2001:0:4136:e378:8000:63bf:3fff:fdb2", -1, 1, 120},  // Teredo, client ~3fff:fdb2
      {"2001:0:4136:e378:8000:63bf:3fff:fdb2", 56, 0, 97},   // client bits unknown
      {"2001:db8::1", -1, 3, 32},
      {"2001:db8:ffff::", 48, 3, 32},
      {"2400:cb00:1::1", 56, 4, 32},
      {"2a00::1", -1, 0, 5},
  };
  for (const AddressRow& r : rows) {
    uint8_t a[16] = {};
    const bool v6 = std::strchr(r.addr, ':') != nullptr;
    ASSERT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, r.addr, a), 1) << r.addr;
    const int source = r.source >= 0 ? r.source : (v6 ? 128 : 32);
    const LookupResult got = Lookup(table.view(), a, v6 ? kFamilyIpv6 : kFamilyIpv4, source);
    EXPECT_EQ(got.list, r.list) << r.addr << "/" << source;
    EXPECT_EQ(got.scope, r.scope) << r.addr << "/" << source;
  }
}

// LookupPadded (the dataplane's, for addresses zero past their source length) gives Lookup's
// result for every source length, family and IPv6 form: native ones in and out of the
// embedding ranges' first 16 bits (0, 0x64, 2001, 2002), IPv4-mapped and -compatible, NAT64,
// Teredo (inverted) and 6to4, over random tables of both families.
TEST(PrefixTable, PaddedLookupsMatchMaskedLookups) {
  std::mt19937_64 rng(11);
  const std::vector<Net> v4 = RandomNets(rng, 32, 300);
  std::vector<Net> v6 = RandomNets(rng, 128, 300);
  for (size_t i = 0; i < v6.size(); i += 3) {  // some networks where the embedding ranges start
    const uint8_t tops[][2] = {{0x20, 0x01}, {0x20, 0x02}, {0x00, 0x64}, {0x00, 0x00}};
    std::memcpy(v6[i].addr, tops[i % 4], 2);
    v6[i].len = std::max(v6[i].len, 17);
  }
  PrefixTrie t4(32, 0), t6(128, 0);
  for (const Net& n : v4) t4.Paint(n.addr, n.len, n.list);
  for (const Net& n : v6) t6.Paint(n.addr, n.len, n.list);
  SerializedPrefixTable table{t4.Flatten(0), t6.Flatten(0)};
  ASSERT_TRUE(ValidatePrefixTable(table.view(), 51).ok());
  for (int i = 0; i < 200000; ++i) {
    const bool v6_case = i % 8 != 0;
    uint8_t a[16];
    for (auto& b : a) b = static_cast<uint8_t>(rng());
    if (v6_case) {
      switch (i % 8) {
        case 1:
          a[0] = 0x20, a[1] = 0x01, a[2] = a[3] = 0;
          break;  // Teredo
        case 2:
          a[0] = 0x20, a[1] = 0x02;
          break;  // 6to4
        case 3:
          std::memset(a, 0, 10), a[10] = a[11] = 0xff;
          break;  // mapped
        case 4:
          std::memset(a, 0, 12);
          break;   // compatible
        case 5: {  // NAT64
          const uint8_t p[12] = {0, 0x64, 0xff, 0x9b};
          std::memcpy(a, p, 12);
          break;
        }
        case 6:
          a[0] = 0x20, a[1] = 0x01;
          break;  // 2001::/16 outside Teredo (mostly)
        default:
          a[0] = 0x30 | (a[0] & 0x0f);
          break;
      }
    }
    const int max_bits = v6_case ? 128 : 32;
    const int source = static_cast<int>(rng() % (max_bits + 1));
    for (int b = source; b < 128; ++b) a[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
    const int family = v6_case ? kFamilyIpv6 : kFamilyIpv4;
    const LookupResult want = Lookup(table.view(), a, family, source);
    const LookupResult got = LookupPadded(table.view(), a, family, source);
    ASSERT_EQ(got.list, want.list) << "case " << i << ", source /" << source;
    ASSERT_EQ(got.scope, want.scope) << "case " << i << ", source /" << source;
  }
}

TEST(PrefixTable, SingleNetworkTableHasScopeZero) {
  const SerializedPrefixTable t{PrefixTrie(32, 5).Flatten(0), PrefixTrie(128, 5).Flatten(0)};
  const uint8_t v4[4] = {198, 18, 0, 1};
  uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  EXPECT_EQ(Lookup(t.view(), v4, kFamilyIpv4, 32).scope, 0);
  EXPECT_EQ(Lookup(t.view(), v4, kFamilyIpv4, 32).list, 5u);
  EXPECT_EQ(Lookup(t.view(), mapped, kFamilyIpv6, 128).scope, 96);  // never below the /96
  EXPECT_EQ(Lookup(t.view(), v6, kFamilyIpv6, 128).scope, 0);
}

TEST(PrefixTable, ValidateRefusesDamagedTables) {
  const SerializedPrefixTable good = SmallTable();
  ASSERT_TRUE(ValidatePrefixTable(good.view(), 5).ok());
  EXPECT_THAT(ValidatePrefixTable(good.view(), 4).message(), HasSubstr("list 4"));

  struct Damage {
    const char* what;
    void (*apply)(SerializedPrefixTable&);
    const char* message;
  };
  const Damage cases[] = {
      {"truncated root", [](SerializedPrefixTable& t) { t.v4.resize(1000); }, "65536-entry root"},
      {"ragged chunk", [](SerializedPrefixTable& t) { t.v6.pop_back(); }, "65536-entry root"},
      {"chunk out of range",
       [](SerializedPrefixTable& t) { t.v4[0xc000] = kPrefixChunkFlag | 999999; }, "out of range"},
      {"chunk pointing into the root",
       [](SerializedPrefixTable& t) { t.v4[0xc000] = kPrefixChunkFlag | 3; }, "out of range"},
      {"chunk referenced twice", [](SerializedPrefixTable& t) { t.v4[0x0a00] = t.v4[0xc000]; },
       "referenced twice"},
      {"leaf longer than its stride",
       [](SerializedPrefixTable& t) { t.v4[0x0a00] = PrefixLeaf(0, 17); }, "length 17"},
      {"chunk below the last IPv4 stride",
       [](SerializedPrefixTable& t) {
         // root -> chunk (bits 16..23) -> chunk (24..31) -> one more level does not exist
         const uint32_t c1 = t.v4[0xc000] & ~kPrefixChunkFlag;
         const size_t c2_first = t.v4.size();
         t.v4.resize(t.v4.size() + 512, PrefixLeaf(0, 32));
         t.v4[c1 * 256 + 2] = kPrefixChunkFlag | static_cast<uint32_t>(c2_first / 256);
         t.v4[c2_first] = kPrefixChunkFlag | static_cast<uint32_t>(c2_first / 256 + 1);
       },
       "below /32"},
  };
  for (const Damage& d : cases) {
    SerializedPrefixTable t = good;
    d.apply(t);
    const absl::Status s = ValidatePrefixTable(t.view(), 5);
    EXPECT_FALSE(s.ok()) << d.what;
    EXPECT_THAT(s.message(), HasSubstr(d.message)) << d.what;
  }
}

}  // namespace
}  // namespace sextant::control
