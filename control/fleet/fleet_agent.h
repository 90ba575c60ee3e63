// This node's part in the fleet (README "Running a fleet"): on its own thread, with its own
// etcd client (etcd_client.h), it holds a lease, registers the node under it, publishes this
// node's vote per checked target under it (so a dead node's membership and votes vanish when its
// lease expires), and reads the fleet's members, votes and overrides every `fleet.poll`. Each
// read, or each failure, is handed to the daemon as a FleetView, which the daemon turns into
// health words through the same lock as the checker's verdicts. Nothing here runs on the control
// event loop, and nothing on the query path ever waits for etcd.
//
// Partitions: while etcd cannot be reached the last view stands; after `fleet.grace` the view
// says `fallback` and the daemon uses its local verdicts only. When etcd answers again the agent
// takes a new lease (the old one has usually expired), registers and votes again: no restart.
//
// Keys under fleet.prefix P:
//   P members/NODE                 {"node","site","pid","started_unix_ms","generation"}  (lease)
//   P votes/TARGET/NODE            {"up": bool}                                          (lease)
//   P overrides/target/NAME        {"state","set_unix_ms","expires_unix_ms","by"}  (lease = --for)
//   P overrides/datacenter/NAME    the same, for every target of datacenter NAME
//   P bundle                       the configuration bundle (bundle.h), read when it changes
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "control/config/fleet_config.h"
#include "control/fleet/etcd_client.h"
#include "control/health/health_state.h"

namespace sextant::control::fleet {

struct MemberInfo {
  std::string node;
  std::string site;
  int64_t pid = 0;
  int64_t started_unix_ms = 0;
  uint64_t generation = 0;
  int64_t revision = 0;          // the bundle revision it serves (0 = its own config)
  int64_t refused_revision = 0;  // the last bundle revision it refused, if any
  std::string refusal;           // why
};

struct FleetView {
  bool reachable = false;  // the last round trip to etcd worked
  bool fallback = true;    // unreachable past the grace period, or never reached: local verdicts
  int64_t last_ok_unix_ms = 0;
  int64_t revision = 0;                                      // etcd's, at the last read
  int64_t bundle_revision = 0;                               // the published bundle's (0 = none)
  std::string error;                                         // the last failure, while unreachable
  std::map<std::string, MemberInfo> members;                 // live nodes
  std::map<std::string, std::map<std::string, bool>> votes;  // target -> node -> up
  std::map<std::string, Override> target_overrides;
  std::map<std::string, Override> dc_overrides;
  uint64_t fallbacks = 0;  // times the grace period ran out
  uint64_t errors = 0;     // failed rounds
};

// The JSON of an override as stored (sextantctl writes it, every agent reads it).
std::string OverrideValue(const Override& o, const std::string& by);
bool ParseOverride(const std::string& value, Override* out);

class FleetAgent {
 public:
  using ViewCallback = std::function<void(const FleetView& view)>;
  // A bundle revision this node has not yet activated or refused (fleet.distribute only).
  using BundleCallback = std::function<void(int64_t revision, const std::string& value)>;

  FleetAgent(FleetConfig config, ViewCallback on_view, BundleCallback on_bundle = nullptr);
  ~FleetAgent();  // Stop()s
  FleetAgent(const FleetAgent&) = delete;
  FleetAgent& operator=(const FleetAgent&) = delete;

  void Start();
  // Revokes the lease (this node's votes vanish at once) and joins the thread.
  void Stop();

  // This node's verdicts: the whole set (a reload; votes of targets gone are deleted), or one
  // that changed. Thread-safe; the next round publishes them (one is woken at once).
  void SetVotes(const std::map<std::string, bool>& votes);
  void SetVote(const std::string& target, bool up);
  void SetGeneration(uint64_t generation);
  // What this node did with the bundles: the revision it serves, the last one it refused and
  // why; published under its member key. Revisions up to these are not handed over again.
  void SetBundleState(int64_t active, int64_t refused, const std::string& reason);

  FleetView View() const;
  const FleetConfig& config() const { return config_; }

 private:
  void Run();
  bool Round(FleetView* view);
  absl::Status EnsureLease();
  absl::Status PublishVotes();
  absl::Status Read(FleetView* view);
  absl::Status ReadBundle(int64_t revision);
  void Fail(FleetView* view, const absl::Status& s);
  std::string MemberValue() const;
  void ParseKey(const KeyValue& kv, FleetView* view) const;

  const FleetConfig config_;
  const ViewCallback on_view_;
  const BundleCallback on_bundle_;
  EtcdClient etcd_;  // the fleet thread's only
  const int64_t started_unix_ms_;
  int64_t lease_ = 0;
  int64_t last_keepalive_ms_ = 0;
  int64_t last_ok_mono_ms_ = 0;
  std::set<std::string> published_;  // vote keys this lease holds

  mutable std::mutex mu_;  // guards what follows
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<std::string, bool> votes_;
  std::set<std::string> dirty_;  // targets whose vote must be (re)published or deleted
  uint64_t generation_ = 0;
  int64_t bundle_active_ = 0, bundle_refused_ = 0, bundle_handed_ = 0;
  std::string bundle_refusal_;
  bool member_dirty_ = true;
  FleetView view_;
  std::thread thread_;
};

}  // namespace sextant::control::fleet
