// Per-query geo lookup: which datacenter preference list a geo or latency resource gives this
// client, and the ECS scope to report for it. A constant number of reads (maps/prefix_table.h:
// at most three for IPv4, IPv4-mapped, 6to4 and Teredo clients), no allocation.
//
// Which address is looked up (RFC 7871; the same choices as Knot's geoip module and gdnsd):
//   * an ECS option with SOURCE PREFIX-LENGTH > 0 and `ecs: use`: its address, masked to the
//     source length; the scope is the length of the matched map network (it may exceed the
//     source length where the map is more specific there, as section 7.2.1 allows);
//   * an ECS option with SOURCE PREFIX-LENGTH 0 (section 7.1.2: the resolver asks us not to use
//     the client's address), no ECS, or `ecs: ignore`: the packet's source address; the scope
//     is 0, since a resolver's cache entry must not be tied to a subnet we did not look at.
#pragma once

#include <algorithm>
#include <cstdint>

#include "absl/base/attributes.h"
#include "dataplane/engine/engine.h"
#include "maps/dc_lists.h"
#include "maps/prefix_table.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {

// The addresses a query can be steered by, as pointers into the parsed query (nothing is
// copied per query). Filled by the engine (or explain).
struct GeoClient {
  const uint8_t* source = kNoAddress;  // the packet's source: 4 or 16 bytes
  const uint8_t* ecs = nullptr;        // the ECS address (bytes past the source length ignored)
  uint8_t source_family = maps::kFamilyIpv4;
  uint8_t ecs_family = 0;  // 0 = no usable ECS address (absent, or SOURCE PREFIX-LENGTH 0)
  uint8_t ecs_source = 0;  // ECS SOURCE PREFIX-LENGTH

  static constexpr uint8_t kNoAddress[16] = {};
};

struct GeoChoice {
  const maps::DcList* list;
  int scope;  // for the answer's ECS option; 0 when the ECS address was not used
};

inline maps::PrefixTableView GeoTable(const SnapshotView& v, const maps::GeoMap& g) {
  return {absl::Span<const uint32_t>(v.geo_v4 + g.v4_first, g.v4_count),
          absl::Span<const uint32_t>(v.geo_v6 + g.v6_first, g.v6_count)};
}

// The preference list of geo/latency resource `r` (validated: r.count names a map) for `c`.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline GeoChoice GeoLookup(const SnapshotView& v,
                                                        const maps::Resource& r,
                                                        const GeoClient& c) {
  const maps::GeoMap& g = v.geo_maps[r.count];
  const maps::PrefixTableView t = GeoTable(v, g);
  if (c.ecs_family != 0 && r.order == maps::kGeoEcsUse) {
    const maps::LookupResult lr = maps::Lookup(t, c.ecs, c.ecs_family, c.ecs_source);
    return {v.geo_lists + g.list_first + lr.list, lr.scope};
  }
  const maps::LookupResult lr =
      maps::Lookup(t, c.source, c.source_family, c.source_family == maps::kFamilyIpv4 ? 32 : 128);
  return {v.geo_lists + g.list_first + lr.list, 0};
}

// The member of geo resource `r` that serves datacenter `dc` (members are sorted by datacenter
// id, held in Member.weight), or r.member_count when the resource has no sub-resource there.
inline uint32_t GeoMemberOf(const maps::Member* m, const maps::Resource& r, uint8_t dc) {
  if (dc < r.member_count && m[dc].weight == dc) return dc;  // serves every site up to dc
  uint32_t k = 0;
  while (k < r.member_count && m[k].weight < dc) ++k;
  return k < r.member_count && m[k].weight == dc ? k : r.member_count;
}

}  // namespace sextant::dataplane
