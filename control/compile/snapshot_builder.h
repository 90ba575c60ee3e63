// Compiles validated zones and settings into a snapshot (maps/snapshot_format.h): one node per
// owner name (empty non-terminals included), zone cuts and wildcards resolved ahead of time,
// rdata in wire form, glue and additional-section targets precomputed, and the name hash table.
// Everything the fast path would otherwise have to work out per query is decided here.
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

// What a reload hands the builder, already loaded: the zones to serve (config order, any that is
// left out simply absent) and one compiled map per `config.geo_maps` entry, in that order
// (control/compile/reload_inputs.h keeps the last good version of each). Not owned.
struct SnapshotInputs {
  std::vector<const ZoneData*> zones;
  std::vector<const CompiledGeoMap*> geo_maps;  // empty: BuildSnapshot compiles the maps itself
};

absl::StatusOr<std::vector<uint8_t>> BuildSnapshot(
    const Config& config, const SnapshotInputs& inputs, uint64_t generation,
    const std::map<std::string, uint32_t>* target_index);

// `target_index` maps target names to health word indices (see AssignTargetIndexes); null
// numbers them in declaration order (tests, --check). `geo_summaries`, when given, receives one
// line per geo map built (GeoMapSummary), for the log.
absl::StatusOr<std::vector<uint8_t>> BuildSnapshot(
    const Config& config, const std::vector<ZoneData>& zones, uint64_t generation,
    const std::map<std::string, uint32_t>* target_index = nullptr,
    std::vector<GeoMapBuilt>* geo_summaries = nullptr);

}  // namespace sextant::control
