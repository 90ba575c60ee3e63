// The geo part of the configuration: datacenters with coordinates, geo maps (a MaxMind database
// plus rules, nets overrides and latency measurements; compiled by control/geo/geo_compiler.h), and
// the check that ties `kind: geo` / `kind: latency` resources to them.
//
//   datacenters:
//     dc-eu: {latitude: 51.5, longitude: -0.13}
//     dc-us: {latitude: 40.7, longitude: -74.0}
//   geo_maps:
//     world:
//       database: GeoIP2-City-Test.mmdb   # relative to the config file
//       mode: nearest                     # nearest | rules
//       max: 3                            # nearest: at most this many datacenters per list
//       rules: {continent: {EU: [dc-eu]}, country: {US: [dc-us]}, subdivision: {US-CA: [..]}}
//       default: [dc-us, dc-eu]           # where the database knows nothing
//       nets: nets.txt                    # "PREFIX DC[,DC...]" overrides
//       latency: latency.csv              # "prefix,datacenter,rtt_ms" rows
//   resources:
//     www:
//       kind: geo                         # or latency (its map must have a latency file)
//       map: world
//       ecs: use                          # use | ignore
//       all_down: first                   # all | first | nodata | servfail | fallback
//       datacenters:
//         dc-eu: {resource: eu-pool}
//         dc-us: {kind: failover, members: [198.18.2.1, 198.18.2.2]}
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/config/resource_config.h"
#include "control/geo/geo_config.h"

namespace YAML {
class Node;
}

namespace sextant::control {

// Parses `datacenters` and `geo_maps` (both may be absent). Every map gets every datacenter, in
// config order (the datacenter ids). Paths are resolved against `base_dir`.
absl::Status ParseGeoMaps(const std::string& file, const YAML::Node& root,
                          const std::string& base_dir,
                          std::vector<control::Datacenter>* datacenters,
                          std::vector<control::GeoMapConfig>* out);

// Checks the geo/latency resources against the maps (known map and datacenters; a latency
// resource's map has latency data) and fills in what the compiler stores: count = map index,
// members sorted by datacenter id with weight = that id, order = ecs mode (maps::GeoEcsId).
absl::Status ResolveGeoResources(const std::string& file,
                                 const std::vector<control::GeoMapConfig>& maps,
                                 PolicyConfig* policies);

}  // namespace sextant::control
