#include "perf/engine_bench_zone.h"

#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sextant::dataplane::engine_bench {
namespace {

std::string AddressText(uint32_t a) {
  return absl::StrFormat("%d.%d.%d.%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

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

}  // namespace

int ARecordsOf(int host) { return host % 4 == 0 ? 2 : 1; }

std::string HostName(int i) { return absl::StrFormat("host%04d", i); }

void AppendHosts(std::string* z) {
  for (int i = 0; i < kHosts; ++i) {
    const std::string h = HostName(i);
    absl::StrAppendFormat(z, "%s 300 IN A 198.18.%d.%d\n", h, 1 + i / 200, i % 200 + 1);
    if (ARecordsOf(i) == 2) {
      absl::StrAppendFormat(z, "%s 300 IN A 198.19.%d.%d\n", h, 1 + i / 200, i % 200 + 1);
    }
    absl::StrAppendFormat(z, "%s 300 IN AAAA 2001:db8:1::%x\n", h, i + 1);
  }
}

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

std::string ZoneText() {
  std::string z = absl::StrCat("$ORIGIN ", kOrigin, "\n$TTL 3600\n",
                               "@ IN SOA ns1.bench.test. hostmaster.bench.test. 2024010101 7200 "
                               "3600 1209600 300\n",
                               "@ IN NS ns1\n@ IN NS ns2\n@ IN MX 10 host0000\n",
                               "ns1 IN A 198.18.0.1\nns1 IN AAAA 2001:db8::1\n",
                               "ns2 IN A 198.18.0.2\nns2 IN AAAA 2001:db8::2\n");
  AppendHosts(&z);
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

}  // namespace sextant::dataplane::engine_bench
