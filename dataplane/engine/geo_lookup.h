// The one per-query geo lookup: which datacenter preference list a geo or latency resource gives
// this client, and the ECS scope to report for it. A constant number of reads
// (maps/prefix_table.h: at most three for IPv4, IPv4-mapped, 6to4 and Teredo clients), no
// allocation. The fast writers and the general evaluator both call it.
//
// Which address is looked up (RFC 7871; the same choices as Knot's geoip module and gdnsd):
//   * an ECS option with SOURCE PREFIX-LENGTH > 0 and `ecs: use`: its address (zero past the
//     source length: the parser pads it), the scope being the length of the matched map network
//     (it may exceed the source length where the map is more specific there, as section 7.2.1
//     allows);
//   * an ECS option with SOURCE PREFIX-LENGTH 0 (section 7.1.2: the resolver asks us not to use
//     the client's address), no ECS, or `ecs: ignore`: the packet's source address; the scope
//     is 0, since a resolver's cache entry must not be tied to a subnet we did not look at.
#pragma once

#include <cstdint>

#include "absl/base/attributes.h"
#include "dataplane/engine/snapshot_view.h"
#include "maps/dc_lists.h"
#include "maps/prefix_table.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {

// The addresses a query can be steered by, as pointers into the parsed query (nothing is
// copied per query).
struct GeoClient {
  static constexpr uint8_t kNoAddress[16] = {};
  const uint8_t* source = kNoAddress;  // the packet's source: 4 or 16 bytes
  const uint8_t* ecs = nullptr;        // the ECS address, zero past ecs_source bits
  uint8_t source_family = maps::kFamilyIpv4;
  uint8_t ecs_family = 0;  // 0 = no usable ECS address (absent, or SOURCE PREFIX-LENGTH 0)
  uint8_t ecs_source = 0;  // ECS SOURCE PREFIX-LENGTH
};

struct GeoChoice {
  const maps::DcList* list;
  uint8_t scope;     // for the answer's ECS option; 0 when the ECS address was not used
  uint32_t list_id;  // of `list`, within the map (explain)
};

// The preference list of geo map `map` (validated) for `c`, looking up the ECS address when
// `ecs_mode` is maps::kGeoEcsUse and there is one.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline GeoChoice GeoLookup(const SnapshotView& v, uint32_t map,
                                                        uint8_t ecs_mode, const GeoClient& c) {
  const maps::GeoMap& g = v.geo_maps[map];
  const maps::PrefixTableView t{absl::Span<const uint32_t>(v.geo_v4 + g.v4_first, g.v4_count),
                                absl::Span<const uint32_t>(v.geo_v6 + g.v6_first, g.v6_count)};
  maps::LookupResult lr;
  uint8_t scope = 0;
  if (c.ecs_family != 0 && ecs_mode == maps::kGeoEcsUse) {
    lr = maps::LookupPadded(t, c.ecs, c.ecs_family, c.ecs_source);
    scope = static_cast<uint8_t>(lr.scope);
  } else {
    lr = c.source_family == maps::kFamilyIpv4
             ? maps::LookupPadded(t, c.source, maps::kFamilyIpv4, 32)
             : maps::LookupPadded(t, c.source, maps::kFamilyIpv6, 128);
  }
  return {v.geo_lists + g.list_first + lr.list, scope, lr.list};
}

// The member of a geo resource (members m[0, count), sorted by the datacenter id they hold in
// Member.weight) that serves datacenter `dc`, or `count` when none does.
inline uint32_t GeoMemberOf(const maps::Member* m, uint32_t count, uint8_t dc) {
  if (dc < count && m[dc].weight == dc) return dc;  // serves every site up to dc
  uint32_t k = 0;
  while (k < count && m[k].weight < dc) ++k;
  return k < count && m[k].weight == dc ? k : count;
}

}  // namespace sextant::dataplane
