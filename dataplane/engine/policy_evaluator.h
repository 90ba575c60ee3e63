// The general policy evaluator: answers any record-set policy (maps/snapshot_format.h
// Resource/Member) in any health state: static (cyclic / random / fixed order), failover,
// weighted, multivalue, geo and latency, nested to a bounded depth, with the all-down rules and
// the health-aware TTL, into a Selection of rdata pointers; with a PolicyTrace it records every
// member's part for `sextantctl explain`. Reads health words with relaxed loads, so a health
// change is visible to the next query. No allocation, no locks.
//
// The engine's fast writers (fast_writers.h) answer the common states of simple resources
// themselves and hand everything else here; the two are tested against each other
// (tests/dataplane/engine/fast_writers_test.cc).
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/engine/geo_lookup.h"
#include "dataplane/engine/policy_pickers.h"
#include "dataplane/engine/snapshot_view.h"
#include "dataplane/engine/trace.h"

namespace sextant::dataplane {

inline constexpr int kMaxPolicyDepth = 8;  // config allows 4; the snapshot guarantees no cycles

enum class PolicyOutcome : uint8_t { kAnswer, kNoData, kServFail };

struct Selection {
  const uint8_t* rd[kMaxSelected];  // each points at `u16 len | rdata`
  uint16_t n = 0;
  uint32_t ttl = 0;
  // A member seen was down.
  bool any_down = false;
  PolicyOutcome outcome = PolicyOutcome::kAnswer;
  // Geo resources (geo_lookup.h): the client to steer by (input; null = an unknown
  // client), and the ECS scope of the answer (output: the largest of the geo lookups made).
  const struct GeoClient* client = nullptr;
  uint8_t scope = 0;
  // The geo site answered from (AnswerInfo::site): 1 + the member index of the first geo or
  // latency resource's site that answered; 0 = none.
  uint32_t site = 0;
};

// Evaluates resource `resource` for one query: every member's health, nesting, the all-down
// rules, the TTL while a member is down, geo steering. `health` may be null (everything up).
// With a trace, records why each member was used or skipped.
void EvaluateResource(const SnapshotView& v, const std::atomic<uint32_t>* health, uint32_t resource,
                      Selection* out, PolicyTrace* trace = nullptr);

}  // namespace sextant::dataplane
