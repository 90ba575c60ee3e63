// ControlDaemon's reload orchestration (daemon.h says how reloads are debounced and coalesced):
// starting a reload job on the ReloadWorker, reaping it when the worker's eventfd fires, and the
// loop's half of every reload (FinishReload publishes a staged result or refuses it, then applies
// the new config). Fleet bundles arrive as reloads too and are started and settled here. Kept
// apart from daemon.cc so that the event loop, the socket's requests and the health state read
// on their own; all of it runs on the loop thread.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/daemon/daemon.h"
#include "control/daemon/service_notify.h"
#include "control/fleet/bundle.h"
#include "control/util/log.h"

namespace sextant::control {

// What start-up took (the socket, its mode, the metrics address, the state file) stays until a
// restart: a reload that changes them says so and keeps running with the old ones, so that
// `status` reports what is in use and the state never goes to a file start-up did not check.
void ControlDaemon::KeepStartupSettings(Config* next) const {
  const ControlConfig& now = config_.control;
  ControlConfig& want = next->control;
  const bool changed = want.socket != now.socket || want.socket_mode != now.socket_mode ||
                       want.state_file != now.state_file || want.metrics_host != now.metrics_host ||
                       want.metrics_port != now.metrics_port;
  if (changed) {
    Log(LogLevel::kWarning,
        "warning: control.socket, socket_mode, metrics and state_file take effect at the next "
        "restart of sextant-control; it keeps the ones it started with");
  }
  if (!(next->fleet.endpoints == config_.fleet.endpoints &&
        next->fleet.node == config_.fleet.node && next->fleet.prefix == config_.fleet.prefix &&
        next->fleet.present == config_.fleet.present)) {
    Log(LogLevel::kWarning,
        "warning: fleet endpoints, node and prefix take effect at the next restart of "
        "sextant-control; it keeps the ones it started with");
  }
  const Quorum quorum = next->fleet.quorum;  // applied by a reload
  next->fleet = config_.fleet;
  next->fleet.quorum = quorum;
  const int64_t reload_delay_ms = want.reload_delay_ms;
  want = now;
  want.reload_delay_ms = reload_delay_ms;  // applied by a reload
}

absl::Status ControlDaemon::Refuse(const absl::Status& s, const std::string& why) {
  ++reloads_refused_;
  last_refused_reload_ms_ = last_reload_ms_.load();
  const uint64_t active =
      publisher_->block()->hdr.active_generation.load(std::memory_order_acquire);
  last_reload_ = absl::StrCat("refused (", why, "): ", s.message());
  Log(LogLevel::kWarning, absl::StrCat("reload refused (", why, "), still serving generation ",
                                       active, ": ", s.message()));
  return s;
}

void ControlDaemon::WatchFiles(const std::vector<std::string>& files) {
  if (files == watched_) return;
  if (absl::Status s = watcher_->Watch(files); !s.ok()) {
    Log(LogLevel::kWarning, std::string(s.message()));
  }
  watched_ = files;
}

ReloadJob ControlDaemon::MakeJob(const std::string& config_path, InputMode mode) const {
  ReloadJob job;
  job.config_path = config_path;
  job.instance_override = options_.instance;
  job.instance = config_.instance;
  job.last_good = last_good_;
  job.mode = mode;
  job.generation = publisher_->NextGeneration();
  job.publisher = publisher_.get();
  return job;
}

absl::StatusOr<uint64_t> ControlDaemon::ReloadNow(const std::string& why,
                                                  const std::string& config_path) {
  // Start-up is strict: with nothing served yet, every zone and map must load.
  ReloadResult r = RunReloadJob(MakeJob(config_path, InputMode::kStrict));
  return FinishReload(r, why);
}

// The zones and maps the reload could not load, and how each map came to be.
void ControlDaemon::LogInputs(const ReloadResult& r) {
  for (const InputRefusal& f : r.inputs.refusals) {
    const std::string what = f.kind == InputRefusal::Kind::kZone
                                 ? absl::StrCat("zone ", f.name)
                                 : absl::StrCat("geo map '", f.name, "'");
    const std::string serving =
        f.last_good_unix_ms ? "serving its last good version" : "left out (never loaded)";
    Log(LogLevel::kWarning, absl::StrCat(what, " refused, ", serving, ": ", f.reason));
  }
  for (const GeoMapOutcome& g : r.inputs.geo_outcomes) {
    const LastGoodInputs::GeoMap& m = r.inputs.next.geo_maps.at(g.name);
    if (g.source == GeoMapSource::kCompiled) {
      Log(LogLevel::kInfo, m.built.summary);
    } else if (g.source == GeoMapSource::kReused) {
      Log(LogLevel::kInfo, absl::StrCat("geo map '", g.name, "': inputs unchanged, reused (",
                                        m.built.networks, " networks)"));
    }
  }
}

absl::StatusOr<uint64_t> ControlDaemon::FinishReload(ReloadResult& r, const std::string& why) {
  last_reload_ms_ = NowUnixMs();
  if (r.config_loaded) WatchFiles(r.files);
  if (!r.status.ok()) return Refuse(r.status, why);
  // The words the new snapshot reads must hold their targets' state (last known, overrides,
  // datacenter drains, and every verdict that came in while it compiled) before it is published,
  // not just after. New targets have words no published snapshot uses (AssignTargetIndexes), so
  // this changes no answer being served.
  publisher_->InitTargetWords(r.config.policies, r.targets);
  {
    std::lock_guard<std::mutex> lock(mu_);
    table_->StoreAhead(SpecsOf(r.config, r.targets.assigned), NowUnixMs());
  }
  absl::StatusOr<uint64_t> gen = publisher_->Commit(r.generation);
  if (!gen.ok()) return Refuse(gen.status(), why);
  for (const std::string& w : r.config.warnings) {
    Log(LogLevel::kWarning, absl::StrCat("warning: ", w));
  }
  LogInputs(r);
  if (absl::Status s = publisher_->SaveTargets(r.targets.assigned); !s.ok()) {
    Log(LogLevel::kError, std::string(s.message()));
  }
  KeepStartupSettings(&r.config);
  config_ = std::move(r.config);
  maps::SetLogLevel(config_.log_level);
  ApplyTargets(config_, r.targets.assigned);
  ++reloads_ok_;
  last_ok_reload_ms_ = last_reload_ms_.load();
  last_good_ = std::move(r.inputs.next);
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_geo_maps_.clear();
    for (const GeoMapConfig& m : config_.geo_maps) {
      live_geo_maps_.push_back(last_good_.geo_maps.at(m.name).built);
    }
    live_zones_.clear();
    for (const ZoneConfig& z : config_.zones) live_zones_.push_back(z.origin);
    refusals_ = r.inputs.refusals;
    geo_outcomes_ = r.inputs.geo_outcomes;
  }
  std::string counts =
      absl::StrCat(Plural(r.inputs.zones.size(), "zone"), ", ", Plural(r.records, "record"), ", ",
                   Plural(r.bytes, "byte"), ", ", r.compile_ms, " ms");
  if (!r.inputs.refusals.empty()) {
    std::vector<std::string> names;
    names.reserve(r.inputs.refusals.size());
    for (const InputRefusal& f : r.inputs.refusals) names.push_back(f.name);
    absl::StrAppend(&counts, "; refused: ", absl::StrJoin(names, ", "));
  }
  last_reload_ = absl::StrCat("ok (", why, "): generation ", *gen, ", ", counts);
  Log(LogLevel::kInfo, absl::StrCat("published generation ", *gen, " (", why, "): ", counts));
  return *gen;
}

void ControlDaemon::RequestReload(const std::string& why, int waiter, bool sighup) {
  std::optional<ReloadQueue::Run> run = queue_.Request(why, waiter, sighup);
  if (!run) {
    Log(LogLevel::kInfo,
        absl::StrCat("reload (", why, ") requested while one compiles: runs after it"));
    return;
  }
  StartReload(std::move(*run), config_path_, InputMode::kIsolate);
}

void ControlDaemon::StartReload(ReloadQueue::Run run, const std::string& config_path,
                                InputMode mode) {
  running_ = std::move(run);
  reload_started_ms_ = NowUnixMs();
  job_ = MakeJob(config_path, mode);
  worker_->Start([this] { result_ = RunReloadJob(job_); });
}

void ControlDaemon::AnswerWaiters(const std::vector<int>& waiters,
                                  const absl::StatusOr<uint64_t>& gen) {
  for (int conn : waiters) {
    if (gen.ok()) {
      ControlSocketServer::Answer(conn, absl::StrCat("published generation ", *gen, "\n"));
    } else {
      ControlSocketServer::Answer(conn, gen.status());
    }
  }
}

void ControlDaemon::OnReloadDone() {
  if (!worker_->Reap() || !running_) return;
  ReloadQueue::Run run = std::move(*running_);
  running_.reset();
  const absl::StatusOr<uint64_t> gen = FinishReload(result_, run.why);
  result_ = ReloadResult();
  if (running_bundle_) {
    const RunningBundle b = std::move(*running_bundle_);
    running_bundle_.reset();
    BundleDone(b.revision, b.path, gen);
  }
  AnswerWaiters(run.waiters, gen);
  if (run.sighup) {
    NotifyReloaded(publisher_->block()->hdr.active_generation.load(), gen.ok() ? "ok" : "refused");
  }
  StartNextReload();
}

void ControlDaemon::StartNextReload() {
  if (std::optional<ReloadQueue::Run> next = queue_.Finished()) {
    StartReload(std::move(*next), config_path_, InputMode::kIsolate);
    return;
  }
  if (bundle_waiting_) {
    bundle_waiting_ = false;
    (void)StartBundle();
  }
}

void ControlDaemon::ActivateBundle() {
  uint64_t x;
  (void)!read(bundle_fd_, &x, sizeof(x));
  if (queue_.running()) {
    bundle_waiting_ = true;  // after the running reload (StartNextReload)
    return;
  }
  (void)StartBundle();
}

// Unpacks the bundle the fleet thread handed over and starts its reload. A bundle is strict: its
// revision is served whole or refused whole, so that every node serving revision N serves the
// same thing.
bool ControlDaemon::StartBundle() {
  std::optional<std::pair<int64_t, std::string>> b;
  {
    std::lock_guard<std::mutex> lock(bundle_mu_);
    b.swap(pending_bundle_);
  }
  if (!b || !fleet_) return false;
  const int64_t revision = b->first;
  absl::StatusOr<std::string> path =
      fleet::UnpackBundle(b->second, revision, config_.fleet.bundle_dir, options_.config_path);
  if (!path.ok()) {
    BundleDone(revision, "", path.status());
    return false;
  }
  running_bundle_ = RunningBundle{revision, *path};
  std::optional<ReloadQueue::Run> run =
      queue_.Request(absl::StrCat("fleet bundle revision ", revision), -1, false);
  if (!run) return false;  // not reached: callers start bundles only while no reload runs
  StartReload(std::move(*run), *path, InputMode::kStrict);
  return true;
}

void ControlDaemon::BundleDone(int64_t revision, const std::string& path,
                               const absl::StatusOr<uint64_t>& gen) {
  if (gen.ok()) {
    config_path_ = path;
    bundle_revision_ = revision;
    if (absl::Status s = fleet::MarkCurrent(config_.fleet.bundle_dir, revision); !s.ok()) {
      Log(LogLevel::kWarning, std::string(s.message()));
    }
    fleet_->SetBundleState(revision, 0, "");
    std::lock_guard<std::mutex> lock(mu_);
    fleet_health_.SetBundleRevision(revision);
    return;
  }
  Log(LogLevel::kWarning,
      absl::StrCat("fleet: bundle revision ", revision, " refused, still ",
                   bundle_revision_ ? absl::StrCat("revision ", bundle_revision_)
                                    : std::string("the local config"),
                   ": ", gen.status().message()));
  fleet_->SetBundleState(bundle_revision_, revision, std::string(gen.status().message()));
}

}  // namespace sextant::control
