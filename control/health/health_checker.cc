// The checker itself: the targets and feeds the daemon hands over, each target's damped state
// (damping.h) and its check (check_runner.h), all on one event loop (event_loop.h). This file
// applies reloads, turns results and feed lines into verdicts and callbacks, and answers
// Status(); how a check or a feed runs is in the files named above.
#include "control/health/health_checker.h"

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "control/health/check_runner.h"
#include "control/health/checker_counters.h"
#include "control/health/curl_multi.h"
#include "control/health/damping.h"
#include "control/health/event_loop.h"
#include "control/health/feed.h"
#include "control/health/health_clock.h"
#include "control/health/health_log.h"

namespace sextant::control {

using health::CheckerCounters;
using health::CheckRunner;
using health::Damping;
using health::Feed;
using health::FeedLine;
using health::LogHealth;
using health::MonoNs;
using health::UnixMs;

class HealthChecker::Engine {
 public:
  explicit Engine(HealthChecker::Options o) : opt_(std::move(o)), rng_(std::random_device{}()) {}
  ~Engine();

  absl::Status Init();
  absl::Status Start() { return loop_->Start(); }
  void Stop();
  void Update(std::vector<CheckedTarget> targets) {
    loop_->RunOnLoop([this, &targets] { ApplyUpdate(targets); });
  }
  void UpdateFeeds(std::vector<FeedSpec> feeds) {
    loop_->RunOnLoop([this, &feeds] { ApplyFeeds(feeds); });
  }
  std::vector<TargetStatus> Status() const;
  std::optional<TargetStatus> StatusOf(const std::string& name) const;
  CheckerStats Stats() const { return counters_.Load(); }
  int tid() const { return loop_->tid(); }

 private:
  struct Target {
    explicit Target(bool up) : damping(up) {}

    uint32_t id = 0;
    std::string name;
    CheckSpec spec;                       // type kNone = no check
    std::unique_ptr<CheckRunner> runner;  // none without a check

    // State: written by the checker thread under status_mu_, read by Status().
    Damping damping;
    int64_t since_ms = 0;
    bool has_result = false;
    CheckResult last;
    uint64_t checks_run = 0;
    CheckLatencyHistogram latency;
  };

  struct Change {
    uint32_t id;
    bool up;
    CheckResult result;
  };

  void ApplyUpdate(std::vector<CheckedTarget>& targets);
  Target* AddTarget(const CheckedTarget& ct, int64_t now_ms);
  void KeepTarget(Target* t, const CheckedTarget& ct, std::vector<Change>* changes);
  void ScheduleChecks(Target* t, int64_t now);
  void RemoveTargetsNotIn(const std::set<std::string>& wanted);
  void OnCheckResult(Target* t, const CheckResult& r);
  void ApplyFeeds(std::vector<FeedSpec>& specs);
  void OnFeedLines(Feed& feed, const std::vector<FeedLine>& lines);
  void Notify(const std::vector<Change>& changes);
  static TargetStatus Snapshot(const Target& t);

  const HealthChecker::Options opt_;
  std::unique_ptr<health::EventLoop> loop_;
  std::unique_ptr<health::CurlMulti> curl_;
  std::mt19937_64 rng_;
  CheckerCounters counters_;

  // Guards the targets' state and the map against Status() from other threads.
  mutable std::mutex status_mu_;
  std::map<std::string, std::unique_ptr<Target>> targets_;  // by name: Status() is ordered
  std::vector<std::unique_ptr<Feed>> feeds_;
};

// --- Lifecycle ---------------------------------------------------------------------------------

absl::Status HealthChecker::Engine::Init() {
  absl::StatusOr<std::unique_ptr<health::EventLoop>> loop = health::EventLoop::Create();
  if (!loop.ok()) return loop.status();
  loop_ = *std::move(loop);
  absl::StatusOr<std::unique_ptr<health::CurlMulti>> curl = health::CurlMulti::Create(loop_.get());
  if (!curl.ok()) return curl.status();
  curl_ = *std::move(curl);
  return absl::OkStatus();
}

HealthChecker::Engine::~Engine() {
  if (!loop_) return;  // Init() failed
  Stop();
  // Checks and feeds go before the curl handle and the loop they are registered with.
  targets_.clear();
  feeds_.clear();
}

void HealthChecker::Engine::Stop() {
  // Leave nothing behind: checks in flight are dropped (their timers restart them on Start()),
  // commands killed and reaped.
  loop_->Stop([this] {
    for (auto& [name, t] : targets_) {
      if (t->runner) t->runner->Abandon();
    }
    for (auto& f : feeds_) f->Abandon();
  });
}

// --- Targets: reload ---------------------------------------------------------------------------

void HealthChecker::Engine::ApplyUpdate(std::vector<CheckedTarget>& targets) {
  const int64_t now = MonoNs();
  const int64_t now_ms = UnixMs();
  std::vector<Change> changes;
  std::set<std::string> wanted;
  std::unique_lock<std::mutex> lock(status_mu_);
  for (CheckedTarget& ct : targets) {
    if (!wanted.insert(ct.name).second) {
      LogHealth(LogLevel::kWarning,
                absl::StrCat("target ", ct.name, " listed twice; the first one counts"));
      continue;
    }
    CheckSpec spec;
    if (ct.check && ct.check->type != CheckType::kNone) spec = *ct.check;
    Target* t;
    if (auto it = targets_.find(ct.name); it != targets_.end()) {
      t = it->second.get();
      KeepTarget(t, ct, &changes);
      if (spec == t->spec) continue;  // check unchanged: leave it running
    } else {
      t = AddTarget(ct, now_ms);
    }
    t->spec = std::move(spec);
    ScheduleChecks(t, now);
  }
  RemoveTargetsNotIn(wanted);
  lock.unlock();
  Notify(changes);
}

HealthChecker::Engine::Target* HealthChecker::Engine::AddTarget(const CheckedTarget& ct,
                                                                int64_t now_ms) {
  auto t = std::make_unique<Target>(ct.initial_up);
  t->id = ct.id;
  t->name = ct.name;
  t->since_ms = now_ms;
  Target* raw = t.get();
  targets_[ct.name] = std::move(t);
  return raw;
}

// A kept target keeps its state; when that differs from what the daemon believes, the daemon
// hears it once.
void HealthChecker::Engine::KeepTarget(Target* t, const CheckedTarget& ct,
                                       std::vector<Change>* changes) {
  t->id = ct.id;
  const bool up = t->damping.up();
  if (up == ct.initial_up) return;
  CheckResult r = t->last;
  r.source = CheckResult::Source::kReload;
  r.drained = t->damping.drained();
  r.reason = absl::StrCat("state kept across reload (", up ? "up" : "down",
                          t->has_result ? ", last: " + t->last.reason : "", ")");
  changes->push_back({t->id, up, std::move(r)});
}

void HealthChecker::Engine::ScheduleChecks(Target* t, int64_t now) {
  t->runner.reset();
  if (t->spec.type == CheckType::kNone) return;
  const health::ProbeContext context{.loop = loop_.get(), .curl = curl_.get(), .rng = &rng_};
  t->runner = std::make_unique<CheckRunner>(
      t->spec, context, &counters_, [this, t](const CheckResult& r) { OnCheckResult(t, r); });
  // First check at a random point of the interval: targets loaded together spread out.
  std::uniform_int_distribution<int64_t> jitter(0, health::MsToNs(t->spec.interval_ms));
  t->runner->StartAt(now + jitter(rng_));
}

void HealthChecker::Engine::RemoveTargetsNotIn(const std::set<std::string>& wanted) {
  std::erase_if(targets_, [&wanted](const auto& entry) { return !wanted.contains(entry.first); });
}

// --- Verdicts ----------------------------------------------------------------------------------

void HealthChecker::Engine::OnCheckResult(Target* t, const CheckResult& r) {
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    ++t->checks_run;
    t->has_result = true;
    t->last = r;
    t->latency.Observe(r.latency_us);
    if (t->damping.OnCheck(r.ok, t->spec.rise, t->spec.fall)) {
      const bool up = t->damping.up();
      t->since_ms = r.finished_unix_ms;
      changes.push_back({t->id, up, r});
      if (opt_.log_changes) {
        LogHealth(
            up ? LogLevel::kNotice : LogLevel::kWarning,
            absl::StrCat(t->name, " ", up ? "up" : "down", " (", r.reason, "; ",
                         up ? t->damping.ok_streak() : t->damping.fail_streak(), " in a row)"));
      }
    }
  }
  Notify(changes);
}

void HealthChecker::Engine::OnFeedLines(Feed& feed, const std::vector<FeedLine>& lines) {
  std::vector<Change> changes;
  const int64_t now = MonoNs();
  const int64_t now_ms = UnixMs();
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    for (const FeedLine& l : lines) {
      auto it = targets_.find(l.target);
      if (it == targets_.end()) {
        feed.LogOnce("target:" + l.target, absl::StrCat("unknown target '", l.target, "' ignored"));
        continue;
      }
      Target* t = it->second.get();
      if (!t->damping.OnFeed(l.verdict)) continue;
      CheckResult r;
      r.source = CheckResult::Source::kFeed;
      r.ok = t->damping.up();
      r.drained = t->damping.drained();
      r.reason = absl::StrCat(feed.name(), ": ", health::FeedVerdictName(l.verdict));
      r.finished_unix_ms = now_ms;
      r.finished_mono_ns = now;
      t->since_ms = now_ms;
      if (t->spec.type == CheckType::kNone || !t->has_result) {
        t->last = r;
        t->has_result = true;
      }
      changes.push_back({t->id, r.ok, r});
      if (opt_.log_changes) {
        LogHealth(r.ok ? LogLevel::kNotice : LogLevel::kWarning,
                  absl::StrCat(t->name, " ", r.reason));
      }
    }
  }
  Notify(changes);
}

void HealthChecker::Engine::Notify(const std::vector<Change>& changes) {
  CheckerCounters::Add(counters_.state_changes, changes.size());
  if (!opt_.on_change) return;
  for (const Change& c : changes) opt_.on_change(c.id, c.up, c.result);
}

// --- Feeds -------------------------------------------------------------------------------------

void HealthChecker::Engine::ApplyFeeds(std::vector<FeedSpec>& specs) {
  const health::FeedOptions options{.file_poll_ms = opt_.feed_file_poll_ms,
                                    .max_output = opt_.max_feed_output};
  std::vector<std::unique_ptr<Feed>> next;
  for (FeedSpec& spec : specs) {
    auto same = std::find_if(feeds_.begin(), feeds_.end(),
                             [&](const auto& f) { return f && f->spec() == spec; });
    if (same != feeds_.end()) {
      next.push_back(std::move(*same));  // unchanged: keeps its schedule and running command
      continue;
    }
    next.push_back(std::make_unique<Feed>(
        std::move(spec), options, loop_.get(), &counters_.feed_runs,
        [this](Feed& f, const std::vector<FeedLine>& lines) { OnFeedLines(f, lines); }));
    next.back()->Start(MonoNs());
  }
  feeds_ = std::move(next);  // the others go, their commands killed
}

// --- Status ------------------------------------------------------------------------------------

TargetStatus HealthChecker::Engine::Snapshot(const Target& t) {
  TargetStatus s;
  s.id = t.id;
  s.name = t.name;
  s.type = t.spec.type;
  s.up = t.damping.up();
  s.drained = t.damping.drained();
  s.since_unix_ms = t.since_ms;
  s.has_result = t.has_result;
  s.last = t.last;
  s.consecutive_ok = t.damping.ok_streak();
  s.consecutive_fail = t.damping.fail_streak();
  s.checks_run = t.checks_run;
  s.latency = t.latency;
  return s;
}

std::vector<TargetStatus> HealthChecker::Engine::Status() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  std::vector<TargetStatus> out;
  out.reserve(targets_.size());
  for (const auto& [name, t] : targets_) out.push_back(Snapshot(*t));
  return out;
}

std::optional<TargetStatus> HealthChecker::Engine::StatusOf(const std::string& name) const {
  std::lock_guard<std::mutex> lock(status_mu_);
  auto it = targets_.find(name);
  if (it == targets_.end()) return std::nullopt;
  return Snapshot(*it->second);
}

// --- HealthChecker -----------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<HealthChecker>> HealthChecker::Create(Options options) {
  auto engine = std::make_unique<Engine>(std::move(options));
  if (absl::Status s = engine->Init(); !s.ok()) return s;
  return std::unique_ptr<HealthChecker>(new HealthChecker(std::move(engine)));
}

HealthChecker::HealthChecker(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
HealthChecker::~HealthChecker() = default;
void HealthChecker::Update(std::vector<CheckedTarget> targets) {
  engine_->Update(std::move(targets));
}
void HealthChecker::UpdateFeeds(std::vector<FeedSpec> feeds) {
  engine_->UpdateFeeds(std::move(feeds));
}
absl::Status HealthChecker::Start() { return engine_->Start(); }
void HealthChecker::Stop() { engine_->Stop(); }
std::vector<TargetStatus> HealthChecker::Status() const { return engine_->Status(); }
std::optional<TargetStatus> HealthChecker::StatusOf(const std::string& name) const {
  return engine_->StatusOf(name);
}
CheckerStats HealthChecker::Stats() const { return engine_->Stats(); }
int HealthChecker::thread_tid() const { return engine_->tid(); }

}  // namespace sextant::control
