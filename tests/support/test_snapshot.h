// Test and benchmark support: builds an in-memory snapshot from zone text and a YAML config
// through the real control-plane code (zone loader + builder), and sends queries to an Engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/engine/engine.h"
#include "maps/dns/query_builder.h"
#include "maps/snapshot_reader.h"

namespace sextant::testing {

struct ZoneText {
  std::string origin;
  std::string text;
};

// `server_yaml` is the body of the `server:` section (may be empty); `extra_yaml` is appended
// at the top level (targets:, resources:, records: ...).
absl::StatusOr<std::unique_ptr<maps::SnapshotReader>> BuildTestSnapshot(
    const std::vector<ZoneText>& zones, const std::string& server_yaml = "",
    uint64_t generation = 1, const std::string& extra_yaml = "");

// Builds a query in wire format with maps/dns/query_builder.h. `edns_size` < 0: no OPT record.
using QueryOptions = maps::dns::QueryOptions;
std::vector<uint8_t> MakeQuery(const std::string& name, uint16_t qtype, const QueryOptions& o = {});

}  // namespace sextant::testing
