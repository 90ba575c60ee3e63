// One target's check on its schedule: starts the probe (probe.h) when it is due, fails it when
// it outlasts timeout_ms, and hands each outcome on as a CheckResult. The first check comes at
// a time the caller picks (a random point of the interval); the next ones keep the cadence of
// the due times, not of the possibly late starts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "control/config/health_check.h"
#include "control/health/checker_counters.h"
#include "control/health/event_loop.h"
#include "control/health/health_checker.h"
#include "control/health/probe.h"

namespace sextant::control::health {

class CheckRunner {
 public:
  // Runs on the loop thread. It may destroy the runner (a reload from the change callback).
  using ResultCallback = std::function<void(const CheckResult& result)>;

  CheckRunner(const CheckSpec& spec, const ProbeContext& context, CheckerCounters* counters,
              ResultCallback on_result);
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  // Schedules the first check.
  void StartAt(int64_t due_ns);
  // For HealthChecker::Stop(): drops the check in flight, uncounted; it starts again at its due
  // time once the loop runs again.
  void Abandon();

 private:
  void OnTimer(int64_t now);
  void StartCheck(int64_t now);
  void Finish(ProbeResult result, int64_t now);

  const uint32_t interval_ms_;
  const uint32_t timeout_ms_;
  CheckerCounters* const counters_;
  const ResultCallback on_result_;
  Timer timer_;  // the next start, or the timeout of the check in flight
  std::unique_ptr<Probe> probe_;
  bool in_flight_ = false;
  int64_t due_ns_ = 0;
  int64_t started_ns_ = 0;
  // Watched across on_result_, which may destroy this runner.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace sextant::control::health
