// Compiles a geo or latency map (geo_config.h) into what the snapshot stores: datacenter names,
// deduplicated preference lists (dc_lists.h) and the prefix table (prefix_table.h).
//
// The whole MaxMind DB tree is walked with MMDB_read_node, every node and every data record is
// validated on the way (a corrupt or truncated database is refused with a message, never half
// used), each network gets a list by distance or rules, nets overrides and latency rows are laid
// on top, and adjacent networks with the same list are merged. The IPv4 subtree of an IPv6
// database (::/96) is walked once as IPv4; the database's aliases of it (::ffff:0:0/96,
// 2001::/32, 2002::/16 point at the same node) are skipped, since lookups map those ranges to the
// IPv4 table themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/geo/dc_list_set.h"
#include "control/geo/geo_config.h"
#include "control/geo/prefix_trie.h"

namespace sextant::control {

struct GeoCompileStats {
  std::string database_type;  // metadata database_type ("GeoIP2-City"); empty without database
  uint64_t build_epoch = 0;
  uint64_t database_networks = 0;      // leaves of the search tree walked (empty ones included)
  uint64_t database_records = 0;       // distinct data records read
  uint64_t networks_before_merge = 0;  // v4 + v6 networks after overrides, before merging
  uint64_t networks_after_merge = 0;   // ... after merging: what the table encodes
  uint64_t v4_networks = 0;            // after merging, per family
  uint64_t v6_networks = 0;
};

struct CompiledGeoMap {
  std::vector<std::string> datacenters;  // id -> name (config order)
  std::vector<DcList> lists;             // list id -> datacenters; list 0 is the default list
  SerializedPrefixTable table;
  GeoCompileStats stats;

  PrefixTableView view() const { return table.view(); }
};

// Reads the database and the nets/latency files named in `config` and compiles them. Errors name
// the map, the file and, for text files, the line. A database none of whose records has what the
// mode reads is refused, naming its type (database_fit.h): nearest needs
// location.latitude/longitude (a City database, not ASN or Country), rules need the codes their
// rules use (country.iso_code, continent.code, subdivisions[].iso_code); otherwise every client
// would silently get the default list.
absl::StatusOr<CompiledGeoMap> CompileGeoMap(const GeoMapConfig& config);

// The line logged when a map is built: "geo map 'world': GeoIP2-City built 2024-05-01,
// 1,234 networks (v4 1,000, v6 234), 3 datacenters, 45 ms".
std::string GeoMapSummary(const std::string& name, const CompiledGeoMap& map, int64_t ms);

// What a snapshot's build says of each geo map: the log line (GeoMapSummary) and, for /metrics,
// the database's build date and the networks the table encodes.
struct GeoMapBuilt {
  std::string name;
  std::string summary;
  uint64_t build_epoch = 0;  // 0: no database (nets/latency files only)
  uint64_t networks = 0;
};

// Great-circle distance in kilometres (haversine, mean Earth radius).
double GreatCircleKm(double lat1, double lon1, double lat2, double lon2);

}  // namespace sextant::control
