// What to do when DPDK will not start: the fix for each way rte_eal_init and the port lookup
// fail, in the operator's terms (hugepages, capabilities, --file-prefix, binding the NIC), so
// that the message names the way out instead of only an errno. Pure text, no DPDK: tested alone.
#pragma once

#include <cstdint>
#include <string>

namespace sextant::dataplane {

// After "EAL init failed: <strerror(err)>" (err 0: the EAL set no code): the likely cause and
// the fix. `hugepages_free` is
// HugePages_Free from /proc/meminfo (-1 when unknown).
std::string EalInitHint(int err, int64_t hugepages_free);

// HugePages_Free of /proc/meminfo, or -1.
int64_t FreeHugepages();

// After "DPDK port N does not exist: M ports available": how to give the dataplane a port.
std::string NoPortHint(uint32_t ports_available);

}  // namespace sextant::dataplane
