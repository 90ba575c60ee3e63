// The health-check engine: runs every target's configured check (control/config/health_check.h) and
// the external feeds on ONE thread, turns results into up/down verdicts with rise/fall damping,
// and reports each change through a callback the moment it is decided, so that the daemon can
// store the health word (maps/control_block.h) within microseconds of the probe finishing.
//
// One thread, event-driven: an epoll loop with a timer heap. TCP checks are non-blocking
// connects; DNS checks one connected UDP socket per check in flight; HTTP/HTTPS checks are libcurl
// easy handles (one per target, reused) on a curl multi handle whose sockets and timer live in
// the same epoll loop. Feeds are a polled file or a command run through /bin/sh -c. Thousands
// of targets cost one timer entry and, while a check runs, one socket each.
//
// Threads: Update(), UpdateFeeds(), Status() and Stop() may be called from any thread; commands
// go to the checker thread through an eventfd-woken queue. The callback runs on the checker
// thread and must not block; it may call Status() but not Update()/UpdateFeeds()/Stop().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/health_check.h"
#include "control/health/check_latency.h"

namespace sextant::control {

// The outcome of one probe (or one feed line).
struct CheckResult {
  enum class Source : uint8_t { kNone = 0, kCheck = 1, kFeed = 2, kReload = 3 };
  Source source = Source::kNone;
  bool ok = false;
  bool drained = false;  // a feed said "drain": not up, and the daemon may mark the word drained
  // What happened, for people: "connected", "HTTP 200", "rcode NOERROR", "connect refused",
  // "timeout after 2000 ms", "HTTP 503", "body did not contain OK", "certificate verify
  // failed: ...", "rcode SERVFAIL", "feed /path: down".
  std::string reason;
  uint32_t latency_us = 0;  // probe start to result (0 for feeds)
  int64_t finished_unix_ms = 0;
  int64_t finished_mono_ns = 0;  // CLOCK_MONOTONIC when the result was seen (verdict latency)
};

// A target as the daemon hands it over on every (re)load.
struct CheckedTarget {
  uint32_t id = 0;   // the daemon's key, passed back in the callback (e.g. the health word)
  std::string name;  // identity across reloads: state is kept for a name that stays
  std::optional<CheckSpec> check;  // none (or type none) = only feeds move it
  bool initial_up = true;          // what the daemon believes now (last known or configured)
};

struct TargetStatus {
  uint32_t id = 0;
  std::string name;
  CheckType type = CheckType::kNone;
  bool up = true;
  bool drained = false;
  int64_t since_unix_ms = 0;  // of the last state change (or of the target's arrival)
  bool has_result = false;
  CheckResult last;
  uint32_t consecutive_ok = 0;
  uint32_t consecutive_fail = 0;
  uint64_t checks_run = 0;
  CheckLatencyHistogram latency;  // every result's
};

// Engine-wide counters, for the benchmark and `sextantctl status`.
struct CheckerStats {
  uint64_t checks_started = 0;
  uint64_t checks_finished = 0;
  uint64_t checks_late = 0;  // started more than kLateThreshold after their due time
  uint64_t max_start_delay_us = 0;
  uint64_t timeouts = 0;
  uint64_t state_changes = 0;
  uint64_t feed_runs = 0;
};

class HealthChecker {
 public:
  using ChangeCallback = std::function<void(uint32_t id, bool up, const CheckResult& result)>;

  // A check that starts this much after its due time counts as late in CheckerStats.
  static constexpr int64_t kLateThresholdNs = 50'000'000;  // 50 ms

  struct Options {
    ChangeCallback on_change;           // may be empty
    uint32_t feed_file_poll_ms = 200;   // how often feed files are stat()ed for changes
    size_t max_body_bytes = 64 * 1024;  // window searched for body_contains
    size_t max_feed_output = 1 << 20;   // a feed command's stdout past this is an error
    bool log_changes = true;            // one stderr line per state change
  };

  static absl::StatusOr<std::unique_ptr<HealthChecker>> Create(Options options);
  ~HealthChecker();  // Stop()s
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the set of targets. A target whose name stays keeps its state and counters (and
  // its running check, when its spec is unchanged); a new one starts at `initial_up`, with its
  // first check at a random point of its interval so that thousands of targets do not probe
  // together. Whenever the state kept differs from the `initial_up` passed, the callback fires
  // once for that target (source kReload), so the caller's view always matches the checker's.
  // Blocks until the checker thread has applied it.
  void Update(std::vector<CheckedTarget> targets);

  // Replaces the feeds. A feed whose spec is unchanged keeps running undisturbed; others are
  // stopped (a running command is killed) and the new ones start at once.
  void UpdateFeeds(std::vector<FeedSpec> feeds);

  // Starts the checker thread. Fails if it is already running.
  absl::Status Start();
  // Stops and joins the thread: checks in flight are abandoned (not counted), feed commands
  // killed and reaped. Idempotent.
  void Stop();

  // Per-target status, ordered by name. Thread-safe.
  std::vector<TargetStatus> Status() const;
  std::optional<TargetStatus> StatusOf(const std::string& name) const;
  CheckerStats Stats() const;
  // The checker thread's kernel thread id (for /proc/self/task/TID/stat), 0 when not running.
  int thread_tid() const;

  class Engine;  // health_checker.cc: targets, feeds and verdicts on one event loop

 private:
  explicit HealthChecker(std::unique_ptr<Engine> engine);

  std::unique_ptr<Engine> engine_;
};

}  // namespace sextant::control
