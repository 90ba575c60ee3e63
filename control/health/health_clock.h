// The health checker's clocks: CLOCK_MONOTONIC for schedules, deadlines and latencies,
// CLOCK_REALTIME for the times people read (CheckResult::finished_unix_ms, since_unix_ms).
#pragma once

#include <time.h>

#include <cstdint>

namespace sextant::control::health {

inline int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t UnixMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

inline constexpr int64_t MsToNs(uint32_t ms) { return int64_t{ms} * 1'000'000; }

}  // namespace sextant::control::health
