// `sextantctl dump`: what an instance serves right now, read from its active snapshot in shared
// memory (the very bytes the dataplane answers from): the zones with their SOA serials, each
// resource with its policy and members, each geo map with its database (build date, type, read
// from the file the map was built from) and the networks its table encodes, and the targets
// with their health. The targets come from the daemon's `health json` when it answers (since
// when, the checks' verdict, datacenter, overrides, last check), else from the health words,
// with what only the daemon knows null (the shape of health --json either way).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "maps/snapshot_reader.h"

namespace sextant::control {

// `daemon_health`: the daemon's answer to `health json`; null when sextant-control is not
// running. JSON shape: docs/schema/dump.schema.json.
absl::StatusOr<std::string> DumpReport(const std::string& instance, bool json,
                                       const std::string* daemon_health);

// The owner names whose records a resource picks, by resource index ("www.example.com.").
std::map<uint32_t, std::vector<std::string>> ResourceOwners(const maps::SnapshotReader& s);
// The origin of every zone served ("example.com.").
std::vector<std::string> ZoneOrigins(const maps::SnapshotReader& s);

}  // namespace sextant::control
