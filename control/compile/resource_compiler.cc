#include "control/compile/resource_compiler.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "control/zones/dns_name.h"
#include "maps/dns/wire.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

using maps::kNone;

// Where a refusal points: a member, or the resource itself (m null), by line and YAML path.
struct Culprit {
  int line;
  std::string path;
};

Culprit Of(const ResourceConfig& r, const MemberConfig* m, absl::string_view key = "") {
  std::string path = m != nullptr && !m->path.empty() ? m->path
                     : !r.path.empty()                ? r.path
                                                      : absl::StrCat("resources.", r.name);
  if (!key.empty()) absl::StrAppend(&path, ".", key);
  return {m != nullptr && m->line > 0 ? m->line : r.line, path};
}

absl::Status ResErr(const std::string& file, const Culprit& at, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, " line ", at.line, ": ", at.path, ": ", what));
}

// Appends `u16 len | rdata` for a member address of the given record type.
absl::StatusOr<uint32_t> AddRdata(const std::string& file, const Culprit& at, uint16_t type,
                                  const std::string& text, std::vector<uint8_t>* blob) {
  uint8_t buf[16];
  std::string wire;
  if (type == maps::dns::kTypeA) {
    if (inet_pton(AF_INET, text.c_str(), buf) != 1) {
      return ResErr(file, at, absl::StrCat("'", text, "' is not an IPv4 address (type A)"));
    }
    wire.assign(reinterpret_cast<char*>(buf), 4);
  } else if (type == maps::dns::kTypeAaaa) {
    if (inet_pton(AF_INET6, text.c_str(), buf) != 1) {
      return ResErr(file, at, absl::StrCat("'", text, "' is not an IPv6 address (type AAAA)"));
    }
    wire.assign(reinterpret_cast<char*>(buf), 16);
  } else {
    if (text.empty() || text.back() != '.') {
      return ResErr(file, at, absl::StrCat("CNAME target '", text, "' must be absolute"));
    }
    auto w = TextToWire(text);
    if (!w.ok()) return ResErr(file, at, std::string(w.status().message()));
    wire = *w;
  }
  const uint32_t off = static_cast<uint32_t>(blob->size());
  const uint16_t len = static_cast<uint16_t>(wire.size());
  uint8_t lb[2];
  std::memcpy(lb, &len, 2);
  blob->insert(blob->end(), lb, lb + 2);
  blob->insert(blob->end(), wire.begin(), wire.end());
  return off;
}

}  // namespace

absl::StatusOr<std::map<std::string, uint32_t>> AssignTargetIndexes(
    const PolicyConfig& config, const std::map<std::string, uint32_t>& previous,
    uint32_t capacity) {
  std::map<std::string, uint32_t> out;
  std::set<uint32_t> used;
  for (const TargetConfig& t : config.targets) {
    auto it = previous.find(t.name);
    if (it != previous.end() && it->second < capacity) {
      out[t.name] = it->second;
      used.insert(it->second);
    }
  }
  // New targets take words the previous assignment did not use, so that no word changes owner
  // between two consecutive snapshots: the one being served may still read a removed target's
  // word until the new one is published, and the new target's word is written before that.
  // Only when those run out are words of targets removed in this very reload reused.
  std::set<uint32_t> previous_words;
  for (const auto& [name, index] : previous) previous_words.insert(index);
  for (const bool reuse : {false, true}) {
    uint32_t next = 0;
    for (const TargetConfig& t : config.targets) {
      if (out.count(t.name)) continue;
      while (next < capacity && (used.count(next) || (!reuse && previous_words.count(next)))) {
        ++next;
      }
      if (next >= capacity) break;
      out[t.name] = next;
      used.insert(next);
    }
  }
  if (out.size() < config.targets.size()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", capacity, " targets are configured"));
  }
  return out;
}

namespace {

// The compilation of one configuration's policies, step by step (CompilePolicies).
class PolicyCompiler {
 public:
  PolicyCompiler(const PolicyConfig& config, const std::string& file,
                 const std::map<std::string, uint32_t>& target_index, std::vector<uint8_t>* rdata,
                 const std::function<maps::StringRef(const std::string&)>& add_string,
                 CompiledPolicies* out)
      : config_(config),
        file_(file),
        target_index_(target_index),
        rdata_(*rdata),
        add_string_(add_string),
        out_(*out) {}

  absl::Status Run() {
    for (const RecordConfig& rec : config_.records) {
      SX_RETURN_IF_ERROR(SetType(rec.resource, rec.type));
    }
    OrderByDepth();
    for (const std::string& name : order_) SX_RETURN_IF_ERROR(Compile(name));
    for (const RecordConfig& rec : config_.records) {
      out_.record_resource.push_back(index_.at(rec.resource));
    }
    for (const TargetConfig& t : config_.targets) {
      out_.targets.push_back(maps::Target{add_string_(t.name), target_index_.at(t.name)});
    }
    return absl::OkStatus();
  }

 private:
  // Types flow from records down to nested resources; a resource serves one type.
  absl::Status SetType(const std::string& name, uint16_t type) {
    const ResourceConfig& r = config_.resources.at(name);
    auto [it, inserted] = type_of_.emplace(name, type);
    if (!inserted) {
      if (it->second != type) {
        return ResErr(file_, Of(r, nullptr),
                      "is used for two record types (A, AAAA and CNAME need separate "
                      "resources)");
      }
      return absl::OkStatus();
    }
    for (const MemberConfig& m : r.members) {
      if (!m.resource.empty()) SX_RETURN_IF_ERROR(SetType(m.resource, type));
    }
    return absl::OkStatus();
  }

  // Depth from the records: parents get smaller depths, so sorting by depth puts every nested
  // resource after all of its parents (the reader relies on it to rule out cycles).
  void OrderByDepth() {
    std::map<std::string, int> depth;
    for (const RecordConfig& rec : config_.records) depth[rec.resource] = 0;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [name, d] : depth) {
        for (const MemberConfig& m : config_.resources.at(name).members) {
          if (m.resource.empty()) continue;
          auto it = depth.find(m.resource);
          if (it == depth.end() || it->second < d + 1) {
            depth[m.resource] = d + 1;
            changed = true;
            break;
          }
        }
        if (changed) break;
      }
    }
    order_.reserve(depth.size());
    for (const auto& [name, d] : depth) order_.push_back(name);
    std::stable_sort(order_.begin(), order_.end(), [&](const std::string& a, const std::string& b) {
      return depth[a] < depth[b];
    });
    for (size_t i = 0; i < order_.size(); ++i) index_[order_[i]] = static_cast<uint32_t>(i);
  }

  // The Resource record of `name`, its members and fallback appended.
  absl::Status Compile(const std::string& name) {
    const ResourceConfig& r = config_.resources.at(name);
    const uint16_t type = type_of_.at(name);
    // An owner has one CNAME (RFC 1034 3.6.2): the policy must pick exactly one target.
    const bool picks_one = r.kind == PolicyKind::kFailover ||
                           (r.kind == PolicyKind::kWeighted && r.count == 1) ||
                           (r.kind == PolicyKind::kStatic && r.members.size() == 1);
    if (type == maps::dns::kTypeCname && !picks_one) {
      return ResErr(file_, Of(r, nullptr),
                    "a CNAME resource must pick one target (failover, or weighted with count 1)");
    }
    if (type == maps::dns::kTypeCname && r.fallback.size() > 1) {
      return ResErr(file_, Of(r, nullptr, "fallback"), "a CNAME fallback is one name");
    }
    maps::Resource res{};
    res.kind = static_cast<uint8_t>(r.kind);
    res.order = static_cast<uint8_t>(r.order);
    res.all_down = static_cast<uint8_t>(r.all_down);
    res.rdata_names = type == maps::dns::kTypeCname ? maps::kRdataOneName : maps::kRdataNoNames;
    res.type = type;
    res.count = static_cast<uint16_t>(r.count);
    res.ttl = r.ttl.value_or(300);
    res.ttl_when_down = r.ttl_when_down.has_value() ? *r.ttl_when_down : kNone;
    res.name = add_string_(name);
    res.member_first = static_cast<uint32_t>(out_.members.size());
    res.member_count = static_cast<uint16_t>(r.members.size());
    SX_RETURN_IF_ERROR(CompileMembers(r, type));
    res.fallback_first = static_cast<uint32_t>(out_.members.size());
    res.fallback_count = static_cast<uint16_t>(r.fallback.size());
    for (const std::string& f : r.fallback) {
      maps::Member mem{};
      mem.kind = maps::kMemberRdata;
      mem.health = kNone;
      SX_ASSIGN_OR_RETURN(mem.ref, AddRdata(file_, Of(r, nullptr, "fallback"), type, f, &rdata_));
      out_.members.push_back(mem);
    }
    out_.resources.push_back(res);
    return absl::OkStatus();
  }

  absl::Status CompileMembers(const ResourceConfig& r, uint16_t type) {
    bool any_weight = false;
    std::set<std::string> seen;
    for (const MemberConfig& m : r.members) {
      const std::string key = m.resource.empty() ? "a:" + m.address : "r:" + m.resource;
      if (!seen.insert(key).second) {
        return ResErr(file_, Of(r, &m),
                      absl::StrCat("member ", m.resource.empty() ? m.address : m.resource,
                                   " is listed twice"));
      }
      maps::Member mem{};
      mem.weight = static_cast<uint16_t>(m.weight);
      any_weight |= m.weight > 0;
      mem.health = m.target.empty() ? kNone : target_index_.at(m.target);
      if (!m.resource.empty()) {
        mem.kind = maps::kMemberResource;
        mem.ref = index_.at(m.resource);
      } else {
        mem.kind = maps::kMemberRdata;
        SX_ASSIGN_OR_RETURN(mem.ref, AddRdata(file_, Of(r, &m), type, m.address, &rdata_));
      }
      out_.members.push_back(mem);
    }
    if (r.kind == PolicyKind::kWeighted && !any_weight) {
      return ResErr(file_, Of(r, nullptr),
                    "every member has weight 0; give at least one a positive weight");
    }
    return absl::OkStatus();
  }

  const PolicyConfig& config_;
  const std::string& file_;
  const std::map<std::string, uint32_t>& target_index_;
  std::vector<uint8_t>& rdata_;
  const std::function<maps::StringRef(const std::string&)>& add_string_;
  CompiledPolicies& out_;
  std::map<std::string, uint16_t> type_of_;
  std::vector<std::string> order_;
  std::map<std::string, uint32_t> index_;
};

}  // namespace

absl::Status CompilePolicies(const PolicyConfig& config, const std::string& file,
                             const std::map<std::string, uint32_t>* target_index,
                             std::vector<uint8_t>* rdata,
                             const std::function<maps::StringRef(const std::string&)>& add_string,
                             CompiledPolicies* out) {
  std::map<std::string, uint32_t> by_order;
  if (target_index == nullptr) {
    for (size_t i = 0; i < config.targets.size(); ++i) by_order[config.targets[i].name] = i;
    target_index = &by_order;
  }
  return PolicyCompiler(config, file, *target_index, rdata, add_string, out).Run();
}

}  // namespace sextant::control
