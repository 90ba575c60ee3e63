// The inputs of a geo or latency map: datacenters with coordinates, how a network's datacenter
// preference list is chosen (nearest by great-circle distance, or continent/country/subdivision
// rules), explicit CIDR overrides (a "nets" file) and round-trip measurements (a latency CSV).
// geo_compiler.h turns a GeoMapConfig into the tables the dataplane reads.
//
// Precedence, lowest to highest: the database (or the default list where it has no answer), then
// nets entries (a more specific entry beats a less specific one, and any entry beats everything
// the database says inside it), then latency rows (the most specific measured prefix wins).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "maps/prefix_table.h"

namespace sextant::control {

using maps::kFamilyIpv4;
using maps::kFamilyIpv6;

// A network in either family. IPv4 addresses use addr[0..3]; bits beyond `length` are zero.
struct IpPrefix {
  int family = kFamilyIpv4;
  int length = 0;
  uint8_t addr[16] = {};

  int max_length() const { return family == kFamilyIpv4 ? 32 : 128; }
  bool operator==(const IpPrefix& o) const;
};

// Parses "198.18.7.0/24", "2001:db8::/32" or a bare address (a host prefix). Host bits beyond the
// length must be zero: "198.18.7.1/24" is refused rather than guessed at.
absl::StatusOr<IpPrefix> ParseIpPrefix(absl::string_view text);
std::string FormatIpPrefix(const IpPrefix& p);

struct Datacenter {
  std::string name;
  double latitude = 0;   // degrees, -90..90
  double longitude = 0;  // degrees, -180..180
};

enum class GeoMode {
  kNearest,  // by great-circle distance from the network's coordinates
  kRules,    // by continent / country / subdivision code
};

// One nets-file line: every address in `prefix` gets `datacenters`, in that order.
struct NetOverride {
  IpPrefix prefix;
  std::vector<std::string> datacenters;
  std::string where;  // "file:line", for messages
};

// One latency-CSV row.
struct LatencyRow {
  IpPrefix prefix;
  std::string datacenter;
  double rtt_ms = 0;
  std::string where;  // "file:line"
};

struct GeoMapConfig {
  std::string name;           // for messages ("geo map 'www'")
  int line = 0;               // of its entry in the configuration, for messages; 0 = none
  std::string database_path;  // MaxMind DB; empty = no database (nets/latency/default only)
  std::vector<Datacenter> datacenters;  // ids are positions here; at most 255

  GeoMode mode = GeoMode::kNearest;
  // Nearest mode: at most this many datacenters per list (0 = all). Also caps latency lists.
  int max_datacenters = 0;

  // Rules mode. Keys: continent codes ("EU"), ISO 3166-1 country codes ("GB"), and ISO 3166-2
  // subdivision codes written country-subdivision ("GB-ENG", "US-CA"). Separate maps because
  // continent and country codes collide ("AS" is Asia and American Samoa, "NA" North America and
  // Namibia). The most specific match wins: subdivision, then country, then continent.
  std::map<std::string, std::vector<std::string>> continent_rules;
  std::map<std::string, std::vector<std::string>> country_rules;
  std::map<std::string, std::vector<std::string>> subdivision_rules;

  // For networks the database knows nothing usable about (no record, no coordinates in nearest
  // mode, no matching rule): empty = every datacenter in config order (capped by
  // max_datacenters in nearest mode).
  std::vector<std::string> default_datacenters;

  // Overrides and measurements: given inline, or read from files by CompileGeoMap (both may be
  // used; file entries are appended to the inline ones).
  std::vector<NetOverride> nets;
  std::string nets_path;
  std::vector<LatencyRow> latency;
  std::string latency_path;
};

// Nets file: one network per line, `PREFIX DC[,DC...]`, '#' starts a comment, blank lines are
// skipped. Example:
//   198.18.7.0/24    dc-east,dc-west   # the lab
//   2001:db8::/32    dc-west
// `source` names the text in messages ("nets.txt:3: ...").
absl::StatusOr<std::vector<NetOverride>> ParseNets(absl::string_view text,
                                                   absl::string_view source);
absl::StatusOr<std::vector<NetOverride>> ReadNetsFile(const std::string& path);

// Latency CSV: `prefix,datacenter,rtt_ms` per line, an optional header line starting with
// "prefix", '#' comments and blank lines skipped.
absl::StatusOr<std::vector<LatencyRow>> ParseLatencyCsv(absl::string_view text,
                                                        absl::string_view source);
absl::StatusOr<std::vector<LatencyRow>> ReadLatencyCsvFile(const std::string& path);

}  // namespace sextant::control
