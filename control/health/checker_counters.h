// The counters behind HealthChecker::Stats(): written on the checker thread, read from any, so
// relaxed atomics that cost a plain add.
#pragma once

#include <atomic>
#include <cstdint>

#include "control/health/health_checker.h"

namespace sextant::control::health {

struct CheckerCounters {
  std::atomic<uint64_t> checks_started{0};
  std::atomic<uint64_t> checks_finished{0};
  std::atomic<uint64_t> checks_late{0};
  std::atomic<uint64_t> max_start_delay_us{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> state_changes{0};
  std::atomic<uint64_t> feed_runs{0};

  static void Add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  // A check started `delay_ns` after its due time.
  void NoteStart(int64_t delay_ns) {
    Add(checks_started);
    if (delay_ns > HealthChecker::kLateThresholdNs) Add(checks_late);
    const uint64_t delay_us = static_cast<uint64_t>(delay_ns / 1000);
    if (delay_us > max_start_delay_us.load(std::memory_order_relaxed)) {
      max_start_delay_us.store(delay_us, std::memory_order_relaxed);  // one writer
    }
  }

  CheckerStats Load() const {
    CheckerStats s;
    s.checks_started = checks_started.load(std::memory_order_relaxed);
    s.checks_finished = checks_finished.load(std::memory_order_relaxed);
    s.checks_late = checks_late.load(std::memory_order_relaxed);
    s.max_start_delay_us = max_start_delay_us.load(std::memory_order_relaxed);
    s.timeouts = timeouts.load(std::memory_order_relaxed);
    s.state_changes = state_changes.load(std::memory_order_relaxed);
    s.feed_runs = feed_runs.load(std::memory_order_relaxed);
    return s;
  }
};

}  // namespace sextant::control::health
