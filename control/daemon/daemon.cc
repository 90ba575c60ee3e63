#include "control/daemon/daemon.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "control/compile/compiler.h"
#include "control/daemon/cookie_rotation.h"
#include "control/daemon/override_replies.h"
#include "control/daemon/service_notify.h"
#include "control/daemon/startup_checks.h"
#include "control/fleet/bundle.h"
#include "control/util/log.h"
#include "maps/dataplane_attachment.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

// Heartbeat, override expiry and the state-file flush. A quarter second keeps an expiring
// override within 250 ms of its deadline at no measurable cost.
constexpr int kTickMs = 250;

int MakeTimer() { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

}  // namespace

absl::StatusOr<std::unique_ptr<ControlDaemon>> ControlDaemon::Create(const DaemonOptions& o) {
  auto d = std::unique_ptr<ControlDaemon>(new ControlDaemon(o));
  SX_RETURN_IF_ERROR(d->Init());
  return d;
}

ControlDaemon::~ControlDaemon() {
  metrics_.reset();  // its thread reads the table
  if (worker_ && worker_->busy()) {
    Log(LogLevel::kNotice, "stopping: waiting for the reload in progress to finish compiling");
  }
  worker_.reset();  // joins a running job, which stages through publisher_
  if (running_) {
    if (result_.status.ok()) publisher_->Discard(result_.generation);
    AnswerWaiters(running_->waiters, absl::UnavailableError("sextant-control is stopping"));
  }
  if (queue_.waiting()) {
    AnswerWaiters(queue_.waiting()->waiters, absl::UnavailableError("sextant-control is stopping"));
  }
  fleet_.reset();  // leaves the fleet (revokes the lease) before the checks stop
  if (checker_) checker_->Stop();
  SaveState();
  if (state_writer_) state_writer_->Stop();  // the last state reaches the disk before we exit
  for (int fd : {epoll_fd_, signal_fd_, debounce_fd_, tick_fd_, bundle_fd_}) {
    if (fd >= 0) close(fd);
  }
}

std::string ControlDaemon::MetricsNow() {
  RefreshResults();  // the checks' counts and latencies as of now
  DaemonMetrics d;
  d.reloads_ok = reloads_ok_.load();
  d.reloads_refused = reloads_refused_.load();
  d.last_reload_unix_ms = last_reload_ms_.load();
  d.last_ok_reload_unix_ms = last_ok_reload_ms_.load();
  d.last_refused_reload_unix_ms = last_refused_reload_ms_.load();
  d.generation = publisher_->block()->hdr.active_generation.load(std::memory_order_acquire);
  {
    std::lock_guard<std::mutex> lock(mu_);
    d.geo_maps = live_geo_maps_;
    d.zones = live_zones_;
    d.refusals = refusals_;
    d.geo_outcomes = geo_outcomes_;
    for (const auto& [name, t] : table_->targets()) {
      DaemonMetrics::Target m;
      m.health = t;
      m.word = publisher_->block()->health[t.word_index].load(std::memory_order_relaxed);
      d.targets.push_back(std::move(m));
    }
    if (fleet_) d.extra = fleet_health_.Metrics();
  }
  return MetricsText(d);
}

void ControlDaemon::ArmTimer(int fd, int64_t ms) {
  itimerspec its{};
  if (ms > 0) {
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
  }
  timerfd_settime(fd, 0, &its, nullptr);
}

absl::Status ControlDaemon::Init() {
  started_ms_ = NowUnixMs();
  BlockSignals();
  config_path_ = options_.config_path;
  SX_ASSIGN_OR_RETURN(config_, LoadConfig(config_path_));
  maps::SetLogLevel(config_.log_level);
  if (!options_.instance.empty()) config_.instance = options_.instance;

  // Every resource is taken, or fails with its name and errno, before anything is published: a
  // start that cannot complete leaves the instance's published state as it was.
  SX_ASSIGN_OR_RETURN(lock_, InstanceLock::Acquire(config_.instance, InstanceRole::kDaemon));
  SX_ASSIGN_OR_RETURN(publisher_, Publisher::Create(config_.instance));
  SX_RETURN_IF_ERROR(OpenStateFile());
  HealthChecker::Options copts;
  copts.on_change = [this](uint32_t id, bool up, const CheckResult& r) { OnVerdict(id, up, r); };
  SX_ASSIGN_OR_RETURN(checker_, HealthChecker::Create(std::move(copts)));
  SX_ASSIGN_OR_RETURN(
      socket_, ControlSocketServer::Create(config_.control.socket, config_.control.socket_mode));
  SX_RETURN_IF_ERROR(StartMetrics());
  SX_ASSIGN_OR_RETURN(watcher_, FileWatcher::Create());
  SX_ASSIGN_OR_RETURN(worker_, ReloadWorker::Create());
  SX_RETURN_IF_ERROR(SetUpEventLoop());

  // The first publish is a reload like any other, except that failing it stops start-up. A
  // fleet node that follows bundles starts from the last one it activated.
  if (std::optional<fleet::CurrentBundle> b = CurrentBundle()) {
    config_path_ = b->config_path;
    bundle_revision_ = b->revision;
  }
  auto gen = ReloadNow("start", config_path_);
  if (!gen.ok() && config_path_ != options_.config_path) {
    Log(LogLevel::kWarning,
        absl::StrCat("fleet: bundle revision ", bundle_revision_,
                     " does not load any more; starting from ", options_.config_path));
    config_path_ = options_.config_path;
    bundle_revision_ = 0;
    gen = ReloadNow("start", config_path_);
  }
  if (!gen.ok()) return gen.status();
  RotateCookieSecret(NowUnixMs());
  SX_RETURN_IF_ERROR(checker_->Start());
  StartFleet();
  // Where sextantctl --instance finds us, whatever socket the config chose.
  std::error_code ec;
  const std::filesystem::path socket = std::filesystem::absolute(config_.control.socket, ec);
  maps::RecordControlSocket(*publisher_->block(), ec ? config_.control.socket : socket.string());
  itimerspec tick{};
  tick.it_interval.tv_nsec = kTickMs * 1000000L;
  tick.it_value.tv_nsec = 1000000;
  timerfd_settime(tick_fd_, 0, &tick, nullptr);
  Log(LogLevel::kNotice, absl::StrCat("instance ", config_.instance, ": serving generation ", *gen,
                                      "; control socket ", config_.control.socket, ", state file ",
                                      config_.control.state_file));
  return absl::OkStatus();
}

absl::Status ControlDaemon::OpenStateFile() {
  SX_RETURN_IF_ERROR(CheckStateFile(config_.control.state_file));
  SX_ASSIGN_OR_RETURN(
      state_writer_, StateWriter::Create([path = config_.control.state_file](const std::string& t) {
        absl::Status s = HealthTable::WriteStateFile(path, t);
        if (!s.ok()) Log(LogLevel::kError, std::string(s.message()));
        return s;
      }));
  table_ = std::make_unique<HealthTable>(publisher_->block()->health);
  if (absl::Status s = table_->LoadFile(config_.control.state_file, NowUnixMs()); !s.ok()) {
    // A damaged state file must not keep the service from starting: overrides are lost, which
    // the log says loudly, and checks rebuild the health within a few intervals.
    Log(LogLevel::kWarning, absl::StrCat("ignoring the state file: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status ControlDaemon::StartMetrics() {
  if (config_.control.metrics_port < 0) return absl::OkStatus();
  // Serving from here on, before the first publish: a scrape meanwhile sees the generation
  // still active and the targets not yet loaded.
  SX_ASSIGN_OR_RETURN(
      metrics_, MetricsServer::Start(config_.control.metrics_host, config_.control.metrics_port,
                                     [this] { return MetricsNow(); }));
  Log(LogLevel::kInfo, absl::StrCat("metrics on http://", config_.control.metrics_host, ":",
                                    metrics_->port(), "/metrics"));
  return absl::OkStatus();
}

sigset_t ControlDaemon::BlockSignals() {
  // Signals arrive through a signalfd. They are blocked before any thread exists (the metrics
  // server and the checker start during Init and inherit this mask); a thread that did not block
  // them would take SIGTERM's default action and kill the daemon uncleanly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

absl::Status ControlDaemon::SetUpEventLoop() {
  const sigset_t set = BlockSignals();
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  debounce_fd_ = MakeTimer();
  tick_fd_ = MakeTimer();
  bundle_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (signal_fd_ < 0 || epoll_fd_ < 0 || debounce_fd_ < 0 || tick_fd_ < 0 || bundle_fd_ < 0) {
    return absl::InternalError(absl::StrCat("event loop set-up: ", ErrnoText(errno)));
  }
  for (int fd : {signal_fd_, debounce_fd_, tick_fd_, bundle_fd_, socket_->fd(), watcher_->fd(),
                 worker_->fd(), state_writer_->fd()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  return absl::OkStatus();
}

std::vector<TargetSpec> ControlDaemon::SpecsOf(const Config& config,
                                               const std::map<std::string, uint32_t>& words) {
  std::vector<TargetSpec> specs;
  for (const TargetConfig& t : config.policies.targets) {
    TargetSpec s;
    s.name = t.name;
    s.datacenter = t.datacenter;
    s.word_index = words.at(t.name);
    s.initial_up = t.initial_up;
    s.monitored = (t.check.has_value() && t.check->type != CheckType::kNone) ||
                  !config.policies.health_feeds.empty();
    specs.push_back(s);
  }
  return specs;
}

void ControlDaemon::ApplyTargets(const Config& config,
                                 const std::map<std::string, uint32_t>& words) {
  const std::vector<TargetSpec> specs = SpecsOf(config, words);
  std::vector<CheckedTarget> checked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    table_->SetTargets(specs, NowUnixMs());
    fleet_health_.SetTargets(config);
    for (const TargetSpec& s : specs) fleet_health_.Recompute(s.name, table_.get(), NowUnixMs());
    if (fleet_) {
      fleet_->SetVotes(fleet_health_.LocalVotes(*table_));
      fleet_->SetGeneration(publisher_->block()->hdr.active_generation.load());
    }
    word_names_.clear();
    for (const TargetSpec& s : specs) word_names_[s.word_index] = s.name;
    for (const TargetConfig& t : config.policies.targets) {
      CheckedTarget c;
      c.id = words.at(t.name);
      c.name = t.name;
      c.check = t.check;
      // The checker starts from what the table holds now (last known, else initial), so that a
      // restart does not flap a target that was down.
      c.initial_up = table_->targets().at(t.name).up;
      checked.push_back(std::move(c));
    }
    state_dirty_ = true;
  }
  checker_->Update(std::move(checked));
  checker_->UpdateFeeds(config.policies.health_feeds);
}

std::optional<fleet::CurrentBundle> ControlDaemon::CurrentBundle() const {
  if (!config_.fleet.present || !config_.fleet.distribute) return std::nullopt;
  return fleet::FindCurrent(config_.fleet.bundle_dir);
}

void ControlDaemon::StartFleet() {
  if (!config_.fleet.present) return;
  fleet::FleetAgent::BundleCallback on_bundle;
  if (config_.fleet.distribute) {
    // Runs on the fleet thread: the event loop validates and activates it, like a reload.
    on_bundle = [this](int64_t revision, const std::string& value) {
      {
        std::lock_guard<std::mutex> lock(bundle_mu_);
        pending_bundle_ = {revision, value};
      }
      const uint64_t one = 1;
      (void)!write(bundle_fd_, &one, sizeof(one));
    };
  }
  fleet_ = std::make_unique<fleet::FleetAgent>(
      config_.fleet, [this](const fleet::FleetView& v) { OnFleetView(v); }, std::move(on_bundle));
  fleet_->SetBundleState(bundle_revision_, 0, "");
  {
    std::lock_guard<std::mutex> lock(mu_);
    fleet_health_.SetBundleRevision(bundle_revision_);
    fleet_->SetVotes(fleet_health_.LocalVotes(*table_));
    fleet_->SetGeneration(publisher_->block()->hdr.active_generation.load());
  }
  fleet_->Start();
  Log(LogLevel::kNotice, absl::StrCat("fleet: node ", config_.fleet.node, ", etcd ",
                                      absl::StrJoin(config_.fleet.endpoints, ", "), ", prefix ",
                                      config_.fleet.prefix));
}

void ControlDaemon::OnFleetView(const fleet::FleetView& view) {
  // Runs on the fleet thread, like OnVerdict on the checker's: the words change under the lock.
  std::lock_guard<std::mutex> lock(mu_);
  fleet_health_.Apply(view, table_.get(), NowUnixMs());
}

void ControlDaemon::OnVerdict(uint32_t id, bool up, const CheckResult& r) {
  // Runs on the checker thread. The word is stored inside SetChecked, before anything else
  // happens: that store is what the next query sees.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = word_names_.find(id);
  if (it == word_names_.end()) return;
  const int64_t now = NowUnixMs();
  table_->SetChecked(it->second, up, now, r.drained);
  fleet_health_.Recompute(it->second, table_.get(), now);
  if (fleet_ && fleet_health_.Votes(it->second)) fleet_->SetVote(it->second, up);
  state_dirty_ = true;
}

void ControlDaemon::RefreshResults() {
  // The checker keeps every probe's result; the table only needs them when someone looks.
  std::vector<TargetStatus> st = checker_->Status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const TargetStatus& t : st) {
    if (!t.has_result) continue;
    table_->RecordResult(t.name, t.last.ok, t.last.reason, t.last.latency_us,
                         t.last.finished_unix_ms, t.checks_run, t.latency);
  }
}

uint64_t ControlDaemon::SaveState() {
  // Serialise under the lock; the writer's thread writes and fsyncs: neither the checker
  // thread's verdicts nor the loop wait for the disk.
  if (!state_writer_) return 0;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state_dirty_ || !table_) return state_writer_->submitted();
    state_dirty_ = false;
    text = table_->Serialize();
  }
  return state_writer_->Submit(std::move(text));
}

std::optional<absl::StatusOr<std::string>> ControlDaemon::ReplyWhenSaved(
    absl::StatusOr<std::string> reply, int conn) {
  if (!reply.ok()) return reply;
  // An operator's decision is on disk before we say OK. The loop does not wait for the write:
  // the connection is answered when the writer reports it (or a newer state) written.
  state_writer_->WhenWritten(SaveState(), [conn, text = std::move(*reply)](const absl::Status& s) {
    if (s.ok()) {
      ControlSocketServer::Answer(conn, text);
    } else {
      ControlSocketServer::Answer(
          conn, absl::InternalError(absl::StrCat(
                    "the change is in force but the state file could not be written (a "
                    "restart of sextant-control would undo it): ",
                    s.message())));
    }
  });
  return std::nullopt;
}

namespace {

// `status`'s dataplane lines: every attached dataplane (maps/dataplane_attachment.h).
std::string DataplanesText(const std::vector<maps::AttachedDataplane>& dps, int64_t now_ms) {
  std::string out;
  for (const maps::AttachedDataplane& d : dps) {
    absl::StrAppendFormat(&out, "\n  pid %d: %s, attached %ds ago", d.pid, d.serving,
                          std::max<int64_t>(0, (now_ms - d.attached_unix_ms) / 1000));
  }
  if (dps.empty()) return "none attached";
  return absl::StrCat(dps.size(), " attached", out);
}

nlohmann::json DataplanesJson(const std::vector<maps::AttachedDataplane>& dps) {
  nlohmann::json out = nlohmann::json::array();
  for (const maps::AttachedDataplane& d : dps) {
    out.push_back(
        {{"pid", d.pid}, {"serving", d.serving}, {"attached_unix_ms", d.attached_unix_ms}});
  }
  return out;
}

// `status`'s refused zones and maps: one line each, with the reason and what is served instead.
std::string RefusalsText(const std::vector<InputRefusal>& refusals, int64_t now_ms) {
  std::string out;
  for (const InputRefusal& r : refusals) {
    const std::string what = r.kind == InputRefusal::Kind::kZone ? absl::StrCat("zone ", r.name)
                                                                 : absl::StrCat("geo map ", r.name);
    const std::string serving =
        r.last_good_unix_ms
            ? absl::StrCat("serving its version loaded ",
                           std::max<int64_t>(0, (now_ms - r.last_good_unix_ms) / 1000), "s ago")
            : std::string("left out, never loaded");
    absl::StrAppend(&out, "refused      ", what, " (", serving, "): ", r.reason, "\n");
  }
  return out;
}

nlohmann::json RefusalsJson(const std::vector<InputRefusal>& refusals) {
  nlohmann::json out = nlohmann::json::array();
  for (const InputRefusal& r : refusals) {
    out.push_back({{"kind", r.kind == InputRefusal::Kind::kZone ? "zone" : "geo_map"},
                   {"name", r.name},
                   {"reason", r.reason},
                   {"serving", r.last_good_unix_ms ? "last good" : "none"},
                   {"last_good_unix_ms", r.last_good_unix_ms}});
  }
  return out;
}

// `status`'s geo maps: how the published snapshot got each (compiled, reused, last good).
std::string GeoMapsText(const std::vector<GeoMapOutcome>& geo) {
  if (geo.empty()) return "";
  std::vector<std::string> parts;
  parts.reserve(geo.size());
  for (const GeoMapOutcome& g : geo) {
    parts.push_back(
        g.source == GeoMapSource::kReused
            ? absl::StrCat(g.name, " reused")
            : absl::StrCat(g.name, " ", GeoMapSourceName(g.source), " (", g.compile_ms, " ms)"));
  }
  return absl::StrCat("geo maps     ", absl::StrJoin(parts, ", "), "\n");
}

nlohmann::json GeoMapsJson(const std::vector<GeoMapOutcome>& geo) {
  nlohmann::json out = nlohmann::json::array();
  for (const GeoMapOutcome& g : geo) {
    out.push_back(
        {{"name", g.name}, {"source", GeoMapSourceName(g.source)}, {"compile_ms", g.compile_ms}});
  }
  return out;
}

}  // namespace

std::string ControlDaemon::StatusText(bool json) {
  const uint64_t gen = publisher_->block()->hdr.active_generation.load(std::memory_order_acquire);
  const std::vector<maps::AttachedDataplane> dps = maps::AttachedDataplanes(*publisher_->block());
  int up = 0, down = 0, drained = 0, forced = 0;
  std::vector<InputRefusal> refusals;
  std::vector<GeoMapOutcome> geo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, t] : table_->targets()) {
      const uint32_t w = table_->Word(name);
      if (w & maps::kHealthDrained) {
        ++drained;
      } else if (w & maps::kHealthUp) {
        ++up;
      } else {
        ++down;
      }
      if (w & maps::kHealthForced) ++forced;
    }
    refusals = refusals_;
    geo = geo_outcomes_;
  }
  const int64_t now = NowUnixMs();
  const std::string reloading = running_ ? absl::StrCat(running_->why, ", compiling for ",
                                                        (now - reload_started_ms_) / 1000, "s")
                                         : "";
  if (json) {
    // The schema is docs/schema/status.schema.json; strings are escaped by the library.
    const nlohmann::json j = {
        {"instance", config_.instance},
        {"pid", getpid()},
        {"uptime_s", (now - started_ms_) / 1000},
        {"config", config_path_},
        {"generation", gen},
        {"dataplanes", DataplanesJson(dps)},
        {"reloads_ok", reloads_ok_.load()},
        {"reloads_refused", reloads_refused_.load()},
        {"last_reload", last_reload_},
        {"reloading", reloading},
        {"refused", RefusalsJson(refusals)},
        {"geo_maps", GeoMapsJson(geo)},
        {"targets", {{"up", up}, {"down", down}, {"drained", drained}, {"forced", forced}}},
        {"socket", config_.control.socket},
        {"state_file", config_.control.state_file}};
    return j.dump() + "\n";
  }
  return absl::StrFormat(
      "instance     %s\ncontrol pid  %d, up %ds\nconfig       %s\ngeneration   %d\n"
      "dataplanes   %s\nreloads      %d ok, %d refused; last: %s\n%s%s%s"
      "targets      %d up, %d down, %d drained, %d forced\nsocket       %s\nstate file   %s\n",
      config_.instance, getpid(), (now - started_ms_) / 1000, config_path_, gen,
      DataplanesText(dps, now), reloads_ok_.load(), reloads_refused_.load(), last_reload_,
      reloading.empty() ? "" : absl::StrCat("reloading    ", reloading, "\n"),
      RefusalsText(refusals, now), GeoMapsText(geo), up, down, drained, forced,
      config_.control.socket, config_.control.state_file);
}

std::optional<absl::StatusOr<std::string>> ControlDaemon::Handle(const std::string& line,
                                                                 int conn) {
  absl::StatusOr<ControlCommand> c = ParseControlCommand(line);
  if (!c.ok()) return c.status();
  switch (c->kind) {
    case CommandKind::kStatus:
      return StatusText(c->json);
    case CommandKind::kHealth: {
      RefreshResults();
      std::lock_guard<std::mutex> lock(mu_);
      return table_->Report(c->json, NowUnixMs());
    }
    case CommandKind::kReload:
      // Answered when the reload that reads the files after this request has run.
      RequestReload("sextantctl reload", conn);
      return std::nullopt;
    case CommandKind::kForce:
      return ReplyWhenSaved(Force(c->target), conn);
    case CommandKind::kRelease:
      return ReplyWhenSaved(Release(c->target), conn);
    case CommandKind::kFleetHealth:
    case CommandKind::kFleetStatus:
      return FleetRequest(*c);
  }
  return absl::InternalError("unhandled request");
}

// fleet health [json] | fleet status [json]
absl::StatusOr<std::string> ControlDaemon::FleetRequest(const ControlCommand& c) {
  if (!fleet_) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance ", config_.instance, " is not in a fleet (no fleet: section)"));
  }
  const uint64_t gen = publisher_->block()->hdr.active_generation.load(std::memory_order_acquire);
  std::lock_guard<std::mutex> lock(mu_);
  if (c.kind == CommandKind::kFleetHealth) return fleet_health_.Report(*table_, c.json);
  return fleet_health_.Status(c.json, gen);
}

// force STATE target|datacenter NAME [EXPIRES_IN_MS]
absl::StatusOr<std::string> ControlDaemon::Force(const OverrideRequest& r) {
  const int64_t now = NowUnixMs();
  std::string reply;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SX_RETURN_IF_ERROR(CheckForce(*table_, r));
    SX_RETURN_IF_ERROR(
        table_->Force(r.name, r.datacenter, r.state, r.for_ms ? now + r.for_ms : 0, now));
    state_dirty_ = true;
    reply = ForceReply(*table_, r);
  }
  Log(LogLevel::kNotice,
      absl::StrCat("override: ", r.datacenter ? "datacenter " : "target ", r.name, " forced ",
                   ForcedStateName(r.state),
                   r.for_ms ? absl::StrCat(" for ", r.for_ms / 1000.0, "s") : ""));
  return reply;
}

// release target|datacenter NAME
absl::StatusOr<std::string> ControlDaemon::Release(const OverrideRequest& r) {
  std::string reply;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SX_RETURN_IF_ERROR(CheckRelease(*table_, r));
    SX_RETURN_IF_ERROR(table_->Release(r.name, r.datacenter, NowUnixMs()));
    state_dirty_ = true;
    reply = ReleaseReply(*table_, r);
  }
  Log(LogLevel::kNotice,
      absl::StrCat("override released: ", r.datacenter ? "datacenter " : "target ", r.name));
  return reply;
}

void ControlDaemon::RotateCookieSecret(int64_t now_ms) {
  maps::CookieSecrets& s = publisher_->block()->cookie_secrets;
  const absl::StatusOr<bool> rotated =
      RotateCookieSecretIfDue(s, now_ms, config_.cookies.rotate_ms);
  if (!rotated.ok()) {
    Log(LogLevel::kWarning, rotated.status().message());
  } else if (*rotated) {
    Log(LogLevel::kInfo, absl::StrCat("DNS Cookie secret rotated (",
                                      s.rotations.load(std::memory_order_relaxed), " so far)"));
  }
}

int ControlDaemon::Run() {
  maps::ControlBlockHeader& hdr = publisher_->block()->hdr;
  hdr.control_pid.store(static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
  // Create() published the first snapshot: only now is the service ready for systemd.
  NotifyReady(hdr.active_generation.load());
  for (;;) {
    epoll_event evs[8];
    int n = epoll_wait(epoll_fd_, evs, 8, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Log(LogLevel::kError, absl::StrCat("epoll_wait: ", std::strerror(errno)));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == signal_fd_) {
        signalfd_siginfo si;
        while (read(signal_fd_, &si, sizeof(si)) == sizeof(si)) {
          if (si.ssi_signo == SIGHUP) {
            NotifyReloading();
            RequestReload("SIGHUP", -1, /*sighup=*/true);
          } else {
            NotifyStopping();
            Log(LogLevel::kNotice,
                absl::StrCat("signal ", si.ssi_signo, ": stopping; the dataplane keeps serving ",
                             "generation ", hdr.active_generation.load()));
            hdr.control_pid.store(0, std::memory_order_relaxed);
            return 0;
          }
        }
      } else if (fd == watcher_->fd()) {
        std::vector<std::string> changed = watcher_->Drain();
        if (changed.empty()) continue;
        const int64_t now = NowUnixMs();
        if (first_change_ms_ == 0) first_change_ms_ = now;
        // Debounce: wait for quiet, but never more than 10 delays after the first change, so a
        // file that is rewritten constantly still gets picked up.
        const int64_t delay = config_.control.reload_delay_ms;
        const int64_t deadline = first_change_ms_ + 10 * delay;
        ArmTimer(debounce_fd_, std::max<int64_t>(1, std::min(delay, deadline - now)));
      } else if (fd == debounce_fd_) {
        uint64_t x;
        (void)!read(debounce_fd_, &x, sizeof(x));
        first_change_ms_ = 0;
        RequestReload("files changed");
      } else if (fd == tick_fd_) {
        uint64_t x;
        (void)!read(tick_fd_, &x, sizeof(x));
        const int64_t now = NowUnixMs();
        hdr.control_heartbeat_unix_ms.store(static_cast<uint64_t>(now), std::memory_order_relaxed);
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (std::vector<std::string> gone = table_->ExpireOverrides(now); !gone.empty()) {
            Log(LogLevel::kNotice,
                absl::StrCat(gone.size() == 1 ? "override" : Plural(gone.size(), "override"),
                             " expired: ", absl::StrJoin(gone, ", ")));
            state_dirty_ = true;
          }
        }
        SaveState();
        RotateCookieSecret(now);
      } else if (fd == bundle_fd_) {
        ActivateBundle();
      } else if (fd == socket_->fd()) {
        socket_->Serve([this](const std::string& line, int conn) { return Handle(line, conn); });
      } else if (fd == worker_->fd()) {
        OnReloadDone();
      } else if (fd == state_writer_->fd()) {
        state_writer_->OnWritten();
      }
    }
  }
}

}  // namespace sextant::control
