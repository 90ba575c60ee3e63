// How a geo map chooses a network's datacenter preference list, once its config is resolved:
// the default list, the list a MaxMind record gives (by coordinates or by rules), the list of a
// nets entry, and the list of a latency row group laid over the list beneath it. The compiler
// (geo_compiler.h) paints these over every network of the database; explain's provenance
// (geo_provenance.h) asks the very same rules about one address, so the two cannot disagree.
#pragma once

#include <maxminddb.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "control/geo/dc_list_set.h"
#include "control/geo/geo_config.h"

namespace sextant::control {

// Which fields of a database record chose its list (for explain).
struct RecordChoice {
  bool by_default = false;  // nothing usable in the record: the default list
  // "coordinates 51.5142,-0.0931", "country GB (rule country GB)", "no coordinates",
  // "no rule for continent EU, country GB".
  std::string fields;
};

// A nets entry, validated, with its list interned.
struct ResolvedNet {
  IpPrefix prefix;
  uint32_t list;
  std::string where;  // "file:line", or the prefix for an entry given inline
  std::vector<std::string> datacenters;
};

// The latency rows of one prefix, validated: the datacenters measured there, by round trip.
struct LatencyGroup {
  IpPrefix prefix;
  std::vector<std::pair<double, uint8_t>> measured;  // (rtt, dc id), lowest first, ties by id
  std::map<uint8_t, std::string> where;              // dc id -> "file:line"
};

class GeoListRules {
 public:
  // Resolves the datacenters, the default list (list 0) and the rules; errors name the map.
  static absl::StatusOr<GeoListRules> Create(const GeoMapConfig& config);

  // "geo map 'NAME': msg", as an InvalidArgument error.
  absl::Status Error(absl::string_view msg) const;

  uint32_t default_list() const { return default_list_; }
  // At most this many datacenters per list (nearest mode's `max`, else every one).
  int ListCap() const;
  // The list a database record gives; `why` (may be null) says which of its fields chose it.
  uint32_t ListForEntry(MMDB_entry_s* entry, RecordChoice* why);
  // Every nets entry (inline, then the nets file, read now), validated and interned; less
  // specific first, so that painting them in order leaves the most specific one on top.
  absl::StatusOr<std::vector<ResolvedNet>> Nets();
  // Every latency row (inline, then the latency file, read now), validated and grouped by
  // prefix; most specific group first.
  absl::StatusOr<std::vector<LatencyGroup>> LatencyGroups() const;
  // The list of latency group `g` over a network whose list was `beneath`: the measured
  // datacenters by round trip, then the unmeasured ones in the order `beneath` had them.
  uint32_t LatencyList(const LatencyGroup& g, uint32_t beneath);

  DcListSet& lists() { return lists_; }
  const DcListSet& lists() const { return lists_; }
  const std::string& datacenter_name(uint8_t id) const { return config_->datacenters[id].name; }

 private:
  explicit GeoListRules(const GeoMapConfig& config) : config_(&config) {}
  absl::Status Resolve();
  absl::StatusOr<std::vector<uint8_t>> ResolveList(const std::vector<std::string>& names,
                                                   absl::string_view where) const;
  uint32_t NearestList(double lat, double lon);
  uint32_t RuleList(MMDB_entry_s* entry, RecordChoice* why) const;

  const GeoMapConfig* config_;
  absl::flat_hash_map<std::string, uint8_t> dc_ids_;
  std::map<std::string, uint32_t> continent_lists_, country_lists_, subdivision_lists_;
  DcListSet lists_;
  uint32_t default_list_ = 0;
};

// IPv6 ranges whose lookups go to the IPv4 table (maps/prefix_table.h), so their IPv6 entries are
// never read and a nets entry or latency row inside them could never apply.
struct EmbeddedRange {
  uint8_t addr[16];
  int length;
  const char* what;
};
absl::Span<const EmbeddedRange> EmbeddedV4Ranges();

// True when prefix addr/len lies inside range/range_len (same family; bits past the lengths
// are ignored).
bool PrefixInside(const uint8_t* addr, int len, const uint8_t* range, int range_len);

}  // namespace sextant::control
