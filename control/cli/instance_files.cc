#include "control/cli/instance_files.h"

#include <arpa/inet.h>

#include <cstring>

#include "control/zones/dns_name.h"
#include "maps/dns/wire.h"
#include "maps/status_macros.h"

namespace sextant::control {

absl::StatusOr<InstanceFiles> OpenInstanceFiles(const std::string& instance) {
  InstanceFiles f;
  SX_ASSIGN_OR_RETURN(f.block, maps::ControlBlockMapping::Open(instance, /*create=*/false));
  const uint64_t gen = (*f.block)->hdr.active_generation.load(std::memory_order_acquire);
  if (gen == 0) return absl::NotFoundError("nothing published yet");
  SX_ASSIGN_OR_RETURN(f.snapshot,
                      maps::SnapshotReader::OpenFile(maps::SnapshotPath(instance, gen)));
  return f;
}

std::string SnapshotString(const maps::SnapshotReader& s, const maps::StringRef& r) {
  if (r.offset == maps::kNone) return "";
  auto strings = s.bytes(maps::kStrings);
  return std::string(reinterpret_cast<const char*>(strings.data()) + r.offset, r.length);
}

std::string HealthWordText(uint32_t w) {
  std::string s = (w & maps::kHealthDrained) ? "drained" : (w & maps::kHealthUp) ? "up" : "down";
  if (w & maps::kHealthForced) s += " (forced)";
  return s;
}

std::string RdataText(uint16_t type, const uint8_t* rd) {
  uint16_t len;
  std::memcpy(&len, rd, 2);
  char buf[INET6_ADDRSTRLEN];
  if (type == maps::dns::kTypeA && len == 4) return inet_ntop(AF_INET, rd + 2, buf, sizeof(buf));
  if (type == maps::dns::kTypeAaaa && len == 16) {
    return inet_ntop(AF_INET6, rd + 2, buf, sizeof(buf));
  }
  return WireToText(std::string_view(reinterpret_cast<const char*>(rd + 2), len));
}

}  // namespace sextant::control
