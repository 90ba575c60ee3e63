// How sextant-dataplane (kernel-socket and DPDK mode alike) finds what to serve: the instance's
// control block in /dev/shm and its published snapshot. Nothing else: the dataplane reads no
// configuration file; the snapshot carries the settings (maps/snapshot_format.h).
//
// The instance is always named (--instance): a dataplane that picked one by default would serve
// whatever that instance publishes, silently, on a machine where several are configured.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"

namespace sextant::dataplane {

struct AttachedInstance {
  std::string name;
  std::unique_ptr<maps::ControlBlockMapping> block;
  std::unique_ptr<SnapshotFollower> follower;  // not polling yet
};

// Maps instance `name`'s control block. With `wait`, waits for control to create it; Cancelled
// when `stop` is set meanwhile. Errors say what to do ("run sextant-control first or pass
// --wait").
absl::StatusOr<AttachedInstance> AttachInstance(
    const std::string& name, bool wait, const std::atomic<bool>& stop,
    size_t snapshot_copy_min_bytes = maps::kHugePageCopyMinBytes);

// Loads the instance's active snapshot into its follower (waiting for a first one with `wait`;
// Cancelled when `stop` is set meanwhile).
absl::Status LoadFirstSnapshot(AttachedInstance& instance, bool wait,
                               const std::atomic<bool>& stop);

// The message for a --config flag: the dataplane reads shared memory only.
std::string NoConfigFileMessage();

// Why `name` (the --instance flag, empty when not given) cannot be served, or "" when it can be
// tried. Missing, it names the instances whose control blocks are here.
std::string InstanceFlagProblem(const std::string& name);

// Both modes' command lines, for either mode's --help (`dpdk`: which one is asking).
std::string ModesHelp(bool dpdk);

// This process's slot among the instance's attached dataplanes (maps/dataplane_attachment.h):
// taken when it starts serving, given back when it stops, so that `sextantctl status` lists
// every dataplane that serves, however many there are. A crash leaves the slot to be taken over.
class DataplaneAttachment {
 public:
  // `serving` says on what ("udp+tcp 127.0.0.1:5353", "DPDK port net_tap0").
  DataplaneAttachment(const AttachedInstance& instance, const std::string& serving);
  ~DataplaneAttachment();
  DataplaneAttachment(const DataplaneAttachment&) = delete;
  DataplaneAttachment& operator=(const DataplaneAttachment&) = delete;

 private:
  maps::ControlBlock* block_;
  int slot_;
};

}  // namespace sextant::dataplane
