#include "tests/support/test_snapshot.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/compile/snapshot_builder.h"
#include "control/config/config.h"
#include "control/zones/dns_name.h"
#include "control/zones/zone_loader.h"
#include "maps/status_macros.h"

namespace sextant::testing {

absl::StatusOr<std::unique_ptr<maps::SnapshotReader>> BuildTestSnapshot(
    const std::vector<ZoneText>& zones, const std::string& server_yaml, uint64_t generation,
    const std::string& extra_yaml) {
  std::string yaml = "zones:\n";
  for (const ZoneText& z : zones) absl::StrAppend(&yaml, "  - {origin: ", z.origin, ", file: x}\n");
  if (!server_yaml.empty()) absl::StrAppend(&yaml, "server:\n", server_yaml);
  if (!extra_yaml.empty()) absl::StrAppend(&yaml, extra_yaml);
  SX_ASSIGN_OR_RETURN(control::Config cfg, control::ParseConfig(yaml, "test.yaml", "/tmp"));
  std::vector<control::ZoneData> data;
  for (const ZoneText& z : zones) {
    SX_ASSIGN_OR_RETURN(control::ZoneData d,
                        control::LoadZoneText(z.origin, z.text, "test.zone", "/tmp"));
    data.push_back(std::move(d));
  }
  SX_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, control::BuildSnapshot(cfg, data, generation));
  return maps::SnapshotReader::FromBytes(std::move(blob));
}

std::vector<uint8_t> MakeQuery(const std::string& name, uint16_t qtype, const QueryOptions& o) {
  // Labels as given, unchecked, so that tests can ask malformed names too; the layout of the rest
  // is the one query builder's.
  std::vector<uint8_t> wire;
  if (name != ".") {
    for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
      wire.push_back(static_cast<uint8_t>(label.size()));
      wire.insert(wire.end(), label.begin(), label.end());
    }
  }
  wire.push_back(0);
  return maps::dns::BuildQueryWire(wire.data(), wire.size(), qtype, o);
}

}  // namespace sextant::testing
