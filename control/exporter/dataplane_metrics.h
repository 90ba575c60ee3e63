// The dataplane's metric families, rendered from shared memory alone: the control block (the
// per-lcore counters, answers by qtype and geo site, the attachment slots, the NIC statistics the
// DPDK dataplane's main lcore copies there) and the active snapshot (the names of the geo
// resources and datacenters). sextant-exporter serves them, so they stay scrapable while
// sextant-control is down; sextant-control's /metrics serves only its own families
// (control/daemon/metrics.h), so no family is exported by both.
#pragma once

#include <cstdint>
#include <string>

#include "maps/control_block.h"
#include "maps/snapshot_reader.h"

namespace sextant::exporter {

// The exposition text. `snap` is the active snapshot (null: none readable; the geo answers are
// then left out).
std::string DataplaneMetricsText(const maps::ControlBlock& block, const maps::SnapshotReader* snap);

// The label of a qtype slot (maps::kCountedQtypes; the last slot is "other").
const char* QtypeSlotName(uint32_t slot);

}  // namespace sextant::exporter
