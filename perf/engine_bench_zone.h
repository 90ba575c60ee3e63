// The zone and the policy/geo configuration engine_benchmark answers from: about 1,000 names
// (hosts with A/AAAA, CNAMEs, a wildcard, delegations with glue, MX, TXT), record-set policy
// owners with their plain-zone twins, and geo owners over MaxMind's City test database.
#ifndef SEXTANT_PERF_ENGINE_BENCH_ZONE_H_
#define SEXTANT_PERF_ENGINE_BENCH_ZONE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace sextant::dataplane::engine_bench {

inline constexpr char kOrigin[] = "bench.test.";
inline constexpr int kHosts = 600;    // host0000..: A (two RRs for every fourth) + AAAA
inline constexpr int kAliases = 150;  // alias0000..: CNAME to a host
inline constexpr int kSubs = 40;      // sub00..: delegated, NS ns1/ns2 with in-domain glue
inline constexpr int kMx = 50;        // mx000..: MX to a host (additional A/AAAA)
inline constexpr int kTxt = 50;       // txt000..: one TXT
inline constexpr int kPoolSize = 1000;
inline constexpr uint16_t kEdnsSize = 1232;  // the DNS Flag Day 2020 default most resolvers send

// The DPDK path answers into the mbuf the query came in: its default data room is 2 KiB.
inline constexpr size_t kPacketRoom = 2048;

int ARecordsOf(int host);
std::string HostName(int i);
// The kHosts hosts as master-file lines: host<i> A 198.18.x.y (and 198.19.x.y for every fourth),
// AAAA 2001:db8:1::<i+1>.
void AppendHosts(std::string* z);

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
inline constexpr PolicyCase kPolicyCases[] = {
    {"cyclic4", "base_cyclic4", "pol_cyclic4", "kind: static, order: cyclic", 4, 0, 4},
    {"cyclic16", "base_cyclic16", "pol_cyclic16", "kind: static, order: cyclic", 16, 0, 16},
    {"failover16", "base_failover16", "pol_failover16", "kind: failover", 16, 8, 1},
    {"weighted16", "base_weighted16", "pol_weighted16", "kind: weighted, count: 1", 16, 0, 1},
    {"multivalue16", "base_multivalue16", "pol_multivalue16", "kind: multivalue, count: 8", 16, 0,
     8},
};
inline constexpr int kPolicyOwners = 16;  // distinct owners (and resources) per case

std::string PolicyOwner(const PolicyCase& pc, int o, bool policy);
std::string PolicyTarget(const PolicyCase& pc, int m);
uint32_t PolicyAddress(int c, int o, int m, bool policy);

// Geo cases: geo-<oo>.pol.bench.test. is a `geo` resource over MaxMind's City test database with
// three datacenters, each a one-address static sub-resource (198.22.<o>.1 dc-ap, .2 dc-us,
// .3 dc-eu); its baseline geo-<oo>.zon.bench.test. is one plain A record. Both are asked with
// the same ECS option, so geo_X - base_X is the lookup, the datacenter walk and the scope.
inline constexpr char kGeoDatabase[] = SEXTANT_MAXMIND_TESTDATA "/GeoIP2-City-Test.mmdb";
struct GeoCase {
  const char* base_case;
  const char* geo_case;
  const char* ecs;  // address/source length
  int dc;           // expected datacenter: 0 ap, 1 us, 2 eu
};
inline constexpr GeoCase kGeoCases[] = {
    {"base_geo4", "geo_geo4", "81.2.69.160/32", 2},  // London: a /27 in the map (3 reads)
    {"base_geo6", "geo_geo6", "2001:218::/56", 0},   // Japan: a /32 (3 reads)
    {"base_geo_mapped", "geo_geo_mapped", "::ffff:81.2.69.160/128", 2},
};

// The targets:, resources: and records: sections for the policy and geo cases.
std::string PolicyYaml();
// The zone as master-file text: SOA, apex NS/MX, then the generated names.
std::string ZoneText();

}  // namespace sextant::dataplane::engine_bench

#endif  // SEXTANT_PERF_ENGINE_BENCH_ZONE_H_
