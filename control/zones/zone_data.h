// The parsed, validated content of one zone, independent of ldns: what the zone loader produces
// and the snapshot builder consumes. Names are uncompressed wire format; owner keys are lowered.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sextant::control {

struct RRsetData {
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<std::string> rdatas;  // uncompressed wire rdata, original case, in file order
};

struct NameData {
  std::string display;            // owner as written (first occurrence), for messages
  std::vector<RRsetData> rrsets;  // in order of first appearance in the file
};

struct ZoneData {
  std::string origin;              // presentation form, absolute, e.g. "example.test."
  std::string origin_wire;         // lowered wire form
  std::string file;                // for messages
  std::vector<std::string> files;  // the zone file and every $INCLUDE'd file (control watches them)
  // Keyed by lowered wire owner name. std::map keeps the build deterministic.
  std::map<std::string, NameData> names;
  size_t record_count = 0;
};

}  // namespace sextant::control
