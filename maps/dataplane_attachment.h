// Which sextant-dataplane processes serve an instance. Several may attach to one control block
// at once (a rolling restart, one per NIC, a kernel-socket one beside a DPDK one): each claims a
// slot of ControlBlock::dataplanes when it starts serving and frees it when it stops. A slot
// whose process died without freeing it (SIGKILL, a crash) is not "attached": readers check that
// the pid still runs and is the same process (its start time), and the next dataplane to attach
// takes the slot over. Readers (control's `status`) never write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "maps/control_block.h"

namespace sextant::maps {

struct AttachedDataplane {
  uint64_t pid = 0;
  int64_t attached_unix_ms = 0;
  std::string serving;  // as the dataplane described it
};

// When process `pid` started (clock ticks since boot, /proc/<pid>/stat); 0 when no such process
// runs (gone, or a zombie waiting to be reaped).
uint64_t ProcessStartTime(uint64_t pid);

// Claims a slot for process `pid` (a free one, or one whose process died); returns its index,
// or -1 when every slot holds a live dataplane or `pid` does not run. `serving` is cut to fit.
int AttachDataplane(ControlBlock& b, uint64_t pid, const std::string& serving, int64_t now_unix_ms);
// Frees slot `index` when `pid` still holds it.
void DetachDataplane(ControlBlock& b, int index, uint64_t pid);

// The dataplanes attached now, in slot order; dead holders are left out.
std::vector<AttachedDataplane> AttachedDataplanes(const ControlBlock& b);

}  // namespace sextant::maps
