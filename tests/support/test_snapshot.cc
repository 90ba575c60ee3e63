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
  std::vector<uint8_t> q(12, 0);
  q[0] = o.id >> 8;
  q[1] = o.id & 0xff;
  q[2] = static_cast<uint8_t>((o.opcode << 3) | (o.rd ? 1 : 0));
  q[5] = 1;
  // Keep the caller's case: encode labels by hand rather than through TextToWire (which lowers).
  if (name != ".") {
    for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
      q.push_back(static_cast<uint8_t>(label.size()));
      q.insert(q.end(), label.begin(), label.end());
    }
  }
  q.push_back(0);
  q.push_back(qtype >> 8);
  q.push_back(qtype & 0xff);
  q.push_back(o.qclass >> 8);
  q.push_back(o.qclass & 0xff);
  if (o.edns_size >= 0) {
    q[11] = 1;
    std::string rdata;
    for (const auto& [code, data] : o.options) {
      rdata.push_back(static_cast<char>(code >> 8));
      rdata.push_back(static_cast<char>(code & 0xff));
      rdata.push_back(static_cast<char>(data.size() >> 8));
      rdata.push_back(static_cast<char>(data.size() & 0xff));
      rdata += data;
    }
    const uint8_t opt[] = {0,
                           0,
                           41,
                           static_cast<uint8_t>(o.edns_size >> 8),
                           static_cast<uint8_t>(o.edns_size & 0xff),
                           0,
                           o.edns_version,
                           static_cast<uint8_t>(o.do_bit ? 0x80 : 0),
                           0,
                           static_cast<uint8_t>(rdata.size() >> 8),
                           static_cast<uint8_t>(rdata.size() & 0xff)};
    q.insert(q.end(), opt, opt + sizeof(opt));
    q.insert(q.end(), rdata.begin(), rdata.end());
  }
  return q;
}

}  // namespace sextant::testing
