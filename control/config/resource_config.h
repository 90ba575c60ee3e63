// The record-set policy part of the configuration: monitored targets, resources (trees of
// static / failover / weighted / multivalue nodes) and the records that attach them to owner
// names. Parsed from YAML here; compiled into the snapshot by resource_compiler.h.
//
//   targets:
//     web1: {initial: up, check: {type: tcp, address: 198.18.1.10, port: 80}}  # a health word
//   health_feeds: [{file: /var/lib/sextant/feed.txt}]   # control/config/health_check.h
//   resources:
//     web-pool:
//       kind: weighted               # static | failover | weighted | multivalue | geo | latency
//                                    # (geo, latency: control/config/geo_map_config.h)
//       count: 1                     # weighted: how many to pick; multivalue: at most N
//       order: cyclic                # static: cyclic | random | fixed
//       ttl: 60                      # default 300
//       ttl_when_down: 10            # while any member is down
//       all_down: all                # all | first | nodata | servfail | fallback
//       fallback: [198.18.9.9]       # all_down: fallback (addresses, or one CNAME target)
//       members:
//         - {address: 198.18.1.10, target: web1, weight: 3}
//         - {resource: other-pool}   # nesting
//   records:
//     - {name: www.example.test., type: A, resource: web-pool}
//     - {name: api.example.test., type: AAAA, kind: static, members: [...]}   # inline
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/config/fleet_config.h"
#include "control/config/health_check.h"

namespace YAML {
class Node;
}

namespace sextant::control {

enum class PolicyKind : uint8_t {
  kStatic = 0,
  kFailover = 1,
  kWeighted = 2,
  kMultivalue = 3,
  kGeo = 4,      // the client's datacenter preference list (a geo map), first healthy site wins
  kLatency = 5,  // the same over a map whose lists come from measured round-trip times
};
enum class StaticOrder : uint8_t { kCyclic = 0, kRandom = 1, kFixed = 2 };
// What a resource answers when none of its members is up. Default kAll: fail open, as Route 53
// does ("if all are unhealthy, all are considered healthy") — a DNS answer that sends clients
// to possibly-dead servers beats no answer when the health checks themselves may be wrong.
enum class AllDown : uint8_t { kAll = 0, kFirst = 1, kNoData = 2, kServFail = 3, kFallback = 4 };

inline constexpr int kMaxResourceDepth = 4;
inline constexpr int kMaxMembers = 64;

struct MemberConfig {
  std::string address;     // A/AAAA address or CNAME target (presentation form)
  std::string resource;    // or a nested resource
  std::string target;      // health word; empty = always up
  int64_t weight = 1;      // geo/latency: set to the datacenter id by ResolveGeoResources
  std::string datacenter;  // geo/latency: the site this member (a sub-resource) serves
  int line = 0;
  std::string path;  // YAML path, for messages: "resources.www.members[1]"
};

struct ResourceConfig {
  std::string name;
  PolicyKind kind = PolicyKind::kStatic;
  StaticOrder order = StaticOrder::kCyclic;
  uint32_t count = 0;  // 0 = policy default (weighted 1, multivalue 8)
  std::optional<uint32_t> ttl;
  std::optional<uint32_t> ttl_when_down;
  AllDown all_down = AllDown::kAll;
  std::vector<std::string> fallback;
  std::vector<MemberConfig> members;
  // geo/latency (control/config/geo_map_config.h): the map, and whether the ECS address is used.
  // `count` becomes the map index once resolved.
  std::string map;
  bool ecs_ignore = false;
  int line = 0;
  int map_line = 0;
  std::string path;  // YAML path, for messages: "resources.www", "records[2]" (inline)
};

struct RecordConfig {
  std::string name;  // owner, absolute
  uint16_t type = 0;
  std::string resource;
  int line = 0;
  int resource_line = 0;
  std::string path;  // "records[2]"
};

struct TargetConfig {
  std::string name;
  bool initial_up = true;
  std::optional<CheckSpec> check;  // absent: only feeds (or the operator) move it
  std::string datacenter;          // groups targets for `sextantctl force --datacenter`
  std::optional<Quorum> quorum;    // fleet: overrides fleet.quorum for this target
  int line = 0;
  int datacenter_line = 0;
};

struct PolicyConfig {
  std::vector<TargetConfig> targets;
  std::map<std::string, ResourceConfig> resources;
  std::vector<RecordConfig> records;
  std::vector<FeedSpec> health_feeds;
};

// Parses the three sections and `health_feeds` (any may be absent) and checks what can be
// checked without the zones: known targets and resources, weights, member counts, nesting cycles
// and depth.
absl::Status ParsePolicies(const std::string& file, const YAML::Node& root, PolicyConfig* out);

}  // namespace sextant::control
