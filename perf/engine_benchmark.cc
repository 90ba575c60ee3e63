// Engine::Answer throughput per query kind, on a snapshot built once from a generated zone of
// about 1,000 names (hosts with A/AAAA, CNAMEs, a wildcard, delegations with glue, MX, TXT).
//
// Record-set policy cases (pol_*) answer A queries from a policy-driven RRset (`records:` entry
// pointing at a resource whose members all have a target, health words in a local array given
// to Engine::set_health). Each has a base_* twin: a plain zone RRset at an owner name of the
// same length, with as many A records as the policy answers, so pol_X - base_X is what the
// policy costs over a static answer of the same size.
//
// Every case cycles through a pre-built pool of distinct query buffers (up to 1,000) so that the
// hash table, the rdata and the names are touched as real traffic touches them, not one hot
// line. Queries are built and every answer is checked (rcode, flags, section counts) before
// anything is timed, so a case measures what its name says; the timed loop allocates nothing.
//
// Two modes:
//   engine_benchmark [--benchmark_filter=...]      Google Benchmark, items_per_second per case.
//   engine_benchmark --sx_case=a_edns --sx_count=N  exactly N answers of one case, then exit:
//     under callgrind, (Ir(N) - Ir(0)) / N is instructions per query (perf/callgrind_engine.sh).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/dnstap/tap_ring.h"
#include "dataplane/engine/dns_cookie.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/policy_pickers.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/snapshot_reader.h"
#include "perf/counting_mode.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace dns = ::sextant::maps::dns;

using dns::kTypeA;
using dns::kTypeAaaa;
using dns::kTypeMx;
using dns::kTypeTxt;

constexpr char kOrigin[] = "bench.test.";
constexpr int kHosts = 600;    // host0000..: A (two RRs for every fourth) + AAAA
constexpr int kAliases = 150;  // alias0000..: CNAME to a host
constexpr int kSubs = 40;      // sub00..: delegated, NS ns1/ns2 with in-domain glue
constexpr int kMx = 50;        // mx000..: MX to a host (additional A/AAAA)
constexpr int kTxt = 50;       // txt000..: one TXT
constexpr int kPoolSize = 1000;
constexpr uint16_t kEdnsSize = 1232;  // the DNS Flag Day 2020 default most resolvers send

// The DPDK path answers into the mbuf the query came in: its default data room is 2 KiB.
constexpr size_t kPacketRoom = 2048;

int ARecordsOf(int host) { return host % 4 == 0 ? 2 : 1; }

std::string HostName(int i) { return absl::StrFormat("host%04d", i); }

// Policy cases. Case c, owner o: the policy owner is <tag>-<oo>.pol.bench.test. (resource
// <tag>-<oo>, members 198.20.<16c+o>.<m+1>, member m watched by target <tag>-t<mm>); the
// baseline owner is <tag>-<oo>.zon.bench.test. with `answers` A records 198.21.<16c+o>.<m+1>.
struct PolicyCase {
  const char* tag;
  const char* base_case;  // case names: the baseline, the policy
  const char* pol_case;
  const char* spec;  // the resource's YAML fields but its members
  int members;
  int down;          // the targets of the first `down` members are down
  uint16_t answers;  // A records in every answer
};
constexpr PolicyCase kPolicyCases[] = {
    {"cyclic4", "base_cyclic4", "pol_cyclic4", "kind: static, order: cyclic", 4, 0, 4},
    {"cyclic16", "base_cyclic16", "pol_cyclic16", "kind: static, order: cyclic", 16, 0, 16},
    {"failover16", "base_failover16", "pol_failover16", "kind: failover", 16, 8, 1},
    {"weighted16", "base_weighted16", "pol_weighted16", "kind: weighted, count: 1", 16, 0, 1},
    {"multivalue16", "base_multivalue16", "pol_multivalue16", "kind: multivalue, count: 8", 16, 0,
     8},
};
constexpr int kPolicyOwners = 16;  // distinct owners (and resources) per case

std::string PolicyOwner(const PolicyCase& pc, int o, bool policy) {
  return absl::StrFormat("%s-%02d.%s.%s", pc.tag, o, policy ? "pol" : "zon", kOrigin);
}
std::string PolicyTarget(const PolicyCase& pc, int m) {
  return absl::StrFormat("%s-t%02d", pc.tag, m);
}
uint32_t PolicyAddress(int c, int o, int m, bool policy) {
  return (198u << 24) | ((policy ? 20u : 21u) << 16) | static_cast<uint32_t>(c * 16 + o) << 8 |
         static_cast<uint32_t>(m + 1);
}
std::string AddressText(uint32_t a) {
  return absl::StrFormat("%d.%d.%d.%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

// Geo cases: geo-<oo>.pol.bench.test. is a `geo` resource over MaxMind's City test database with
// three datacenters, each a one-address static sub-resource (198.22.<o>.1 dc-ap, .2 dc-us,
// .3 dc-eu); its baseline geo-<oo>.zon.bench.test. is one plain A record. Both are asked with
// the same ECS option, so geo_X - base_X is the lookup, the datacenter walk and the scope.
constexpr char kGeoDatabase[] = SEXTANT_MAXMIND_TESTDATA "/GeoIP2-City-Test.mmdb";
struct GeoCase {
  const char* base_case;
  const char* geo_case;
  const char* ecs;  // address/source length
  int dc;           // expected datacenter: 0 ap, 1 us, 2 eu
};
constexpr GeoCase kGeoCases[] = {
    {"base_geo4", "geo_geo4", "81.2.69.160/32", 2},  // London: a /27 in the map (3 reads)
    {"base_geo6", "geo_geo6", "2001:218::/56", 0},   // Japan: a /32 (3 reads)
    {"base_geo_mapped", "geo_geo_mapped", "::ffff:81.2.69.160/128", 2},
};

void AppendGeoYaml(std::string* top, std::string* resources, std::string* records) {
  absl::StrAppend(top, "datacenters:\n  dc-ap: {latitude: 1.35, longitude: 103.82}\n",
                  "  dc-us: {latitude: 40.71, longitude: -74.01}\n",
                  "  dc-eu: {latitude: 51.51, longitude: -0.13}\n",
                  "geo_maps:\n  world: {database: ", kGeoDatabase, "}\n");
  for (int o = 0; o < kPolicyOwners; ++o) {
    absl::StrAppendFormat(resources,
                          "  geo-%02d: {kind: geo, map: world, datacenters: {"
                          "dc-ap: {members: [198.22.%d.1]}, dc-us: {members: [198.22.%d.2]}, "
                          "dc-eu: {members: [198.22.%d.3]}}}\n",
                          o, o, o, o);
    absl::StrAppendFormat(records, "  - {name: geo-%02d.pol.%s, type: A, resource: geo-%02d}\n", o,
                          kOrigin, o);
    // Sites of three addresses each (fixed order): geo_geo4_sites3 against a plain 3-record
    // RRset (base_geo4_sites3), so the lone-member site writer is not the only one measured.
    absl::StrAppendFormat(resources,
                          "  geo3-%02d: {kind: geo, map: world, datacenters: {"
                          "dc-ap: {order: fixed, members: [198.24.%d.11, 198.24.%d.12, "
                          "198.24.%d.13]}, dc-us: {order: fixed, members: [198.24.%d.21, "
                          "198.24.%d.22, 198.24.%d.23]}, dc-eu: {order: fixed, members: "
                          "[198.24.%d.31, 198.24.%d.32, 198.24.%d.33]}}}\n",
                          o, o, o, o, o, o, o, o, o, o);
    absl::StrAppendFormat(records, "  - {name: geo3-%02d.pol.%s, type: A, resource: geo3-%02d}\n",
                          o, kOrigin, o);
    // The same answer from a one-member static resource: what the policy write path alone
    // costs (case static_geo4), so geo_geo4 - static_geo4 is the geo part.
    absl::StrAppendFormat(resources, "  gst-%02d: {members: [198.22.%d.3]}\n", o, o);
    absl::StrAppendFormat(records, "  - {name: gst-%02d.pol.%s, type: A, resource: gst-%02d}\n", o,
                          kOrigin, o);
  }
}

void AppendGeoZone(std::string* z) {
  for (int o = 0; o < kPolicyOwners; ++o) {
    absl::StrAppendFormat(z, "geo-%02d.zon 300 IN A 198.23.%d.1\n", o, o);
    for (int k = 1; k <= 3; ++k) {
      absl::StrAppendFormat(z, "geo3-%02d.zon 300 IN A 198.25.%d.%d\n", o, o, k);
    }
  }
}

// "81.2.69.160/32" -> the ECS option payload (RFC 7871 section 6).
std::string EcsOption(const std::string& prefix) {
  const size_t slash = prefix.find('/');
  const std::string addr = prefix.substr(0, slash);
  const int len = std::stoi(prefix.substr(slash + 1));
  const bool v6 = addr.find(':') != std::string::npos;
  uint8_t a[16] = {};
  inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), a);
  std::string o = {0, static_cast<char>(v6 ? 2 : 1), static_cast<char>(len), 0};
  o.append(reinterpret_cast<const char*>(a), (len + 7) / 8);
  return o;
}

// The targets:, resources: and records: sections for the policy cases.
std::string PolicyYaml() {
  std::string targets = "targets:\n", resources = "resources:\n", records = "records:\n";
  for (const PolicyCase& pc : kPolicyCases) {
    for (int m = 0; m < pc.members; ++m) {
      absl::StrAppend(&targets, "  ", PolicyTarget(pc, m),
                      ": {initial: ", m < pc.down ? "down" : "up", "}\n");
    }
  }
  for (int c = 0; c < static_cast<int>(std::size(kPolicyCases)); ++c) {
    const PolicyCase& pc = kPolicyCases[c];
    for (int o = 0; o < kPolicyOwners; ++o) {
      const std::string res = absl::StrFormat("%s-%02d", pc.tag, o);
      absl::StrAppend(&resources, "  ", res, ": {", pc.spec, ", members: [");
      for (int m = 0; m < pc.members; ++m) {
        absl::StrAppend(&resources, m ? ", " : "",
                        "{address: ", AddressText(PolicyAddress(c, o, m, true)),
                        ", target: ", PolicyTarget(pc, m), "}");
      }
      absl::StrAppend(&resources, "]}\n");
      absl::StrAppend(&records, "  - {name: ", PolicyOwner(pc, o, true),
                      ", type: A, resource: ", res, "}\n");
    }
  }
  std::string geo_top;
  AppendGeoYaml(&geo_top, &resources, &records);
  return absl::StrCat(geo_top, targets, resources, records);
}

// The zone as master-file text: SOA, apex NS/MX, then the generated names.
std::string ZoneText() {
  std::string z = absl::StrCat("$ORIGIN ", kOrigin, "\n$TTL 3600\n",
                               "@ IN SOA ns1.bench.test. hostmaster.bench.test. 2024010101 7200 "
                               "3600 1209600 300\n",
                               "@ IN NS ns1\n@ IN NS ns2\n@ IN MX 10 host0000\n",
                               "ns1 IN A 198.18.0.1\nns1 IN AAAA 2001:db8::1\n",
                               "ns2 IN A 198.18.0.2\nns2 IN AAAA 2001:db8::2\n");
  for (int i = 0; i < kHosts; ++i) {
    const std::string h = HostName(i);
    absl::StrAppendFormat(&z, "%s 300 IN A 198.18.%d.%d\n", h, 1 + i / 200, i % 200 + 1);
    if (ARecordsOf(i) == 2) {
      absl::StrAppendFormat(&z, "%s 300 IN A 198.19.%d.%d\n", h, 1 + i / 200, i % 200 + 1);
    }
    absl::StrAppendFormat(&z, "%s 300 IN AAAA 2001:db8:1::%x\n", h, i + 1);
  }
  for (int i = 0; i < kAliases; ++i) {
    absl::StrAppendFormat(&z, "alias%04d IN CNAME %s\n", i, HostName((i * 7) % kHosts));
  }
  absl::StrAppend(&z, "*.wild 120 IN A 198.18.250.1\n*.wild 120 IN AAAA 2001:db8:2::1\n");
  for (int i = 0; i < kSubs; ++i) {
    absl::StrAppendFormat(&z,
                          "sub%02d 86400 IN NS ns1.sub%02d\nsub%02d 86400 IN NS ns2.sub%02d\n"
                          "ns1.sub%02d 86400 IN A 198.18.251.%d\n"
                          "ns1.sub%02d 86400 IN AAAA 2001:db8:3::%x\n"
                          "ns2.sub%02d 86400 IN A 198.18.252.%d\n",
                          i, i, i, i, i, i + 1, i, i + 1, i, i + 1);
  }
  for (int i = 0; i < kMx; ++i) {
    absl::StrAppendFormat(&z, "mx%03d IN MX 10 %s\n", i, HostName((i * 11) % kHosts));
  }
  for (int i = 0; i < kTxt; ++i) {
    absl::StrAppendFormat(&z, "txt%03d IN TXT \"v=spf1 ip4:198.18.%d.0/24 -all\"\n", i, i);
  }
  for (int c = 0; c < static_cast<int>(std::size(kPolicyCases)); ++c) {
    const PolicyCase& pc = kPolicyCases[c];
    for (int o = 0; o < kPolicyOwners; ++o) {
      for (int m = 0; m < pc.answers; ++m) {
        absl::StrAppend(&z, PolicyOwner(pc, o, false), " 300 IN A ",
                        AddressText(PolicyAddress(c, o, m, false)), "\n");
      }
    }
  }
  AppendGeoZone(&z);
  return z;
}

// What a correct answer to a pool query looks like (section counts include the OPT record).
struct Expect {
  uint8_t rcode = 0;
  bool aa = true;
  uint16_t an = 0, ns = 0, ar_min = 0;
  uint32_t first_a = 0;  // nonzero: the first answer record is A with this address
};

// One query in its own cache line pair, as a received packet would be.
struct alignas(64) WireQuery {
  uint8_t bytes[118];
  uint16_t len = 0;
};

struct Pool {
  std::vector<WireQuery> queries;
  std::vector<Expect> expect;  // parallel to queries; read only by the start-up check

  void Add(const std::string& name, uint16_t qtype, bool edns, Expect e,
           const std::string& ecs = "", const std::string& cookie = "") {
    testing::QueryOptions o;
    o.id = static_cast<uint16_t>(queries.size() * 2654435761u >> 16);
    o.edns_size = edns ? kEdnsSize : -1;
    if (!ecs.empty()) o.options.push_back({8, EcsOption(ecs)});
    if (!cookie.empty()) o.options.push_back({maps::dns::kOptCookie, cookie});
    const std::vector<uint8_t> q = testing::MakeQuery(name, qtype, o);
    if (q.size() > sizeof(WireQuery::bytes)) {
      std::fprintf(stderr, "engine_benchmark: query for %s too long\n", name.c_str());
      std::exit(1);
    }
    WireQuery w;
    std::memcpy(w.bytes, q.data(), q.size());
    w.len = static_cast<uint16_t>(q.size());
    queries.push_back(w);
    if (edns) ++e.ar_min;
    expect.push_back(e);
  }
};

// Query generators, one per kind. `i` picks the name; `edns` adds an OPT (udp 1232).
void AddAHit(Pool* p, int i, bool edns) {
  const int h = i % kHosts;
  p->Add(absl::StrCat(HostName(h), ".", kOrigin), kTypeA, edns,
         {.an = static_cast<uint16_t>(ARecordsOf(h))});
}
// DNS Cookies (dns_cookie.h): the bench's secret, client address and time.
constexpr uint64_t kCookieKey[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
constexpr uint8_t kBenchClient[4] = {198, 51, 100, 7};
constexpr uint32_t kBenchNow = 1700000000;

// An A hit with a COOKIE: the client cookie alone (a server cookie to make), or with a valid
// server cookie of ours (to check, then sent back as it is).
void AddAHitCookie(Pool* p, int i, bool with_server_cookie) {
  const int h = i % kHosts;
  uint8_t cookie[kClientCookieSize + kServerCookieSize] = {};
  for (int k = 0; k < kClientCookieSize; ++k) cookie[k] = static_cast<uint8_t>(i * 31 + k);
  size_t len = kClientCookieSize;
  if (with_server_cookie) {
    cookie[kClientCookieSize] = kCookieVersion;
    MakeServerHash(cookie, kBenchClient, 4, kBenchNow - 60, kCookieKey[0], kCookieKey[1],
                   cookie + kClientCookieSize);
    len = sizeof(cookie);
  }
  p->Add(absl::StrCat(HostName(h), ".", kOrigin), kTypeA, true,
         {.an = static_cast<uint16_t>(ARecordsOf(h))}, "",
         std::string(reinterpret_cast<const char*>(cookie), len));
}
void AddAaaaHit(Pool* p, int i) {
  p->Add(absl::StrCat(HostName(i % kHosts), ".", kOrigin), kTypeAaaa, true, {.an = 1});
}
void AddNxdomain(Pool* p, int i) {
  // Names near existing ones, so the closest-encloser walk goes up to the apex (SOA owner,
  // MNAME and RNAME all compress against the question).
  p->Add(absl::StrFormat("nohost%04d.%s", i, kOrigin), kTypeA, true, {.rcode = 3, .ns = 1});
}
void AddCname(Pool* p, int i) {
  const int a = i % kAliases;
  p->Add(absl::StrFormat("alias%04d.%s", a, kOrigin), kTypeA, true,
         {.an = static_cast<uint16_t>(1 + ARecordsOf((a * 7) % kHosts))});
}
void AddWildcard(Pool* p, int i) {
  p->Add(absl::StrFormat("client-%d.wild.%s", i, kOrigin), kTypeA, true, {.an = 1});
}
void AddReferral(Pool* p, int i) {
  // NS ns1/ns2 in authority; glue ns1 A + AAAA, ns2 A in additional.
  p->Add(absl::StrFormat("www.sub%02d.%s", i % kSubs, kOrigin), kTypeA, true,
         {.aa = false, .ns = 2, .ar_min = 3});
}
void AddMx(Pool* p, int i) {
  p->Add(absl::StrFormat("mx%03d.%s", i % kMx, kOrigin), kTypeMx, true, {.an = 1, .ar_min = 1});
}
void AddTxt(Pool* p, int i) {
  p->Add(absl::StrFormat("txt%03d.%s", i % kTxt, kOrigin), kTypeTxt, true, {.an = 1});
}

// Policy case `c` (pol_*) or its baseline (base_*): owner o of the case.
void AddPolicyA(Pool* p, int c, int o, bool policy) {
  const PolicyCase& pc = kPolicyCases[c];
  Expect e{.an = pc.answers};
  // Failover answers the first member that is up: a check that the health words are read.
  if (policy && pc.down > 0) e.first_a = PolicyAddress(c, o, pc.down, true);
  p->Add(PolicyOwner(pc, o, policy), kTypeA, true, e);
}

// 70% A/AAAA hits (50 A, 20 AAAA), 10% NXDOMAIN, 10% CNAME -> A, 10% other (4 wildcard,
// 3 referral, 2 MX, 1 TXT); all with EDNS, names drawn uniformly, order shuffled with a fixed
// seed so the branch predictor cannot learn the sequence.
Pool MixPool() {
  std::mt19937 rng(20240101);
  std::vector<int> kinds;
  const int per_100[] = {50, 20, 10, 10, 4, 3, 2, 1};
  for (int k = 0; k < 8; ++k) kinds.insert(kinds.end(), per_100[k] * kPoolSize / 100, k);
  std::shuffle(kinds.begin(), kinds.end(), rng);
  Pool p;
  for (int k : kinds) {
    const int i = static_cast<int>(rng() % 100000);
    switch (k) {
      case 0:
        AddAHit(&p, i, true);
        break;
      case 1:
        AddAaaaHit(&p, i);
        break;
      case 2:
        AddNxdomain(&p, i % 10000);
        break;
      case 3:
        AddCname(&p, i);
        break;
      case 4:
        AddWildcard(&p, i);
        break;
      case 5:
        AddReferral(&p, i);
        break;
      case 6:
        AddMx(&p, i);
        break;
      default:
        AddTxt(&p, i);
        break;
    }
  }
  return p;
}

template <typename AddFn>
Pool PoolOf(int n, AddFn add) {
  Pool p;
  for (int i = 0; i < n; ++i) add(&p, i);
  return p;
}

// tap_every: 0 = the plain loop; otherwise the loop a serving thread runs with a dnstap sampler
// (dataplane/dnstap/tap_ring.h) of 1 in tap_every queries, kTapOff = a sampler that is off.
inline constexpr uint32_t kTapOff = 0xffffffffu;

struct Case {
  const char* name;
  bool in_place;  // answer over the query, in a packet-sized buffer (the DPDK path)
  Pool pool;
  uint32_t tap_every = 0;
};

struct Bench {
  std::unique_ptr<maps::SnapshotReader> snap;
  std::unique_ptr<Engine> engine;
  std::vector<Case> cases;
  ClientInfo client;
  // The health words the policies read (what the control block holds in production).
  std::unique_ptr<std::atomic<uint32_t>[]> health;
  maps::CookieSecrets cookie_secrets{};
};

// One health word per target of the snapshot: all up but the targets the cases put down.
void SetHealth(Bench* b) {
  std::set<std::string> down;
  for (const PolicyCase& pc : kPolicyCases) {
    for (int m = 0; m < pc.down; ++m) down.insert(PolicyTarget(pc, m));
  }
  const SnapshotView v = SnapshotView::Of(*b->snap);
  const auto targets = b->snap->section<maps::Target>(maps::kTargets);
  uint32_t words = 0;
  for (const maps::Target& t : targets) words = std::max(words, t.health + 1);
  b->health = std::make_unique<std::atomic<uint32_t>[]>(words);
  for (uint32_t i = 0; i < words; ++i) b->health[i].store(maps::kHealthUp);
  size_t set_down = 0;
  for (const maps::Target& t : targets) {
    const std::string name(reinterpret_cast<const char*>(v.strings) + t.name.offset, t.name.length);
    if (down.count(name) != 0) {
      b->health[t.health].store(0);
      ++set_down;
    }
  }
  if (set_down != down.size()) {
    std::fprintf(stderr, "engine_benchmark: %zu of %zu down targets found in the snapshot\n",
                 set_down, down.size());
    std::exit(1);
  }
  b->engine->set_health(b->health.get());
}

Bench* BuildBench() {
  auto* b = new Bench;
  auto snap = testing::BuildTestSnapshot({{kOrigin, ZoneText()}}, "", 1, PolicyYaml());
  if (!snap.ok()) {
    std::fprintf(stderr, "engine_benchmark: snapshot: %s\n", snap.status().ToString().c_str());
    std::exit(1);
  }
  b->snap = *std::move(snap);
  b->engine = std::make_unique<Engine>(*b->snap);
  SetHealth(b);
  maps::RotateCookieKeys(b->cookie_secrets, kCookieKey, 1);
  b->engine->set_cookie_secrets(&b->cookie_secrets);
  b->client.family = 4;
  std::memcpy(b->client.addr, kBenchClient, sizeof(kBenchClient));
  b->client.now = kBenchNow;

  b->cases.push_back(
      {"a_noedns", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, false); })});
  b->cases.push_back(
      {"a_edns", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, true); })});
  b->cases.push_back(
      {"a_edns_inplace", true, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, true); })});
  // dnstap's cost: a_edns_inplace with a sampler that is off, samples 1 in 1000, or all.
  for (const auto& [name, every] :
       {std::pair{"tap_off", kTapOff}, std::pair{"tap_1000", 1000u}, std::pair{"tap_all", 1u}}) {
    b->cases.push_back(
        {name, true, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, true); }), every});
  }
  // DNS Cookies: a_edns with a client cookie (a server cookie made: one SipHash), and with a
  // valid server cookie (checked: one SipHash; sent back as it is).
  b->cases.push_back(
      {"a_cookie", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHitCookie(p, i, false); })});
  b->cases.push_back(
      {"a_cookie_valid", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHitCookie(p, i, true); })});
  b->cases.push_back({"aaaa", false, PoolOf(kHosts, AddAaaaHit)});
  b->cases.push_back({"nxdomain", false, PoolOf(kPoolSize, AddNxdomain)});
  b->cases.push_back({"cname", false, PoolOf(kAliases, AddCname)});
  b->cases.push_back({"wildcard", false, PoolOf(kPoolSize, AddWildcard)});
  b->cases.push_back({"referral", false, PoolOf(kSubs, AddReferral)});
  b->cases.push_back({"mix", false, MixPool()});
  for (int c = 0; c < static_cast<int>(std::size(kPolicyCases)); ++c) {
    for (bool policy : {false, true}) {
      Pool p;
      for (int o = 0; o < kPolicyOwners; ++o) AddPolicyA(&p, c, o, policy);
      const PolicyCase& pc = kPolicyCases[c];
      b->cases.push_back({policy ? pc.pol_case : pc.base_case, false, std::move(p)});
    }
  }
  for (const GeoCase& gc : kGeoCases) {
    for (bool geo : {false, true}) {
      Pool p;
      for (int o = 0; o < kPolicyOwners; ++o) {
        const uint32_t first = geo ? (198u << 24 | 22u << 16 | uint32_t(o) << 8 | (gc.dc + 1))
                                   : (198u << 24 | 23u << 16 | uint32_t(o) << 8 | 1);
        p.Add(absl::StrFormat("geo-%02d.%s.%s", o, geo ? "pol" : "zon", kOrigin), kTypeA, true,
              {.an = 1, .first_a = first}, gc.ecs);
      }
      b->cases.push_back({geo ? gc.geo_case : gc.base_case, false, std::move(p)});
    }
  }
  for (bool geo : {false, true}) {  // three-address sites (London: dc-eu)
    Pool p;
    for (int o = 0; o < kPolicyOwners; ++o) {
      const uint32_t first = geo ? (198u << 24 | 24u << 16 | uint32_t(o) << 8 | 31)
                                 : (198u << 24 | 25u << 16 | uint32_t(o) << 8 | 1);
      p.Add(absl::StrFormat("geo3-%02d.%s.%s", o, geo ? "pol" : "zon", kOrigin), kTypeA, true,
            {.an = 3, .first_a = first}, kGeoCases[0].ecs);
    }
    b->cases.push_back({geo ? "geo_geo4_sites3" : "base_geo4_sites3", false, std::move(p)});
  }
  Pool st;
  for (int o = 0; o < kPolicyOwners; ++o) {
    st.Add(absl::StrFormat("gst-%02d.pol.%s", o, kOrigin), kTypeA, true,
           {.an = 1, .first_a = 198u << 24 | 22u << 16 | uint32_t(o) << 8 | 3}, kGeoCases[0].ecs);
  }
  b->cases.push_back({"static_geo4", false, std::move(st)});
  return b;
}

// Skips the (possibly compressed) name at p[off]; returns the offset after it, or n.
size_t SkipName(const uint8_t* p, size_t off, size_t n) {
  while (off < n) {
    const uint8_t l = p[off];
    if (l == 0) return off + 1;
    if ((l & 0xC0) == 0xC0) return off + 2;
    off += 1 + l;
  }
  return n;
}

// The address of the first answer record when it is an A record, else 0.
uint32_t FirstA(const uint8_t* p, size_t n) {
  if (n < dns::kHeaderSize || dns::Get16(p + dns::kOffAncount) == 0) return 0;
  size_t off = SkipName(p, dns::kHeaderSize, n) + 4;  // question: name, type, class
  off = SkipName(p, off, n);                          // owner
  if (off + 14 > n || dns::Get16(p + off) != kTypeA || dns::Get16(p + off + 8) != 4) return 0;
  return static_cast<uint32_t>(p[off + 10]) << 24 | p[off + 11] << 16 | p[off + 12] << 8 |
         p[off + 13];
}

// Checks every pool answer once, so that a snapshot or engine change that turns a hit into a
// miss fails loudly instead of silently speeding the benchmark up.
void CheckAnswers(const Bench& b) {
  static uint8_t out[kPacketRoom];
  for (const Case& c : b.cases) {
    for (size_t i = 0; i < c.pool.queries.size(); ++i) {
      const WireQuery& q = c.pool.queries[i];
      const Expect& e = c.pool.expect[i];
      AnswerInfo info;
      const size_t n = b.engine->Answer(q.bytes, q.len, b.client, out, sizeof(out), &info);
      const bool aa = n >= dns::kHeaderSize && (out[dns::kOffFlags1] & dns::kFlag1Aa);
      const uint16_t an = n >= dns::kHeaderSize ? dns::Get16(out + dns::kOffAncount) : 0;
      const uint16_t ns = n >= dns::kHeaderSize ? dns::Get16(out + dns::kOffNscount) : 0;
      const uint16_t ar = n >= dns::kHeaderSize ? dns::Get16(out + dns::kOffArcount) : 0;
      const uint32_t first_a = e.first_a != 0 ? FirstA(out, n) : 0;
      if (first_a != e.first_a) {
        std::fprintf(stderr, "engine_benchmark: case %s query %zu: first A %08x, want %08x\n",
                     c.name, i, first_a, e.first_a);
        std::exit(1);
      }
      if (n < q.len || info.rcode != e.rcode || info.truncated || aa != e.aa || an != e.an ||
          ns != e.ns || ar < e.ar_min) {
        std::fprintf(stderr,
                     "engine_benchmark: case %s query %zu: got len %zu rcode %u tc %d aa %d "
                     "an %u ns %u ar %u; want rcode %u aa %d an %u ns %u ar >= %u\n",
                     c.name, i, n, info.rcode, info.truncated, aa, an, ns, ar, e.rcode, e.aa, e.an,
                     e.ns, e.ar_min);
        std::exit(1);
      }
    }
  }
}

// One answer: shared by the benchmark loop and the counting mode so both run the same code.
// The in-place variant first copies the query into the packet buffer, as a receive would.
inline size_t AnswerOne(const Engine& engine, const ClientInfo& client, const WireQuery& q,
                        bool in_place, uint8_t* pkt, AnswerInfo* info) {
  if (in_place) {
    std::memcpy(pkt, q.bytes, q.len);
    return engine.Answer(pkt, q.len, client, pkt, kPacketRoom, info);
  }
  return engine.Answer(q.bytes, q.len, client, pkt, kPacketRoom, info);
}

alignas(64) uint8_t g_packet[kPacketRoom];

// What a serving thread holds for dnstap. The ring is emptied right after each sample: that is
// the writer thread's work, off the fast path, so it is left out of what is measured.
struct TapBench {
  TapRing ring{1024};
  TapSampler sampler;
  maps::LcoreCounters ctr{};
  sockaddr_storage peer{};
  sockaddr_storage local{};
};

[[gnu::noinline]] size_t AnswerSampled(const Engine& engine, const ClientInfo& client,
                                       const WireQuery& q, uint8_t* pkt, AnswerInfo* info,
                                       TapBench& t) {
  TapRecord* r = t.sampler.Start(pkt, q.len, false, t.ctr);
  if (r != nullptr) FillTapEndpoints(t.peer, t.local, r);
  const size_t n = engine.Answer(pkt, q.len, client, pkt, kPacketRoom, info);
  if (r != nullptr) {
    t.sampler.Finish(r, pkt, n, t.ctr);
    if (t.ring.Peek() != nullptr) t.ring.Release();
  }
  return n;
}

// The in-place answer with the sampler's check in front, as ServingThread::Answer runs it.
inline size_t AnswerOneTapped(const Engine& engine, const ClientInfo& client, const WireQuery& q,
                              uint8_t* pkt, AnswerInfo* info, TapBench& t) {
  std::memcpy(pkt, q.bytes, q.len);
  if (t.sampler.Due()) return AnswerSampled(engine, client, q, pkt, info, t);
  return engine.Answer(pkt, q.len, client, pkt, kPacketRoom, info);
}

std::unique_ptr<TapBench> MakeTapBench(uint32_t every) {
  auto t = std::make_unique<TapBench>();
  if (every != kTapOff) t->sampler = TapSampler(&t->ring, every);
  t->peer.ss_family = AF_INET;
  t->local.ss_family = AF_INET;
  return t;
}

void RunCase(benchmark::State& state, const Bench* b, const Case* c) {
  const Engine& engine = *b->engine;
  const WireQuery* queries = c->pool.queries.data();
  const size_t n = c->pool.queries.size();
  const bool in_place = c->in_place;
  AnswerInfo info;
  size_t i = 0;
  if (c->tap_every != 0) {
    std::unique_ptr<TapBench> t = MakeTapBench(c->tap_every);
    for (auto _ : state) {
      size_t len = AnswerOneTapped(engine, b->client, queries[i], g_packet, &info, *t);
      benchmark::DoNotOptimize(len);
      benchmark::DoNotOptimize(info);
      if (++i == n) i = 0;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    return;
  }
  for (auto _ : state) {
    size_t len = AnswerOne(engine, b->client, queries[i], in_place, g_packet, &info);
    benchmark::DoNotOptimize(len);
    benchmark::DoNotOptimize(info);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Counting mode: exactly `count` answers, same loop shape as RunCase.
[[gnu::noinline]] size_t RunCount(const Bench& b, const Case& c, uint64_t count) {
  const WireQuery* queries = c.pool.queries.data();
  const size_t n = c.pool.queries.size();
  AnswerInfo info;
  size_t total = 0, i = 0;
  if (c.tap_every != 0) {
    std::unique_ptr<TapBench> t = MakeTapBench(c.tap_every);
    for (uint64_t k = 0; k < count; ++k) {
      total += AnswerOneTapped(*b.engine, b.client, queries[i], g_packet, &info, *t);
      if (++i == n) i = 0;
    }
    return total;
  }
  for (uint64_t k = 0; k < count; ++k) {
    total += AnswerOne(*b.engine, b.client, queries[i], c.in_place, g_packet, &info);
    if (++i == n) i = 0;
  }
  return total;
}

int Main(int argc, char** argv) {
  const perf::CountingMode mode = perf::TakeCountingFlags(&argc, argv);
  Bench* b = BuildBench();
  SeedPolicyRandom(20240101);  // weighted / multivalue picks: the same sequence every run
  CheckAnswers(*b);
  if (mode.on()) {
    return perf::RunCountingMode(
        "engine_benchmark", mode, b->cases, [b](const Case& c, unsigned long long count) {
          const size_t total = RunCount(*b, c, count);
          return absl::StrFormat("case %s count %llu response_bytes %zu", c.name, count, total);
        });
  }
  return perf::RunBenchmarks(argc, argv, "Answer", b, b->cases, RunCase);
}

}  // namespace
}  // namespace sextant::dataplane

int main(int argc, char** argv) { return sextant::dataplane::Main(argc, argv); }
