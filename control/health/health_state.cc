#include "control/health/health_state.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "control/config/enum_names.h"
#include "control/util/atomic_file.h"
#include "maps/control_block.h"

namespace sextant::control {

// "drained" is what `sextantctl health` shows for the state; it parses too.
template <>
struct EnumNames<ForcedState> {
  static constexpr EnumName<ForcedState> kRows[] = {
      {ForcedState::kUp, "up"},
      {ForcedState::kDown, "down"},
      {ForcedState::kDrain, "drain"},
      {ForcedState::kDrain, "drained"},
  };
};

namespace {

// A name the state file can carry: valid UTF-8 without control characters. Others cannot be
// a configured target's or datacenter's, and yaml-cpp would write them back changed (invalid
// bytes become U+FFFD in a quoted key), so an entry naming one is skipped (found by
// tests/fuzz/state_fuzz.cc: such an override changed name at every save).
bool StorableName(absl::string_view name) {
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return false;
    const size_t len = c < 0x80           ? 1
                       : (c >> 5) == 0x6  ? 2
                       : (c >> 4) == 0xe  ? 3
                       : (c >> 3) == 0x1e ? 4
                                          : 0;
    if (len == 0 || i + len > name.size() || (len == 2 && c < 0xc2) || c > 0xf4) return false;
    // No overlong forms, surrogates or code points past U+10FFFF (RFC 3629 section 4).
    const auto c1 = static_cast<unsigned char>(len > 1 ? name[i + 1] : 0);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 >= 0x90)) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(name[i + k]) & 0xc0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

std::string Age(int64_t now_ms, int64_t then_ms) {
  int64_t s = (now_ms - then_ms) / 1000;
  if (s < 0) s = 0;
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 7200) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s / 3600, "h");
}

std::string Ago(int64_t now_ms, int64_t then_ms) {
  if (then_ms <= 0) return "-";
  return absl::StrCat(Age(now_ms, then_ms), " ago");
}

}  // namespace

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<ForcedState> ParseForcedState(const std::string& text) {
  if (const std::optional<ForcedState> s = EnumFromName<ForcedState>(text)) return *s;
  return absl::InvalidArgumentError(
      absl::StrCat("state must be ", EnumNameList<ForcedState>(), ", not '", text, "'"));
}

const char* ForcedStateName(ForcedState s) { return NameOf(s); }

TargetHealth HealthTable::Incoming(const TargetSpec& s, int64_t now_ms) const {
  TargetHealth t;
  if (auto it = targets_.find(s.name); it != targets_.end()) {
    t = it->second;
  } else if (auto lk = last_known_.find(s.name); lk != last_known_.end()) {
    t.up = lk->second.first;
    t.since_unix_ms = lk->second.second;
  } else {
    t.up = s.initial_up;
    t.since_unix_ms = now_ms;
  }
  t.name = s.name;
  t.datacenter = s.datacenter;
  t.word_index = s.word_index;
  t.monitored = s.monitored;
  return t;
}

void HealthTable::StoreAhead(const std::vector<TargetSpec>& specs, int64_t now_ms) {
  for (const TargetSpec& s : specs) {
    TargetHealth t = Incoming(s, now_ms);
    Store(t, now_ms);
  }
}

void HealthTable::SetTargets(const std::vector<TargetSpec>& specs, int64_t now_ms) {
  std::map<std::string, TargetHealth> next;
  for (const TargetSpec& s : specs) next[s.name] = Incoming(s, now_ms);
  // Remember removed targets' state: a reload that brings them back resumes from it.
  for (const auto& [name, t] : targets_) {
    if (!next.count(name)) last_known_[name] = {t.up, t.since_unix_ms};
  }
  targets_ = std::move(next);
  StoreAll(now_ms);
}

bool HealthTable::SetChecked(const std::string& name, bool up, int64_t now_ms, bool drained) {
  auto it = targets_.find(name);
  if (it == targets_.end()) return false;
  if (it->second.up != up || it->second.drained != drained) {
    ++it->second.flaps;
    it->second.up = up;
    it->second.drained = drained;
    it->second.since_unix_ms = now_ms;
  }
  Store(it->second, now_ms);
  return true;
}

void HealthTable::RecordResult(const std::string& name, bool ok, const std::string& text,
                               int64_t latency_us, int64_t now_ms, uint64_t checks,
                               const CheckLatencyHistogram& latency) {
  auto it = targets_.find(name);
  if (it == targets_.end()) return;
  TargetHealth& t = it->second;
  t.has_result = true;
  t.last_ok = ok;
  t.last_result = text;
  t.last_latency_us = latency_us;
  t.last_check_unix_ms = now_ms;
  t.checks = checks;
  t.latency = latency;
}

absl::Status HealthTable::Force(const std::string& name, bool datacenter, ForcedState state,
                                int64_t expires_unix_ms, int64_t now_ms) {
  if (datacenter) {
    bool any = false;
    for (const auto& [n, t] : targets_) any |= (t.datacenter == name);
    if (!any) return absl::NotFoundError(absl::StrCat("no target is in datacenter '", name, "'"));
    dc_overrides_[name] = Override{state, now_ms, expires_unix_ms};
  } else {
    if (!targets_.count(name)) return absl::NotFoundError(absl::StrCat("no target '", name, "'"));
    target_overrides_[name] = Override{state, now_ms, expires_unix_ms};
  }
  StoreAll(now_ms);
  return absl::OkStatus();
}

absl::Status HealthTable::Release(const std::string& name, bool datacenter, int64_t now_ms) {
  auto& m = datacenter ? dc_overrides_ : target_overrides_;
  if (m.erase(name) == 0) {
    return absl::NotFoundError(
        absl::StrCat("no override on ", datacenter ? "datacenter '" : "'", name, "'"));
  }
  StoreAll(now_ms);
  return absl::OkStatus();
}

std::vector<std::string> HealthTable::ExpireOverrides(int64_t now_ms) {
  std::vector<std::string> expired;
  // Fleet overrides also go from etcd with their lease; dropping them here too keeps the
  // expiry exact while etcd is slow or out of reach.
  for (auto* m :
       {&target_overrides_, &dc_overrides_, &fleet_target_overrides_, &fleet_dc_overrides_}) {
    const char* kind = m == &target_overrides_         ? "target "
                       : m == &dc_overrides_           ? "datacenter "
                       : m == &fleet_target_overrides_ ? "fleet target "
                                                       : "fleet datacenter ";
    for (auto it = m->begin(); it != m->end();) {
      if (it->second.expires_unix_ms != 0 && it->second.expires_unix_ms <= now_ms) {
        expired.push_back(
            absl::StrCat(kind, it->first, " (forced ", ForcedStateName(it->second.state), ")"));
        it = m->erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!expired.empty()) StoreAll(now_ms);
  return expired;
}

int64_t HealthTable::NextExpiry() const {
  int64_t next = 0;
  for (const auto* m : {&target_overrides_, &dc_overrides_}) {
    for (const auto& [name, o] : *m) {
      if (o.expires_unix_ms != 0 && (next == 0 || o.expires_unix_ms < next)) {
        next = o.expires_unix_ms;
      }
    }
  }
  return next;
}

std::optional<Override> HealthTable::EffectiveOverride(const std::string& name) const {
  auto t = targets_.find(name);
  return OverrideFor(name, t != targets_.end() ? t->second.datacenter : std::string());
}

std::optional<Override> HealthTable::OverrideFor(const std::string& name,
                                                 const std::string& datacenter) const {
  if (auto it = target_overrides_.find(name); it != target_overrides_.end()) return it->second;
  if (!datacenter.empty()) {
    if (auto it = dc_overrides_.find(datacenter); it != dc_overrides_.end()) return it->second;
  }
  return FleetOverrideFor(name, datacenter);
}

std::optional<Override> HealthTable::FleetOverrideFor(const std::string& name,
                                                      const std::string& datacenter) const {
  if (auto it = fleet_target_overrides_.find(name); it != fleet_target_overrides_.end()) {
    return it->second;
  }
  if (!datacenter.empty()) {
    if (auto it = fleet_dc_overrides_.find(datacenter); it != fleet_dc_overrides_.end()) {
      return it->second;
    }
  }
  return std::nullopt;
}

std::optional<Override> HealthTable::FleetOverride(const std::string& name) const {
  auto t = targets_.find(name);
  return FleetOverrideFor(name, t != targets_.end() ? t->second.datacenter : std::string());
}

void HealthTable::SetFleetVerdict(const std::string& name, std::optional<bool> up, int64_t now_ms) {
  auto it = targets_.find(name);
  if (it == targets_.end() || it->second.fleet_up == up) return;
  it->second.fleet_up = up;
  Store(it->second, now_ms);
}

void HealthTable::SetFleetOverrides(std::map<std::string, Override> targets,
                                    std::map<std::string, Override> datacenters, int64_t now_ms) {
  for (auto* m : {&targets, &datacenters}) {
    for (auto& [name, o] : *m) o.fleet = true;
  }
  if (targets == fleet_target_overrides_ && datacenters == fleet_dc_overrides_) return;
  fleet_target_overrides_ = std::move(targets);
  fleet_dc_overrides_ = std::move(datacenters);
  StoreAll(now_ms);
}

uint32_t HealthTable::Word(const std::string& name) const {
  auto it = targets_.find(name);
  return it == targets_.end() ? 0 : WordOf(it->second);
}

uint32_t HealthTable::WordOf(const TargetHealth& t) const {
  if (auto o = OverrideFor(t.name, t.datacenter)) {
    switch (o->state) {
      case ForcedState::kUp:
        return maps::kHealthUp | maps::kHealthForced;
      case ForcedState::kDown:
        return maps::kHealthForced;
      case ForcedState::kDrain:
        return maps::kHealthUp | maps::kHealthDrained | maps::kHealthForced;
    }
  }
  if (t.drained) return maps::kHealthUp | maps::kHealthDrained;
  return t.fleet_up.value_or(t.up) ? maps::kHealthUp : 0;
}

void HealthTable::Store(TargetHealth& t, int64_t now_ms) {
  const uint32_t w = WordOf(t);
  // The state served is up, down or drained; who decided it (the forced bit) is not part of it.
  constexpr uint32_t kState = maps::kHealthUp | maps::kHealthDrained;
  if (t.served_word == TargetHealth::kNoServedWord || (w & kState) != (t.served_word & kState)) {
    // The first word a target gets (at start, or when it is configured) has served since its
    // override was set, else since its checks last changed; later, since now.
    const std::optional<Override> o = OverrideFor(t.name, t.datacenter);
    t.served_since_unix_ms = t.served_word != TargetHealth::kNoServedWord ? now_ms
                             : o                                          ? o->set_unix_ms
                                                                          : t.since_unix_ms;
  }
  t.served_word = w;
  if (words_ == nullptr || t.word_index >= maps::kMaxHealthWords) return;
  // Relaxed is enough: the word is self-contained and the dataplane reads it relaxed; there is
  // no other data it must be ordered with.
  words_[t.word_index].store(w, std::memory_order_relaxed);
}

void HealthTable::StoreAll(int64_t now_ms) {
  for (auto& [name, t] : targets_) Store(t, now_ms);
}

std::string HealthTable::Serialize() const {
  YAML::Emitter e;
  e << YAML::Comment("sextant-control state: last known health and operator overrides");
  e << YAML::BeginMap;
  e << YAML::Key << "targets" << YAML::Value << YAML::BeginMap;
  std::map<std::string, std::pair<bool, int64_t>> all = last_known_;
  for (const auto& [name, t] : targets_) all[name] = {t.up, t.since_unix_ms};
  for (const auto& [name, s] : all) {
    e << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "up" << YAML::Value << s.first;
    e << YAML::Key << "since" << YAML::Value << s.second;
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  for (const auto& [key, m] : {std::pair{"overrides", &target_overrides_},
                               std::pair{"datacenter_overrides", &dc_overrides_}}) {
    e << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (const auto& [name, o] : *m) {
      e << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "state" << YAML::Value << ForcedStateName(o.state);
      e << YAML::Key << "set" << YAML::Value << o.set_unix_ms;
      e << YAML::Key << "expires" << YAML::Value << o.expires_unix_ms;
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

absl::Status HealthTable::Load(const std::string& text, int64_t now_ms) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
    if (root.IsNull()) return absl::OkStatus();
    if (!root.IsMap()) return absl::InvalidArgumentError("state file is not a YAML mapping");
    std::map<std::string, std::pair<bool, int64_t>> known;
    std::map<std::string, Override> to, dco;
    if (const YAML::Node t = root["targets"]; t && t.IsMap()) {
      for (const auto& kv : t) {
        const std::string name = kv.first.as<std::string>();
        const std::pair<bool, int64_t> v{kv.second["up"].as<bool>(),
                                         kv.second["since"].as<int64_t>(0)};
        if (StorableName(name)) known[name] = v;
      }
    }
    for (const auto& [key, m] :
         {std::pair{"overrides", &to}, std::pair{"datacenter_overrides", &dco}}) {
      const YAML::Node n = root[key];
      if (!n || !n.IsMap()) continue;
      for (const auto& kv : n) {
        auto st = ParseForcedState(kv.second["state"].as<std::string>());
        if (!st.ok()) return st.status();
        Override o{*st, kv.second["set"].as<int64_t>(0), kv.second["expires"].as<int64_t>(0)};
        if (o.expires_unix_ms != 0 && o.expires_unix_ms <= now_ms) continue;  // lapsed while off
        const std::string name = kv.first.as<std::string>();
        if (StorableName(name)) (*m)[name] = o;
      }
    }
    last_known_ = std::move(known);
    target_overrides_ = std::move(to);
    dc_overrides_ = std::move(dco);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("state file line ", e.mark.line + 1, ": ", e.msg));
  }
  // Targets already configured take their last known state from the file.
  for (auto& [name, t] : targets_) {
    if (auto lk = last_known_.find(name); lk != last_known_.end()) {
      t.up = lk->second.first;
      t.since_unix_ms = lk->second.second;
    }
  }
  StoreAll(now_ms);
  return absl::OkStatus();
}

absl::Status HealthTable::WriteStateFile(const std::string& path, const std::string& text) {
  // The state must survive a crash of the box, not only of the process: overrides are an
  // operator's decision.
  return WriteFileAtomically(path, text, {.mode = 0600, .sync = true});
}

absl::Status HealthTable::LoadFile(const std::string& path, int64_t now_ms) {
  std::ifstream in(path);
  if (!in) return absl::OkStatus();
  std::stringstream ss;
  ss << in.rdbuf();
  absl::Status s = Load(ss.str(), now_ms);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  return s;
}

// `health --json`: one object per target. The schema is documented in sextantctl(8).
nlohmann::json HealthTable::TargetJson(const std::string& name, const TargetHealth& t) const {
  const uint32_t w = Word(name);
  const std::optional<Override> o = EffectiveOverride(name);
  // Every key always present (null when there is nothing), the shape sextantctl's shared-memory
  // fallback gives too (docs/schema/health.schema.json).
  nlohmann::json j = {{"target", name},
                      {"state", (w & maps::kHealthDrained) ? "drained"
                                : (w & maps::kHealthUp)    ? "up"
                                                           : "down"},
                      {"state_since_unix_ms", t.served_since_unix_ms},
                      {"checked_state", t.up ? "up" : "down"},
                      {"since_unix_ms", t.since_unix_ms},
                      {"datacenter", t.datacenter},
                      {"monitored", t.monitored},
                      {"word", t.word_index},
                      {"forced", o.has_value()},
                      {"override", nullptr},
                      {"last_check", nullptr}};
  if (o) {
    j["override"] = {{"state", ForcedStateName(o->state)},
                     {"set_unix_ms", o->set_unix_ms},
                     {"expires_unix_ms", o->expires_unix_ms},
                     {"fleet", o->fleet}};
  }
  if (const std::optional<Override> f = FleetOverride(name); f && o && !o->fleet) {
    j["fleet_override_shadowed"] = ForcedStateName(f->state);  // this node's own wins here
  }
  if (t.fleet_up) j["fleet_state"] = *t.fleet_up ? "up" : "down";
  if (t.has_result) {
    j["last_check"] = {{"ok", t.last_ok},
                       {"result", t.last_result},
                       {"latency_us", t.last_latency_us},
                       {"unix_ms", t.last_check_unix_ms},
                       {"checks", t.checks}};
  }
  return j;
}

// "; FORCED down for 5s more (checks: up for 2m)", "; FORCED down by the fleet", "; fleet: down"
// and "; this node's override wins over the fleet's (down)".
std::string HealthTable::OverrideText(const TargetHealth& t, int64_t now_ms) const {
  std::string out;
  const std::optional<Override> o = EffectiveOverride(t.name);
  if (o) {
    absl::StrAppend(&out, "; FORCED ", ForcedStateName(o->state), o->fleet ? " by the fleet" : "");
    if (o->expires_unix_ms != 0) {
      absl::StrAppend(&out, " for ", (o->expires_unix_ms - now_ms + 999) / 1000, "s more");
    }
    if (t.monitored && t.since_unix_ms > 0) {
      absl::StrAppend(&out, " (checks: ", t.up ? "up" : "down", " for ",
                      Age(now_ms, t.since_unix_ms), ")");
    }
  }
  if (const std::optional<Override> f = FleetOverride(t.name); f && o && !o->fleet) {
    absl::StrAppend(&out, "; this node's override wins over the fleet's (",
                    ForcedStateName(f->state), ")");
  }
  if (t.fleet_up && *t.fleet_up != t.up) {
    absl::StrAppend(&out, "; fleet: ", *t.fleet_up ? "up" : "down",
                    " (here: ", t.up ? "up" : "down", ")");
  }
  return out;
}

std::string HealthTable::Report(bool json, int64_t now_ms) const {
  if (json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [name, t] : targets_) all.push_back(TargetJson(name, t));
    return all.dump() + "\n";
  }
  std::string out =
      absl::StrFormat("%-20s %-8s %-12s %-12s %-10s %-9s %s\n", "TARGET", "STATE", "SINCE",
                      "DATACENTER", "LATENCY", "CHECKS", "LAST RESULT / OVERRIDE");
  for (const auto& [name, t] : targets_) {
    const uint32_t w = Word(name);
    const char* state = (w & maps::kHealthDrained) ? "drained"
                        : (w & maps::kHealthUp)    ? "up"
                                                   : "down";
    std::string last = t.has_result ? absl::StrCat(t.last_ok ? "ok" : "FAIL", " ", t.last_result)
                                    : (t.monitored ? "pending" : "not checked");
    absl::StrAppend(&last, OverrideText(t, now_ms));
    absl::StrAppendFormat(
        &out, "%-20s %-8s %-12s %-12s %-10s %-9d %s\n", name, state,
        Ago(now_ms, t.served_since_unix_ms), t.datacenter.empty() ? "-" : t.datacenter,
        t.has_result ? absl::StrFormat("%.1fms", t.last_latency_us / 1000.0) : "-", t.checks, last);
  }
  return out;
}

}  // namespace sextant::control
