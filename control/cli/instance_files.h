// What sextantctl reads of a running instance straight from shared memory, so that it works
// while sextant-control is down: the control block (/dev/shm/<instance>.ctl: health words,
// counters) and the active snapshot, plus the small readers of the snapshot's strings and
// records that the reports print.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "maps/control_block.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"

namespace sextant::control {

struct InstanceFiles {
  std::unique_ptr<maps::ControlBlockMapping> block;
  std::unique_ptr<maps::SnapshotReader> snapshot;  // the active one
};

// Maps the instance's control block and its active snapshot; NotFound when nothing is
// published yet.
absl::StatusOr<InstanceFiles> OpenInstanceFiles(const std::string& instance);

// A string of the snapshot's kStrings section ("" for kNone).
std::string SnapshotString(const maps::SnapshotReader& s, const maps::StringRef& r);

// "up", "down", "drained", with " (forced)" when an operator forced it.
std::string HealthWordText(uint32_t word);

// The rdata entry `u16 len | rdata` at rd of a record of `type`, in presentation form: an
// address for A and AAAA, a name for CNAME.
std::string RdataText(uint16_t type, const uint8_t* rd);

}  // namespace sextant::control
