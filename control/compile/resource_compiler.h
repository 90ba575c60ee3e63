// Compiles the record-set policies of the configuration (resource_config.h) into snapshot
// records: Resource and Member arrays ordered so that a nested resource always comes after its
// parents, member addresses as rdata, targets mapped to their health words. Errors name the
// resource or record at fault.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/config/resource_config.h"
#include "maps/snapshot_format.h"

namespace sextant::control {

struct CompiledPolicies {
  std::vector<maps::Resource> resources;
  std::vector<maps::Member> members;
  std::vector<maps::Target> targets;
  // Per record (same order as PolicyConfig::records): the resource index it uses.
  std::vector<uint32_t> record_resource;
};

// `target_index` maps target names to health word indices; when null, targets get indices in
// declaration order. Member rdata is appended to `rdata`; names go through `add_string`.
absl::Status CompilePolicies(const PolicyConfig& config, const std::string& file,
                             const std::map<std::string, uint32_t>* target_index,
                             std::vector<uint8_t>* rdata,
                             const std::function<maps::StringRef(const std::string&)>& add_string,
                             CompiledPolicies* out);

// Health word indices for targets: `previous` (name -> index) keeps its indices so live health
// state survives reloads; new names take the lowest free index. Fails when more than
// `capacity` targets are configured.
absl::StatusOr<std::map<std::string, uint32_t>> AssignTargetIndexes(
    const PolicyConfig& config, const std::map<std::string, uint32_t>& previous, uint32_t capacity);

}  // namespace sextant::control
