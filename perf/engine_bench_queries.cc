#include "perf/engine_bench_queries.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/engine/dns_cookie.h"
#include "maps/dns/wire.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_bench {
namespace {

namespace dns = ::sextant::maps::dns;

using dns::kTypeA;
using dns::kTypeAaaa;
using dns::kTypeMx;
using dns::kTypeTxt;

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

}  // namespace

void Pool::Add(const std::string& name, uint16_t qtype, bool edns, Expect e, const std::string& ecs,
               const std::string& cookie) {
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

void AddAHit(Pool* p, int i, bool edns) {
  const int h = i % kHosts;
  p->Add(absl::StrCat(HostName(h), ".", kOrigin), kTypeA, edns,
         {.an = static_cast<uint16_t>(ARecordsOf(h))});
}
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

void AddPolicyA(Pool* p, int c, int o, bool policy) {
  const PolicyCase& pc = kPolicyCases[c];
  Expect e{.an = pc.answers};
  // Failover answers the first member that is up: a check that the health words are read.
  if (policy && pc.down > 0) e.first_a = PolicyAddress(c, o, pc.down, true);
  p->Add(PolicyOwner(pc, o, policy), kTypeA, true, e);
}

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

Pool GeoPool(const GeoCase& gc, bool geo) {
  Pool p;
  for (int o = 0; o < kPolicyOwners; ++o) {
    const uint32_t first = geo ? (198u << 24 | 22u << 16 | uint32_t(o) << 8 | (gc.dc + 1))
                               : (198u << 24 | 23u << 16 | uint32_t(o) << 8 | 1);
    p.Add(absl::StrFormat("geo-%02d.%s.%s", o, geo ? "pol" : "zon", kOrigin), kTypeA, true,
          {.an = 1, .first_a = first}, gc.ecs);
  }
  return p;
}

Pool GeoSites3Pool(bool geo) {
  Pool p;
  for (int o = 0; o < kPolicyOwners; ++o) {
    const uint32_t first = geo ? (198u << 24 | 24u << 16 | uint32_t(o) << 8 | 31)
                               : (198u << 24 | 25u << 16 | uint32_t(o) << 8 | 1);
    p.Add(absl::StrFormat("geo3-%02d.%s.%s", o, geo ? "pol" : "zon", kOrigin), kTypeA, true,
          {.an = 3, .first_a = first}, kGeoCases[0].ecs);
  }
  return p;
}

Pool StaticGeoPool() {
  Pool p;
  for (int o = 0; o < kPolicyOwners; ++o) {
    p.Add(absl::StrFormat("gst-%02d.pol.%s", o, kOrigin), kTypeA, true,
          {.an = 1, .first_a = 198u << 24 | 22u << 16 | uint32_t(o) << 8 | 3}, kGeoCases[0].ecs);
  }
  return p;
}

}  // namespace sextant::dataplane::engine_bench
