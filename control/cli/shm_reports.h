// sextantctl's reports read straight from an instance's shared memory, so that they work while
// sextant-control is down: the dataplane's counters (stats) and the raw health words (health's
// fallback).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"

namespace sextant::control {

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json);
absl::StatusOr<std::string> HealthReport(const std::string& instance, bool json);

// `stats --watch`: every `interval_ms`, the counters' rates per second over the last interval
// (queries, rx, tx, each rcode, truncated, exception path, each drop reason, per lcore), like
// top: the screen cleared before each block when `clear` (stdout is a terminal), else one block
// after the other; with `json` one JSON object per line (docs/schema/stats-watch.schema.json).
// Stops after `count` blocks (0: until interrupted).
struct StatsWatch {
  uint64_t interval_ms = 1000;
  uint64_t count = 0;
  bool json = false;
  bool clear = false;
};
absl::Status WatchStats(const std::string& instance, const StatsWatch& watch, std::FILE* out);

}  // namespace sextant::control
