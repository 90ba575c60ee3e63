#include "control/fleet/fleet_agent.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "control/util/log.h"

namespace sextant::control::fleet {
namespace {

int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string OverrideValue(const Override& o, const std::string& by) {
  return nlohmann::json({{"state", ForcedStateName(o.state)},
                         {"set_unix_ms", o.set_unix_ms},
                         {"expires_unix_ms", o.expires_unix_ms},
                         {"by", by}})
      .dump();
}

bool ParseOverride(const std::string& value, Override* out) {
  const nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) return false;
  absl::StatusOr<ForcedState> s = ParseForcedState(j["state"].get<std::string>());
  if (!s.ok()) return false;
  out->state = *s;
  out->set_unix_ms = j.value("set_unix_ms", int64_t{0});
  out->expires_unix_ms = j.value("expires_unix_ms", int64_t{0});
  return true;
}

FleetAgent::FleetAgent(FleetConfig config, ViewCallback on_view, BundleCallback on_bundle)
    : config_(std::move(config)),
      on_view_(std::move(on_view)),
      on_bundle_(std::move(on_bundle)),
      etcd_(config_),
      started_unix_ms_(NowUnixMs()) {}

FleetAgent::~FleetAgent() { Stop(); }

void FleetAgent::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void FleetAgent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !thread_.joinable()) return;
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // A clean stop leaves the fleet at once rather than a lease TTL later.
  if (lease_ != 0) (void)etcd_.Revoke(lease_);
  lease_ = 0;
}

void FleetAgent::SetVotes(const std::map<std::string, bool>& votes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [target, up] : votes_) {
      if (!votes.contains(target)) dirty_.insert(target);
    }
    for (const auto& [target, up] : votes) {
      auto it = votes_.find(target);
      if (it == votes_.end() || it->second != up) dirty_.insert(target);
    }
    votes_ = votes;
  }
  wake_.notify_all();
}

void FleetAgent::SetVote(const std::string& target, bool up) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    votes_[target] = up;
    dirty_.insert(target);
  }
  wake_.notify_all();
}

void FleetAgent::SetGeneration(uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation_ == generation) return;
  generation_ = generation;
  member_dirty_ = true;
}

void FleetAgent::SetBundleState(int64_t active, int64_t refused, const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    bundle_active_ = active;
    bundle_refused_ = refused;
    bundle_refusal_ = reason;
    bundle_handed_ = std::max({bundle_handed_, active, refused});
    member_dirty_ = true;
  }
  wake_.notify_all();
}

FleetView FleetAgent::View() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

std::string FleetAgent::MemberValue() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nlohmann::json({{"node", config_.node},
                         {"site", config_.site},
                         {"pid", getpid()},
                         {"started_unix_ms", started_unix_ms_},
                         {"generation", generation_},
                         {"revision", bundle_active_},
                         {"refused_revision", bundle_refused_},
                         {"refusal", bundle_refusal_}})
      .dump();
}

void FleetAgent::Run() {
  FleetView view;
  for (;;) {
    const bool ok = Round(&view);
    {
      std::lock_guard<std::mutex> lock(mu_);
      view_ = view;
    }
    on_view_(view);
    std::unique_lock<std::mutex> lock(mu_);
    // A changed vote goes out at once (when etcd answers); otherwise one round per poll.
    wake_.wait_for(lock, std::chrono::milliseconds(config_.poll_ms),
                   [this, ok] { return stop_ || (ok && !dirty_.empty()); });
    if (stop_) return;
  }
}

bool FleetAgent::Round(FleetView* view) {
  absl::Status s = EnsureLease();
  if (s.ok()) s = PublishVotes();
  if (s.ok()) s = Read(view);
  if (!s.ok()) {
    Fail(view, s);
    return false;
  }
  if (!view->reachable || view->fallback) {
    LogLine(LogLevel::kNotice, absl::StrCat("fleet: etcd reachable at ", etcd_.endpoint(), "; ",
                                            Plural(view->members.size(), "member"),
                                            view->last_ok_unix_ms == 0 ? "; joined"
                                            : view->fallback           ? "; fleet verdicts again"
                                                                       : ""));
  }
  view->reachable = true;
  view->fallback = false;
  view->error.clear();
  view->last_ok_unix_ms = NowUnixMs();
  last_ok_mono_ms_ = MonoMs();
  return true;
}

void FleetAgent::Fail(FleetView* view, const absl::Status& s) {
  ++view->errors;
  if (view->reachable || view->error.empty()) {
    LogLine(LogLevel::kWarning, absl::StrCat("fleet: etcd unreachable (", s.message(),
                                             "); the fleet's last view stands "
                                             "for the grace period, ",
                                             config_.grace_ms / 1000.0, "s"));
  }
  view->reachable = false;
  view->error = std::string(s.message());
  const bool was_fallback = view->fallback;
  // Never reached: local verdicts from the start.
  if (last_ok_mono_ms_ == 0 || MonoMs() - last_ok_mono_ms_ >= config_.grace_ms) {
    view->fallback = true;
  }
  if (view->fallback && !was_fallback) {
    ++view->fallbacks;
    LogLine(LogLevel::kWarning,
            absl::StrCat("fleet: etcd unreachable for longer than the grace period (",
                         config_.grace_ms / 1000.0, "s): falling back to local verdicts"));
  }
}

absl::Status FleetAgent::EnsureLease() {
  const int64_t now = MonoMs();
  if (lease_ != 0 && now - last_keepalive_ms_ >= config_.lease_ttl_ms / 3) {
    absl::Status s = etcd_.KeepAlive(lease_);
    if (absl::IsNotFound(s)) {
      LogLine(LogLevel::kWarning, "fleet: this node's lease expired; registering again");
      lease_ = 0;  // expired while we were away: everything it held is gone
    } else if (!s.ok()) {
      return s;
    } else {
      last_keepalive_ms_ = now;
    }
  }
  bool member_dirty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    member_dirty = member_dirty_;
  }
  if (lease_ == 0) {
    absl::StatusOr<int64_t> lease = etcd_.Grant((config_.lease_ttl_ms + 999) / 1000);
    if (!lease.ok()) return lease.status();
    lease_ = *lease;
    last_keepalive_ms_ = now;
    published_.clear();
    member_dirty = true;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [target, up] : votes_) dirty_.insert(target);
  }
  if (!member_dirty) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mu_);
    member_dirty_ = false;
  }
  absl::Status s =
      etcd_.Put(absl::StrCat(config_.prefix, "members/", config_.node), MemberValue(), lease_);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    member_dirty_ = true;
  }
  return s;
}

absl::Status FleetAgent::PublishVotes() {
  std::map<std::string, std::optional<bool>> todo;  // none = delete
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& target : dirty_) {
      auto it = votes_.find(target);
      todo[target] = it == votes_.end() ? std::nullopt : std::optional<bool>(it->second);
    }
    dirty_.clear();
  }
  absl::Status failed;
  for (const auto& [target, up] : todo) {
    const std::string key = absl::StrCat(config_.prefix, "votes/", target, "/", config_.node);
    absl::Status s;
    if (up) {
      s = etcd_.Put(key, nlohmann::json({{"up", *up}}).dump(), lease_);
      if (s.ok()) published_.insert(target);
    } else if (published_.erase(target) > 0) {
      s = etcd_.Delete(key);
    }
    if (!s.ok()) {
      failed = s;
      std::lock_guard<std::mutex> lock(mu_);
      dirty_.insert(target);  // again next round
    }
  }
  return failed;
}

void FleetAgent::ParseKey(const KeyValue& kv, FleetView* view) const {
  const std::string rest = kv.key.substr(config_.prefix.size());
  if (absl::StartsWith(rest, "members/")) {
    const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, false);
    if (!j.is_object()) return;
    MemberInfo m;
    m.node = rest.substr(8);
    m.site = j.value("site", "");
    m.pid = j.value("pid", int64_t{0});
    m.started_unix_ms = j.value("started_unix_ms", int64_t{0});
    m.generation = j.value("generation", uint64_t{0});
    m.revision = j.value("revision", int64_t{0});
    m.refused_revision = j.value("refused_revision", int64_t{0});
    m.refusal = j.value("refusal", "");
    view->members[m.node] = m;
  } else if (absl::StartsWith(rest, "votes/")) {
    const size_t slash = rest.rfind('/');
    if (slash <= 6) return;
    const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, false);
    if (!j.is_object() || !j.contains("up") || !j["up"].is_boolean()) return;
    view->votes[rest.substr(6, slash - 6)][rest.substr(slash + 1)] = j["up"].get<bool>();
  } else if (absl::StartsWith(rest, "overrides/")) {
    Override o;
    if (!ParseOverride(kv.value, &o)) return;
    const int64_t now = NowUnixMs();
    if (o.expires_unix_ms != 0 && o.expires_unix_ms <= now) return;  // the lease is about to go
    if (absl::StartsWith(rest, "overrides/target/")) {
      view->target_overrides[rest.substr(17)] = o;
    } else if (absl::StartsWith(rest, "overrides/datacenter/")) {
      view->dc_overrides[rest.substr(21)] = o;
    }
  }
}

absl::Status FleetAgent::Read(FleetView* view) {
  // The fleet's state (members/, overrides/, votes/: the families from members/ on, in key
  // order) every round; the bundle, which may be large, only when its revision moved.
  int64_t revision = 0;
  absl::StatusOr<std::vector<KeyValue>> kvs = etcd_.Range(
      config_.prefix + "members/", PrefixEnd(config_.prefix), /*keys_only=*/false, &revision);
  if (!kvs.ok()) return kvs.status();
  absl::StatusOr<std::vector<KeyValue>> bundle =
      etcd_.Range(config_.prefix + "bundle", "", /*keys_only=*/true);
  if (!bundle.ok()) return bundle.status();
  view->revision = revision;
  view->members.clear();
  view->votes.clear();
  view->target_overrides.clear();
  view->dc_overrides.clear();
  for (const KeyValue& kv : *kvs) ParseKey(kv, view);
  // A vote whose node is not (or no longer) a member does not count.
  for (auto& [target, votes] : view->votes) {
    std::erase_if(votes, [&](const auto& v) { return !view->members.contains(v.first); });
  }
  view->bundle_revision = bundle->empty() ? 0 : bundle->front().mod_revision;
  return ReadBundle(view->bundle_revision);
}

absl::Status FleetAgent::ReadBundle(int64_t revision) {
  if (!on_bundle_ || revision == 0) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (revision <= bundle_handed_) return absl::OkStatus();
  }
  absl::StatusOr<std::vector<KeyValue>> kv =
      etcd_.Range(config_.prefix + "bundle", "", /*keys_only=*/false);
  if (!kv.ok()) return kv.status();
  if (kv->empty()) return absl::OkStatus();  // deleted meanwhile
  {
    std::lock_guard<std::mutex> lock(mu_);
    bundle_handed_ = kv->front().mod_revision;
  }
  on_bundle_(kv->front().mod_revision, kv->front().value);
  return absl::OkStatus();
}

}  // namespace sextant::control::fleet
