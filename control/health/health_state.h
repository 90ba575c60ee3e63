// What control knows about every monitored target: the verdict of its checks, the operator's
// overrides (force up / down / drain, per target or per datacenter, with an optional expiry),
// and the health word that results. The daemon owns one HealthTable; the checker's verdicts and
// the operator's commands go through it, and every change that alters a word is stored into the
// control block at once (maps/control_block.h), so the next query sees it.
//
// The table persists to a state file (YAML, written atomically: temp file, fsync, rename) so
// that overrides and the last known health survive restarts of either process. At cold start a
// target takes its last known state from that file; with none, its configured `initial`.
//
// Precedence: a target override beats a datacenter override, which beats the checks.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/health/check_latency.h"

namespace sextant::control {

enum class ForcedState : uint8_t { kUp, kDown, kDrain };

absl::StatusOr<ForcedState> ParseForcedState(const std::string& text);
const char* ForcedStateName(ForcedState s);

struct Override {
  ForcedState state = ForcedState::kDown;
  int64_t set_unix_ms = 0;
  int64_t expires_unix_ms = 0;  // 0 = until released
  bool fleet = false;           // set fleet-wide (etcd), not on this node

  bool operator==(const Override&) const = default;
};

// One target's row, as `sextantctl health` shows it.
struct TargetHealth {
  std::string name;
  std::string datacenter;  // empty = none
  uint32_t word_index = 0;
  bool monitored = false;  // has a check or appears in a feed
  bool up = true;          // the checks' verdict (or initial / last known)
  // In a fleet (control/fleet): the fleet's verdict from every node's vote and the target's
  // quorum; the word follows it instead of `up`. None: not in a fleet, or fallen back to local.
  std::optional<bool> fleet_up;
  bool drained = false;       // a feed said drain
  int64_t since_unix_ms = 0;  // of the checks' verdict (up, drained)
  // The word last stored for the target (what the dataplane serves: checks and overrides
  // together) and since when its state (up, down, drained) is served: `sextantctl health` shows
  // this age, so a target forced down a second ago shows 1s, whatever its checks said before.
  uint32_t served_word = kNoServedWord;
  int64_t served_since_unix_ms = 0;
  static constexpr uint32_t kNoServedWord = ~0u;  // nothing stored yet
  // Last check.
  bool has_result = false;
  bool last_ok = false;
  std::string last_result;
  int64_t last_latency_us = 0;
  int64_t last_check_unix_ms = 0;
  uint64_t checks = 0;
  // For /metrics: the checks' verdict changes (up <-> down or drained), and every result's
  // latency (as the checker observed them).
  uint64_t flaps = 0;
  CheckLatencyHistogram latency;
};

// A configured target as the daemon hands it over on (re)load.
struct TargetSpec {
  std::string name;
  std::string datacenter;
  uint32_t word_index = 0;
  bool initial_up = true;
  bool monitored = false;
};

class HealthTable {
 public:
  // `words` is the control block's health array (kMaxHealthWords entries); null in tests that
  // only look at Word().
  explicit HealthTable(std::atomic<uint32_t>* words) : words_(words) {}

  // Replaces the set of targets (config load or reload). Targets that stay keep their state;
  // new ones start from the state file's last known state, else from `initial_up`. Overrides
  // for targets or datacenters that no longer exist are kept (the next reload may bring them
  // back) but do not show. Writes every word.
  void SetTargets(const std::vector<TargetSpec>& targets, int64_t now_ms);
  // Writes, before a snapshot that uses `targets` is published, the word each will have once
  // SetTargets takes them, without taking them yet: the new snapshot's first query must not
  // see a returning or new target's word from before (the daemon calls this, then publishes,
  // then SetTargets). Words of targets that stay and keep their datacenter do not change.
  void StoreAhead(const std::vector<TargetSpec>& targets, int64_t now_ms);

  // A check verdict changed (or a feed said so). Returns false for an unknown target.
  bool SetChecked(const std::string& name, bool up, int64_t now_ms, bool drained = false);
  // Records a check's result for status output (no state change).
  void RecordResult(const std::string& name, bool ok, const std::string& text, int64_t latency_us,
                    int64_t now_ms, uint64_t checks, const CheckLatencyHistogram& latency = {});

  // Operator overrides. `datacenter` selects every target of that datacenter instead of one.
  absl::Status Force(const std::string& name, bool datacenter, ForcedState state,
                     int64_t expires_unix_ms, int64_t now_ms);
  absl::Status Release(const std::string& name, bool datacenter, int64_t now_ms);
  // Drops overrides whose expiry has passed; returns each as "target web1 (forced down)" or
  // "datacenter fra (forced drain)", for the log. The earliest pending expiry (0 = none) tells
  // the daemon when to call again.
  std::vector<std::string> ExpireOverrides(int64_t now_ms);
  int64_t NextExpiry() const;

  // Fleet: the fleet's verdict on a target (none = its local verdict decides), and the
  // fleet-wide overrides, which rank below this node's own overrides.
  void SetFleetVerdict(const std::string& name, std::optional<bool> up, int64_t now_ms);
  void SetFleetOverrides(std::map<std::string, Override> targets,
                         std::map<std::string, Override> datacenters, int64_t now_ms);
  // The fleet override that applies to a target (its own, else its datacenter's), if any.
  std::optional<Override> FleetOverride(const std::string& name) const;

  // The word a target should have now (kHealth* bits).
  uint32_t Word(const std::string& name) const;
  // The override in force for a target, if any (target first, then its datacenter).
  std::optional<Override> EffectiveOverride(const std::string& name) const;

  const std::map<std::string, TargetHealth>& targets() const { return targets_; }
  const std::map<std::string, Override>& target_overrides() const { return target_overrides_; }
  const std::map<std::string, Override>& dc_overrides() const { return dc_overrides_; }

  // State file: last known health per target and every override.
  std::string Serialize() const;
  absl::Status Load(const std::string& text, int64_t now_ms);
  absl::Status SaveFile(const std::string& path) const { return WriteStateFile(path, Serialize()); }
  // Atomic replace (temp file, fsync, rename), so a crash leaves the old or the new state.
  static absl::Status WriteStateFile(const std::string& path, const std::string& text);
  absl::Status LoadFile(const std::string& path, int64_t now_ms);  // absent file: OK, empty

  // Health report, text or JSON (sextantctl health / status).
  std::string Report(bool json, int64_t now_ms) const;
  nlohmann::json TargetJson(const std::string& name, const TargetHealth& t) const;

 private:
  // Stores t's word, noting when what it serves changed (t.served_*).
  void Store(TargetHealth& t, int64_t now_ms);
  void StoreAll(int64_t now_ms);
  // What SetTargets makes of spec `s`: the current state, else the last known, else initial.
  TargetHealth Incoming(const TargetSpec& s, int64_t now_ms) const;
  uint32_t WordOf(const TargetHealth& t) const;
  std::optional<Override> OverrideFor(const std::string& name, const std::string& datacenter) const;
  std::optional<Override> FleetOverrideFor(const std::string& name,
                                           const std::string& datacenter) const;
  std::string OverrideText(const TargetHealth& t, int64_t now_ms) const;

  std::atomic<uint32_t>* words_;
  std::map<std::string, TargetHealth> targets_;
  std::map<std::string, Override> target_overrides_;
  std::map<std::string, Override> dc_overrides_;
  std::map<std::string, Override> fleet_target_overrides_;
  std::map<std::string, Override> fleet_dc_overrides_;
  // From the state file, for targets not (yet) configured: name -> {up, since}.
  std::map<std::string, std::pair<bool, int64_t>> last_known_;
};

int64_t NowUnixMs();

}  // namespace sextant::control
