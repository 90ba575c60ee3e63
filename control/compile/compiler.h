// Compiles a Config into a snapshot blob: loads every zone (zone_loader.h) and builds the
// snapshot (snapshot_builder.h). Used by sextant-control for --check and for publishing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/config.h"
#include "control/geo/geo_compiler.h"
#include "control/zones/zone_data.h"

namespace sextant::control {

struct CompileStats {
  size_t zones = 0;
  size_t records = 0;
  size_t bytes = 0;
  std::vector<std::string> files;  // every zone and $INCLUDE file read (the daemon watches them)
  // The configuration's warnings (Config::warnings): accepted, but probably not what was meant.
  std::vector<std::string> warnings;
  // Per geo map built: a line with the database type and build date, networks, datacenters and
  // time, and the facts /metrics exports.
  std::vector<GeoMapBuilt> geo_maps;
};

absl::StatusOr<std::vector<ZoneData>> LoadZones(const Config& config);
// `target_index`: health word of each target (see TargetIndexStore); null numbers them in
// declaration order (--check, tests).
absl::StatusOr<std::vector<uint8_t>> CompileSnapshot(
    const Config& config, uint64_t generation, CompileStats* stats,
    const std::map<std::string, uint32_t>* target_index = nullptr);

}  // namespace sextant::control
