#include "control/health/check_runner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"

namespace sextant::control::health {

CheckRunner::CheckRunner(const CheckSpec& spec, const ProbeContext& context,
                         CheckerCounters* counters, ResultCallback on_result)
    : interval_ms_(spec.interval_ms),
      timeout_ms_(spec.timeout_ms),
      counters_(counters),
      on_result_(std::move(on_result)),
      timer_(context.loop, [this](int64_t now) { OnTimer(now); }),
      probe_(MakeProbe(spec, context,
                       [this](ProbeResult r, int64_t now) { Finish(std::move(r), now); })) {}

void CheckRunner::StartAt(int64_t due_ns) {
  due_ns_ = due_ns;
  timer_.Arm(due_ns_);
}

void CheckRunner::Abandon() {
  if (!in_flight_) return;
  probe_->Release();
  in_flight_ = false;
  timer_.Arm(due_ns_);
}

void CheckRunner::OnTimer(int64_t now) {
  if (!in_flight_) {
    StartCheck(now);
    return;
  }
  Finish({.reason = absl::StrCat("timeout after ", timeout_ms_, " ms"), .timed_out = true}, now);
}

void CheckRunner::StartCheck(int64_t now) {
  counters_->NoteStart(std::max<int64_t>(0, now - due_ns_));
  in_flight_ = true;
  started_ns_ = now;
  std::optional<ProbeResult> at_once = probe_->Start();
  if (!at_once) {
    timer_.Arm(now + MsToNs(timeout_ms_));
    return;
  }
  Finish(*std::move(at_once), MonoNs());
}

void CheckRunner::Finish(ProbeResult result, int64_t now) {
  // The verdict (and the caller's health word) first, the socket teardown after it: closing a
  // TCP socket with RST costs microseconds of kernel work that the verdict need not wait for.
  in_flight_ = false;
  timer_.Cancel();  // the timeout
  CheckerCounters::Add(counters_->checks_finished);
  if (result.timed_out) CheckerCounters::Add(counters_->timeouts);
  CheckResult r;
  r.source = CheckResult::Source::kCheck;
  r.ok = result.ok;
  r.reason = std::move(result.reason);
  r.latency_us = static_cast<uint32_t>(std::max<int64_t>(0, now - started_ns_) / 1000);
  r.finished_unix_ms = UnixMs();
  r.finished_mono_ns = now;
  const std::weak_ptr<const bool> alive = alive_;
  on_result_(r);
  if (alive.expired()) return;  // the callback reloaded the targets and this one went
  probe_->Release();
  due_ns_ += MsToNs(interval_ms_);
  if (due_ns_ < now) due_ns_ = now;
  timer_.Arm(due_ns_);
}

}  // namespace sextant::control::health
