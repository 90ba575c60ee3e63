// What a reload compiles, each input on its own: every zone is loaded and every geo map compiled
// separately, and one that fails is refused alone; the snapshot then takes its last good version
// (as Knot does), so that one bad zone file or MaxMind DB never holds back the other inputs'
// changes. A geo map whose inputs (its config section, and the bytes of its database, nets and
// latency files) are those of the last good version is reused as it is, not compiled again.
//
// Only whole-snapshot problems (a config that does not load, records that do not fit the zones)
// still refuse a reload as a whole. An input that has no last good version:
//   - in kStrict mode (start-up, a fleet bundle) any failing input refuses the whole load, with
//     the input's own message: there is nothing known good to serve, or (a bundle) the revision
//     must be served whole or not at all;
//   - in kIsolate mode (a reload of a running daemon) a new zone that does not load is left out
//     (it was never served) and named; a new geo map that does not compile refuses the reload,
//     since its resources cannot answer without it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/compile/snapshot_builder.h"
#include "control/config/config.h"
#include "control/geo/geo_compiler.h"
#include "control/zones/zone_data.h"

namespace sextant::control {

// The version of each input the published snapshot serves, by zone origin (lowered, as
// configured) and by geo map name. Immutable once made: a reload copies the pointers.
struct LastGoodInputs {
  struct Zone {
    std::shared_ptr<const ZoneData> data;
    int64_t loaded_unix_ms = 0;
  };
  struct GeoMap {
    std::shared_ptr<const CompiledGeoMap> map;
    std::string fingerprint;  // GeoMapFingerprint of the inputs it was compiled from
    GeoMapBuilt built;        // its log line and /metrics facts
    int64_t compiled_unix_ms = 0;
  };
  std::map<std::string, Zone> zones;
  std::map<std::string, GeoMap> geo_maps;
};

// A zone or geo map the last reload could not load, and what is served for it instead.
struct InputRefusal {
  enum class Kind { kZone, kGeoMap };
  Kind kind = Kind::kZone;
  std::string name;    // the zone's origin or the map's name
  std::string reason;  // the loader's message (file, line, problem)
  // When the version still served was loaded; 0: none, the input is left out.
  int64_t last_good_unix_ms = 0;
};

// How each geo map of a reload came to be.
enum class GeoMapSource { kCompiled, kReused, kLastGood };
const char* GeoMapSourceName(GeoMapSource s);  // "compiled", "reused", "last good"

struct GeoMapOutcome {
  std::string name;
  GeoMapSource source = GeoMapSource::kCompiled;
  int64_t compile_ms = 0;  // this reload's compile (or attempt); 0 when reused
};

enum class InputMode { kStrict, kIsolate };

struct ReloadInputs {
  std::vector<std::shared_ptr<const ZoneData>> zones;           // served, in config order
  std::vector<std::shared_ptr<const CompiledGeoMap>> geo_maps;  // one per config.geo_maps
  std::vector<GeoMapOutcome> geo_outcomes;                      // one per config.geo_maps
  std::vector<InputRefusal> refusals;
  // Every zone and $INCLUDE file read, the last good versions' too for refused zones (the daemon
  // watches them: fixing any must trigger the next attempt).
  std::vector<std::string> files;
  LastGoodInputs next;  // what becomes the last good state once this is published

  // Borrowed pointers for BuildSnapshot; valid while this lives.
  SnapshotInputs view() const;
};

// Loads the zones and compiles the geo maps of `config` as the header says. `now_unix_ms` stamps
// what is loaded now. Errors (kStrict: any input's; kIsolate: a new geo map's, or a geo map whose
// last good version was compiled for other datacenters) are the input's message.
absl::StatusOr<ReloadInputs> LoadReloadInputs(const Config& config, const LastGoodInputs& last_good,
                                              InputMode mode, int64_t now_unix_ms);

// What a geo map's compile depends on: its config section (datacenters, mode, rules, defaults,
// inline rows, paths) and the XXH3-128 of its database, nets and latency files. Equal
// fingerprints compile to the same map. Fails when a file cannot be read.
absl::StatusOr<std::string> GeoMapFingerprint(const GeoMapConfig& config);

}  // namespace sextant::control
