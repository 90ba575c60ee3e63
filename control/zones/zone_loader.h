// Loads an RFC 1035 master file with ldns into ZoneData: $ORIGIN, $TTL, $INCLUDE (expanded here,
// since ldns 1.8 leaves it unimplemented), all common types and RFC 3597 unknown types. Errors
// name the file, the line and the problem; a zone that fails any check is refused whole.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "control/zones/zone_data.h"

namespace sextant::control {

// `origin` is the zone's apex in presentation form; `path` the master file.
absl::StatusOr<ZoneData> LoadZoneFile(const std::string& origin, const std::string& path);

// Same, from text (tests); `name_for_messages` stands in for the file name, and $INCLUDE paths
// are resolved against `include_dir`.
absl::StatusOr<ZoneData> LoadZoneText(const std::string& origin, const std::string& text,
                                      const std::string& name_for_messages,
                                      const std::string& include_dir);

}  // namespace sextant::control
