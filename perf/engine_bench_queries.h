// The query pools engine_benchmark cycles through: distinct wire queries per kind (A/AAAA hits,
// cookies, NXDOMAIN, CNAME, wildcard, referral, MX, TXT, the 70/20/10 mix, policy and geo owners
// of perf/engine_bench_zone.h), each with what a correct answer to it looks like.
#ifndef SEXTANT_PERF_ENGINE_BENCH_QUERIES_H_
#define SEXTANT_PERF_ENGINE_BENCH_QUERIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "perf/engine_bench_zone.h"

namespace sextant::dataplane::engine_bench {

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

  // Appends a query for name/qtype (with an OPT of udp 1232 when edns, and the ECS prefix and
  // COOKIE option when given) and what its answer must look like.
  void Add(const std::string& name, uint16_t qtype, bool edns, Expect e,
           const std::string& ecs = "", const std::string& cookie = "");
};

// DNS Cookies (dns_cookie.h): the bench's secret, client address and time.
inline constexpr uint64_t kCookieKey[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
inline constexpr uint8_t kBenchClient[4] = {198, 51, 100, 7};
inline constexpr uint32_t kBenchNow = 1700000000;

// Query generators, one per kind. `i` picks the name; `edns` adds an OPT (udp 1232).
void AddAHit(Pool* p, int i, bool edns);
// An A hit with a COOKIE: the client cookie alone (a server cookie to make), or with a valid
// server cookie of ours (to check, then sent back as it is).
void AddAHitCookie(Pool* p, int i, bool with_server_cookie);
void AddAaaaHit(Pool* p, int i);
void AddNxdomain(Pool* p, int i);
void AddCname(Pool* p, int i);
void AddWildcard(Pool* p, int i);
void AddReferral(Pool* p, int i);
void AddMx(Pool* p, int i);
void AddTxt(Pool* p, int i);
// Policy case `c` (pol_*) or its baseline (base_*): owner o of the case.
void AddPolicyA(Pool* p, int c, int o, bool policy);

// 70% A/AAAA hits (50 A, 20 AAAA), 10% NXDOMAIN, 10% CNAME -> A, 10% other (4 wildcard,
// 3 referral, 2 MX, 1 TXT); all with EDNS, names drawn uniformly, order shuffled with a fixed
// seed so the branch predictor cannot learn the sequence.
Pool MixPool();
// A geo case (geo_*) or its plain-zone baseline (base_*), every query with the case's ECS.
Pool GeoPool(const GeoCase& gc, bool geo);
// The three-address sites (London: dc-eu) or their 3-record baseline.
Pool GeoSites3Pool(bool geo);
// The geo answer from a one-member static resource (static_geo4).
Pool StaticGeoPool();

template <typename AddFn>
Pool PoolOf(int n, AddFn add) {
  Pool p;
  for (int i = 0; i < n; ++i) add(&p, i);
  return p;
}

}  // namespace sextant::dataplane::engine_bench

#endif  // SEXTANT_PERF_ENGINE_BENCH_QUERIES_H_
