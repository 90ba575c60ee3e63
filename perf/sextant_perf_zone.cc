// sextant-perf's zone and the questions asked about it (sextant_perf_zone.h).
#include "perf/sextant_perf_zone.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/zones/dns_name.h"
#include "perf/sextant_perf_wire.h"

namespace sextant::perf {

std::string DefaultZone(const std::string& origin, int hosts) {
  std::string z =
      absl::StrCat("$ORIGIN ", origin, "\n$TTL 3600\n@ IN SOA ns1.", origin, " hostmaster.", origin,
                   " 2024010101 7200 3600 1209600 300\n",
                   "@ IN NS ns1\n@ IN NS ns2\nns1 IN A 198.18.0.1\n", "ns2 IN A 198.18.0.2\n");
  for (int i = 0; i < hosts; ++i) {
    absl::StrAppendFormat(&z, "host%04d 300 IN A 198.18.%d.%d\n", i, 1 + i / 200, i % 200 + 1);
    if (i % 4 == 0) {
      absl::StrAppendFormat(&z, "host%04d 300 IN A 198.19.%d.%d\n", i, 1 + i / 200, i % 200 + 1);
    }
    absl::StrAppendFormat(&z, "host%04d 300 IN AAAA 2001:db8:1::%x\n", i, i + 1);
  }
  return z;
}

// The $ORIGIN of a zone file, when it has one before its first record.
std::string OriginOf(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string word, value;
    s >> word;
    if (word == "$ORIGIN" && (s >> value)) return value;
  }
  return "";
}

std::vector<Question> AnswerableNames(const std::vector<control::ZoneData>& zones) {
  std::vector<Question> out;
  for (const control::ZoneData& z : zones) {
    std::vector<std::string> cuts;
    for (const auto& [owner, nd] : z.names) {
      if (owner == z.origin_wire) continue;
      for (const control::RRsetData& s : nd.rrsets) {
        if (s.type == 2) cuts.push_back(owner);  // NS below the apex: a delegation
      }
    }
    for (const auto& [owner, nd] : z.names) {
      if (owner.size() >= 2 && owner[0] == 1 && owner[1] == '*') continue;
      bool skip = false;
      for (const std::string& cut : cuts) skip |= control::WireIsSubdomain(owner, cut);
      for (const control::ZoneData& other : zones) {
        skip |= other.origin_wire.size() > z.origin_wire.size() &&
                control::WireIsSubdomain(owner, other.origin_wire);
      }
      if (skip) continue;
      for (const control::RRsetData& s : nd.rrsets) {
        if (s.type != kTypeA) continue;
        Question q;
        q.wire = owner;
        for (const std::string& r : s.rdatas) {
          const auto* b = reinterpret_cast<const uint8_t*>(r.data());
          if (r.size() == 4) q.a.push_back(uint32_t{Get16(b)} << 16 | Get16(b + 2));
        }
        std::sort(q.a.begin(), q.a.end());
        if (q.a.size() > kMaxA) continue;  // the answer would be truncated at 1232 octets anyway
        out.push_back(std::move(q));
      }
    }
  }
  return out;
}

// Names under the first zone's apex that do not exist (none when the apex has a wildcard).
std::vector<Question> NxdomainNames(const std::vector<control::ZoneData>& zones, int n) {
  std::vector<Question> out;
  if (zones.empty()) return out;
  const control::ZoneData& z = zones[0];
  if (z.names.count(std::string("\x01*", 2) + z.origin_wire)) return out;
  for (int i = 0; static_cast<int>(out.size()) < n && i < 10 * n; ++i) {
    const std::string label = absl::StrFormat("sxperf-nx-%05d", i);
    std::string wire = std::string(1, static_cast<char>(label.size())) + label + z.origin_wire;
    if (z.names.count(wire)) continue;
    Question q;
    q.wire = std::move(wire);
    q.nxdomain = true;
    out.push_back(std::move(q));
  }
  return out;
}

void CorruptExpected(std::vector<Question>* questions, uint32_t every) {
  for (size_t i = 0; i < questions->size(); i += every) {
    std::vector<uint32_t>& a = (*questions)[i].a;
    if (a.empty()) continue;
    a[0] ^= 1;
    std::sort(a.begin(), a.end());
  }
}

}  // namespace sextant::perf
