#include "control/compile/compiler.h"

#include "control/compile/snapshot_builder.h"
#include "control/zones/zone_loader.h"
#include "maps/status_macros.h"

namespace sextant::control {

absl::StatusOr<std::vector<ZoneData>> LoadZones(const Config& config) {
  std::vector<ZoneData> zones;
  for (const ZoneConfig& z : config.zones) {
    SX_ASSIGN_OR_RETURN(ZoneData d, LoadZoneFile(z.origin, z.file));
    zones.push_back(std::move(d));
  }
  return zones;
}

absl::StatusOr<std::vector<uint8_t>> CompileSnapshot(
    const Config& config, uint64_t generation, CompileStats* stats,
    const std::map<std::string, uint32_t>* target_index) {
  SX_RETURN_IF_ERROR(CheckInputFiles(config));
  SX_ASSIGN_OR_RETURN(std::vector<ZoneData> zones, LoadZones(config));
  if (stats != nullptr) stats->geo_maps.clear();
  SX_ASSIGN_OR_RETURN(std::vector<uint8_t> blob,
                      BuildSnapshot(config, zones, generation, target_index,
                                    stats != nullptr ? &stats->geo_maps : nullptr));
  if (stats != nullptr) {
    stats->zones = zones.size();
    stats->records = 0;
    stats->files.clear();
    for (const ZoneData& z : zones) {
      stats->records += z.record_count;
      stats->files.insert(stats->files.end(), z.files.begin(), z.files.end());
    }
    stats->bytes = blob.size();
    stats->warnings = config.warnings;
  }
  return blob;
}

}  // namespace sextant::control
