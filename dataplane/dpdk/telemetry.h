// Sextant's counters in DPDK telemetry, beside the ethdev ones: `dpdk-telemetry.py` (or any
// client of /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2) lists
//   /sextant/stats    the lcores' counters summed (packets, queries, rcodes, drops), the
//                     published generation and the attached dataplanes
//   /sextant/lcores   per serving lcore: queries, rx and tx packets, and the generation it serves
// The callbacks run on DPDK's telemetry thread and only read the control block.
#pragma once

#include "maps/control_block.h"

namespace sextant::dataplane {

// Registers the commands (once per process; after rte_eal_init) over `block`, which must stay
// mapped until StopTelemetry().
void RegisterTelemetry(const maps::ControlBlock* block);
// From now on the commands answer an error instead of reading the block (before it is unmapped).
void StopTelemetry();

}  // namespace sextant::dataplane
