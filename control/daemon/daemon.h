// The long-running sextant-control: loads the config, publishes snapshots, runs the health
// checks, keeps the health words and the operator's overrides, and answers sextantctl on the
// control socket. One thread runs the event loop (epoll over inotify, a signalfd, the control
// socket and timers); the health checker runs on its own thread and reports verdicts through a
// callback that stores the health word at once. The state file (last known health, overrides) is
// written and fsynced on a writer thread (state_writer.h): a slow disk never stalls the loop, and
// a force or release is answered once the writer reports it on disk.
//
// Reloads (a watched file changed, SIGHUP, or `sextantctl reload`) are debounced: the loop waits
// until the files have been quiet for `control.reload_delay` (default 200 ms, at most 10 x that
// after the first change), then compiles once, however many changes came in. The compile runs on
// the reload worker (reload_worker.h, reload_job.h) while the loop keeps answering the socket,
// storing verdicts and expiring overrides; the loop publishes its result. A reload asked for
// while one runs waits and runs once after it. A zone or geo map that does not load is refused
// alone and keeps its last good version (control/compile/reload_inputs.h); a config that does
// not load is refused whole, with one log line, and the last good state keeps serving.
#pragma once

#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/config.h"
#include "control/daemon/control_command.h"
#include "control/daemon/control_socket.h"
#include "control/daemon/file_watcher.h"
#include "control/daemon/instance_lock.h"
#include "control/daemon/metrics.h"
#include "control/daemon/publisher.h"
#include "control/daemon/reload_job.h"
#include "control/daemon/reload_worker.h"
#include "control/daemon/state_writer.h"
#include "control/fleet/bundle.h"
#include "control/fleet/fleet_agent.h"
#include "control/fleet/fleet_health.h"
#include "control/health/health_checker.h"
#include "control/health/health_state.h"

namespace sextant::control {

struct DaemonOptions {
  std::string config_path;
  std::string instance;  // overrides the config's when not empty
};

class ControlDaemon {
 public:
  // Loads and publishes the config; a config that is invalid at start stops start-up (the
  // dataplane keeps serving what it has).
  static absl::StatusOr<std::unique_ptr<ControlDaemon>> Create(const DaemonOptions& options);
  ~ControlDaemon();

  // Runs until SIGTERM or SIGINT. Returns the process exit code.
  int Run();

 private:
  explicit ControlDaemon(DaemonOptions o) : options_(std::move(o)) {}
  absl::Status Init();
  // Start-up steps, each taking a resource or failing with its name and errno, all before the
  // first publish.
  absl::Status OpenStateFile();
  absl::Status StartMetrics();
  static sigset_t BlockSignals();
  void KeepStartupSettings(Config* next) const;
  absl::Status SetUpEventLoop();
  // Compiles and publishes the config at `config_path` here and now (start-up); on error nothing
  // changes.
  absl::StatusOr<uint64_t> ReloadNow(const std::string& why, const std::string& config_path);
  // Asks for a reload on the worker: started now, or after the running one (coalesced).
  // `waiter`: a control socket connection to answer with the outcome.
  void RequestReload(const std::string& why, int waiter = -1, bool sighup = false);
  void StartReload(ReloadQueue::Run run, const std::string& config_path, InputMode mode);
  ReloadJob MakeJob(const std::string& config_path, InputMode mode) const;
  void OnReloadDone();
  void StartNextReload();
  // The loop's half of a reload: publishes a staged result, or refuses it.
  absl::StatusOr<uint64_t> FinishReload(ReloadResult& r, const std::string& why);
  absl::Status Refuse(const absl::Status& s, const std::string& why);
  void WatchFiles(const std::vector<std::string>& files);
  void LogInputs(const ReloadResult& r);
  void AnswerWaiters(const std::vector<int>& waiters, const absl::StatusOr<uint64_t>& gen);
  std::optional<absl::StatusOr<std::string>> Handle(const std::string& line, int conn);
  absl::StatusOr<std::string> Force(const OverrideRequest& r);
  absl::StatusOr<std::string> Release(const OverrideRequest& r);
  // Holds an override's reply until the state file holds the override.
  std::optional<absl::StatusOr<std::string>> ReplyWhenSaved(absl::StatusOr<std::string> reply,
                                                            int conn);
  std::string StatusText(bool json);
  void ApplyTargets(const Config& config, const std::map<std::string, uint32_t>& words);
  static std::vector<TargetSpec> SpecsOf(const Config& config,
                                         const std::map<std::string, uint32_t>& words);
  void OnVerdict(uint32_t word, bool up, const CheckResult& result);
  void StartFleet();
  std::optional<fleet::CurrentBundle> CurrentBundle() const;
  void ActivateBundle();
  bool StartBundle();
  void BundleDone(int64_t revision, const std::string& path, const absl::StatusOr<uint64_t>& gen);
  void OnFleetView(const fleet::FleetView& view);
  absl::StatusOr<std::string> FleetRequest(const ControlCommand& c);
  void RefreshResults();
  // Hands the table to the state writer when it changed; returns the sequence number of the last
  // text handed over (StateWriter::WhenWritten), 0 when there is no writer.
  uint64_t SaveState();
  void ArmTimer(int fd, int64_t ms);
  void RotateCookieSecret(int64_t now_ms);
  std::string MetricsNow();

  DaemonOptions options_;
  std::unique_ptr<InstanceLock> lock_;  // declared first: released last
  Config config_;                       // the last config that published
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<ControlSocketServer> socket_;
  std::unique_ptr<FileWatcher> watcher_;
  std::unique_ptr<HealthChecker> checker_;

  std::mutex mu_;  // guards table_ and state_dirty_ (the checker thread reports into them)
  std::unique_ptr<HealthTable> table_;
  bool state_dirty_ = false;
  // Writes (and fsyncs) the state file on its own thread, so that a slow disk never stalls the
  // loop; the loop only serialises (state_writer.h).
  std::unique_ptr<StateWriter> state_writer_;
  std::map<uint32_t, std::string> word_names_;  // checker ids are health word indices
  fleet::FleetHealth fleet_health_;             // the fleet's verdicts and overrides
  std::unique_ptr<fleet::FleetAgent> fleet_;    // none without a `fleet:` section

  int epoll_fd_ = -1, signal_fd_ = -1, debounce_fd_ = -1, tick_fd_ = -1, bundle_fd_ = -1;
  // The config loaded: options_.config_path, or the merged config of the fleet bundle revision
  // this node serves (control/fleet/bundle.h).
  std::string config_path_;
  int64_t bundle_revision_ = 0;
  std::mutex bundle_mu_;  // the fleet thread hands a new bundle revision to the loop
  std::optional<std::pair<int64_t, std::string>> pending_bundle_;
  int64_t first_change_ms_ = 0;  // of the pending, not yet reloaded, changes; 0 = none
  int64_t started_ms_ = 0;
  // Atomic: the metrics thread reads them.
  std::atomic<uint64_t> reloads_ok_{0}, reloads_refused_{0};
  std::string last_reload_;  // "ok: generation N (why)" or "refused: message"
  std::atomic<int64_t> last_reload_ms_{0};
  std::atomic<int64_t> last_ok_reload_ms_{0}, last_refused_reload_ms_{0};
  std::vector<GeoMapBuilt> live_geo_maps_;  // of the published snapshot; guarded by mu_
  // What the published snapshot serves for each zone and geo map, and what its reload could not
  // load (guarded by mu_: the metrics thread reads them).
  std::vector<std::string> live_zones_;
  std::vector<InputRefusal> refusals_;
  std::vector<GeoMapOutcome> geo_outcomes_;
  LastGoodInputs last_good_;  // loop only; a job gets a copy

  // The reload worker and what it runs: job_ and result_ belong to the worker between Start and
  // Reap, to the loop otherwise.
  std::unique_ptr<ReloadWorker> worker_;
  ReloadQueue queue_;
  std::optional<ReloadQueue::Run> running_;
  struct RunningBundle {
    int64_t revision = 0;
    std::string path;
  };
  std::optional<RunningBundle> running_bundle_;  // the running job activates this bundle
  bool bundle_waiting_ = false;                  // a bundle came while a job ran
  ReloadJob job_;
  ReloadResult result_;
  int64_t reload_started_ms_ = 0;
  std::unique_ptr<MetricsServer> metrics_;  // declared last: stopped first
  std::vector<std::string> watched_;
};

}  // namespace sextant::control
