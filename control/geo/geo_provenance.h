// Where one address's datacenter preference list comes from: which layer of its geo map chose it
// (a latency row group, a nets line, a database record, or the default list) and which file,
// line, network and fields did. For `sextantctl explain --client`, which reads the config and the
// map's files itself: the snapshot carries no provenance, so neither its format nor the
// dataplane pays for it. The same rules the compiler paints with (geo_list_rules.h) answer, for
// one address, without walking the database: a lookup, the nets and the latency rows.
//
// Layers, lowest to highest (geo_config.h): the database record (or the default list where it
// has no usable answer), then the most specific nets entry containing the address, then the most
// specific latency row group containing it, whose unmeasured datacenters keep the order of the
// layer beneath.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/geo/geo_config.h"

namespace sextant::control {

enum class GeoLayer { kLatency, kNets, kDatabase, kDefault };

// "latency rows", "nets line", "database record", "default list".
const char* GeoLayerName(GeoLayer layer);

struct GeoSource {
  GeoLayer layer = GeoLayer::kDefault;
  // The layer's own words, naming its file and line or network; they start with the layer's
  // name, e.g.
  //   "nets line /etc/sextant/nets.txt:3: 198.18.0.0/16 dc-eu,dc-us"
  //   "default list (geo map 'world' has no 'default': every datacenter in config order): no
  //    record for 198.18.0.0/15 in /etc/sextant/city.mmdb (GeoIP2-City)"
  //   "database record for 81.2.69.160/27 in /etc/sextant/city.mmdb (GeoIP2-City): coordinates
  //    51.5142,-0.0931 (city 'London'), nearest first"
  std::string text;
};

struct GeoProvenance {
  std::vector<std::string> list;  // the datacenters, in order, as the compiled map has them
  GeoSource chosen;
  // Latency rows only: the layer beneath, which ordered the datacenters without a measurement.
  std::optional<GeoSource> beneath;
  // When the address embeds an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo...), which is
  // looked up instead, as the dataplane does: that address; else empty.
  std::string looked_up;
};

// `address`: a whole address, or a prefix whose bits past its length are zero (an ECS source
// prefix: the dataplane looks up the zero-padded address). Reads the map's database, nets and
// latency files now; errors name the map and the file.
absl::StatusOr<GeoProvenance> FindGeoProvenance(const GeoMapConfig& map, const IpPrefix& address);

}  // namespace sextant::control
