#include "dataplane/engine/policy_evaluator.h"

#include <algorithm>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "maps/control_block.h"

namespace sextant::dataplane {
namespace {

using maps::kNone;
using policy_internal::Below;
using policy_internal::t_state;

class Evaluator {
 public:
  Evaluator(const SnapshotView& v, const std::atomic<uint32_t>* health, Selection* out,
            PolicyTrace* trace)
      : v_(v), health_(health), out_(*out), trace_(trace) {}

  // Appends what resource `ri` answers while some member is healthy; returns how many records
  // it appended (0 = nothing healthy). `top`: apply the all-down rule when nothing is healthy.
  int Eval(uint32_t ri, int depth, bool top) {
    const maps::Resource& r = v_.resources[ri];
    out_.ttl = std::min(out_.ttl, r.ttl);
    const uint16_t start = out_.n;
    if (depth < kMaxPolicyDepth) {
      switch (r.kind) {
        case maps::kPolicyFailover:
          Failover(ri, r, depth);
          break;
        case maps::kPolicyWeighted:
          Weighted(ri, r, depth);
          break;
        case maps::kPolicyMultivalue:
          AllHealthy(ri, r, depth);
          PickRandom(start, r.count);
          break;
        case maps::kPolicyGeo:
        case maps::kPolicyLatency:
          Geo(ri, r, depth, top);
          break;
        default:
          AllHealthy(ri, r, depth);
          if (r.order == maps::kOrderCyclic) {
            Rotate(start, t_state.rotation++);
          } else if (r.order == maps::kOrderRandom) {
            Shuffle(start);
          }
          break;
      }
    }
    if (out_.n > start || !top) return out_.n - start;
    AllDown(ri, r, depth);
    return out_.n - start;
  }

 private:
  // Health of one member: an address is up by its health word; a nested resource is up when
  // any of its members is (recursively). A member seen down marks the answer for the shorter
  // TTL.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool MemberUp(uint32_t ri, const maps::Member& m, uint16_t k,
                                             int depth) {
    bool up = true;
    if (m.health != kNone && health_ != nullptr) {
      const uint32_t w = health_[m.health].load(std::memory_order_relaxed);
      up = (w & (maps::kHealthUp | maps::kHealthDrained)) == maps::kHealthUp;
      if (ABSL_PREDICT_FALSE(trace_ != nullptr)) {
        trace_->Add(ri, k,
                    (w & maps::kHealthDrained) ? PolicyTrace::kDrained
                    : up                       ? PolicyTrace::kUp
                                               : PolicyTrace::kDown);
      }
      out_.any_down |= !up;
    }
    if (ABSL_PREDICT_FALSE(m.kind == maps::kMemberResource) && up) up = AnyUp(m.ref, depth + 1);
    return up;
  }
  bool MemberUp(uint32_t ri, uint16_t k, int depth) {
    return MemberUp(ri, v_.members[v_.resources[ri].member_first + k], k, depth);
  }

 public:
  // True when any member, at any depth, is down: the resource then answers with its
  // ttl_when_down. Only failover needs it (it stops at the first healthy member); the other
  // policies look at every member anyway.
  bool AnyDown(uint32_t ri, int depth) {
    if (depth >= kMaxPolicyDepth || health_ == nullptr) return false;
    const maps::Resource& r = v_.resources[ri];
    for (uint16_t k = 0; k < r.member_count; ++k) {
      const maps::Member& m = v_.members[r.member_first + k];
      if (m.health != kNone) {
        const uint32_t w = health_[m.health].load(std::memory_order_relaxed);
        if ((w & (maps::kHealthUp | maps::kHealthDrained)) != maps::kHealthUp) return true;
      }
      if (m.kind == maps::kMemberResource && AnyDown(m.ref, depth + 1)) return true;
    }
    return false;
  }

 private:
  bool AnyUp(uint32_t ri, int depth) {
    if (depth >= kMaxPolicyDepth) return false;
    const maps::Resource& r = v_.resources[ri];
    bool any = false;
    for (uint16_t k = 0; k < r.member_count; ++k) any |= MemberUp(ri, k, depth);
    return any;
  }

  // Records picked through nesting may repeat one another (two pools sharing an address);
  // an RRset has no duplicates (RFC 2181 section 5), so those are compared. A resource's own
  // members are distinct by construction (the compiler refuses repeats).
  void Append(const maps::Member& m, int depth) {
    const uint8_t* rd = v_.rdata + m.ref;
    if (depth > 0) {
      uint16_t len;
      std::memcpy(&len, rd, 2);
      for (uint16_t i = 0; i < out_.n; ++i) {
        if (out_.rd[i] == rd || std::memcmp(out_.rd[i], rd, 2u + len) == 0) return;
      }
    }
    if (out_.n < kMaxSelected) out_.rd[out_.n++] = rd;
  }
  // An up member: its address, or what the nested resource picks.
  int Take(uint32_t ri, uint16_t k, int depth) {
    return Take(ri, v_.members[v_.resources[ri].member_first + k], k, depth);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE int Take(uint32_t ri, const maps::Member& m, uint16_t k, int depth) {
    if (ABSL_PREDICT_FALSE(trace_ != nullptr)) trace_->Add(ri, k, PolicyTrace::kPicked);
    if (ABSL_PREDICT_TRUE(m.kind == maps::kMemberRdata && depth == 0)) {
      if (out_.n < kMaxSelected) out_.rd[out_.n++] = v_.rdata + m.ref;
      return 1;
    }
    if (m.kind == maps::kMemberRdata) {
      const uint16_t before = out_.n;
      Append(m, depth);
      return out_.n - before;
    }
    const int got = Eval(m.ref, depth + 1, false);
    if (got == 0 && trace_) trace_->Add(ri, k, PolicyTrace::kNestedEmpty);
    return got;
  }

  void Failover(uint32_t ri, const maps::Resource& r, int depth) {
    const maps::Member* m = v_.members + r.member_first;
    for (uint16_t k = 0; k < r.member_count; ++k) {
      if (MemberUp(ri, m[k], k, depth) && Take(ri, m[k], k, depth) > 0) return;
    }
  }

  // The client's datacenters in preference order: the first whose sub-resource answers wins.
  // With all_down: first, the first choice's own answer when none has a healthy one.
  void Geo(uint32_t ri, const maps::Resource& r, int depth, bool top) {
    static constexpr GeoClient kUnknown{};
    const GeoChoice c = GeoLookup(v_, r.count, r.order, out_.client ? *out_.client : kUnknown);
    out_.scope = std::max(out_.scope, c.scope);
    if (ABSL_PREDICT_FALSE(trace_ != nullptr)) trace_->AddGeo(ri, c.list_id, c.scope);
    const maps::Member* m = v_.members + r.member_first;
    uint32_t first = r.member_count;
    for (uint8_t i = 0; i < c.list->count; ++i) {
      const uint32_t k = GeoMemberOf(m, r.member_count, c.list->dcs[i]);
      if (k == r.member_count) continue;  // no sub-resource at that site
      if (first == r.member_count) first = k;
      if (MemberUp(ri, m[k], static_cast<uint16_t>(k), depth) &&
          Take(ri, m[k], static_cast<uint16_t>(k), depth) > 0) {
        if (out_.site == 0) out_.site = r.member_first + k + 1;
        return;
      }
      out_.any_down = true;
      if (ABSL_PREDICT_FALSE(trace_ != nullptr)) {
        trace_->Add(ri, static_cast<uint16_t>(k), PolicyTrace::kDown);
      }
    }
    if (top && r.all_down == maps::kAllDownFirst && first != r.member_count &&
        depth + 1 < kMaxPolicyDepth) {
      if (trace_) trace_->Add(ri, static_cast<uint16_t>(first), PolicyTrace::kAllDownRule);
      Eval(m[first].ref, depth + 1, true);
      if (out_.site == 0 && out_.n > 0) out_.site = r.member_first + first + 1;
    }
  }

  void AllHealthy(uint32_t ri, const maps::Resource& r, int depth) {
    const maps::Member* m = v_.members + r.member_first;
    for (uint16_t k = 0; k < r.member_count; ++k) {
      if (MemberUp(ri, m[k], k, depth)) Take(ri, m[k], k, depth);
    }
  }

  // Route 53 semantics: pick `count` distinct members by weight among the healthy ones with a
  // positive weight; weight-0 members only when no such member is up.
  void Weighted(uint32_t ri, const maps::Resource& r, int depth) {
    uint16_t cand[64];
    uint32_t weight[64];
    int n = 0;
    uint32_t total = 0;
    for (uint16_t k = 0; k < r.member_count; ++k) {
      if (!MemberUp(ri, k, depth)) continue;
      const uint32_t w = v_.members[r.member_first + k].weight;
      if (w == 0) continue;
      cand[n] = k;
      weight[n++] = w;
      total += w;
    }
    if (n == 0) {  // only weight-0 members left: equal chances
      for (uint16_t k = 0; k < r.member_count; ++k) {
        if (v_.members[r.member_first + k].weight == 0 && MemberUp(ri, k, depth)) {
          cand[n] = k;
          weight[n++] = 1;
          ++total;
        }
      }
    }
    for (uint16_t picks = 0; picks < r.count && n > 0; ++picks) {
      uint32_t x = Below(total);
      int i = 0;
      while (x >= weight[i]) x -= weight[i++];
      Take(ri, cand[i], depth);
      total -= weight[i];
      cand[i] = cand[n - 1];
      weight[i] = weight[--n];
    }
  }

  void AllDown(uint32_t ri, const maps::Resource& r, int depth) {
    out_.any_down = true;
    if (trace_) trace_->Add(ri, 0, PolicyTrace::kAllDownRule);
    switch (r.all_down) {
      case maps::kAllDownFirst: {
        const maps::Member& m = v_.members[r.member_first];
        if (m.kind == maps::kMemberRdata) {
          Append(m, depth);
        } else if (depth + 1 < kMaxPolicyDepth) {
          Eval(m.ref, depth + 1, true);
        }
        break;
      }
      case maps::kAllDownNoData:
        out_.outcome = PolicyOutcome::kNoData;
        break;
      case maps::kAllDownServFail:
        out_.outcome = PolicyOutcome::kServFail;
        break;
      case maps::kAllDownFallback:
        for (uint16_t k = 0; k < r.fallback_count; ++k) {
          Append(v_.members[r.fallback_first + k], 0);
        }
        break;
      default:  // kAllDownAll: fail open, everything regardless of health
        Everything(ri, depth);
        break;
    }
  }
  void Everything(uint32_t ri, int depth) {
    const maps::Resource& r = v_.resources[ri];
    out_.ttl = std::min(out_.ttl, r.ttl);
    for (uint16_t k = 0; k < r.member_count; ++k) {
      const maps::Member& m = v_.members[r.member_first + k];
      if (m.kind == maps::kMemberRdata) {
        Append(m, depth);
      } else if (depth + 1 < kMaxPolicyDepth) {
        Everything(m.ref, depth + 1);
      }
    }
  }

  void Rotate(uint16_t start, uint32_t by) {
    const uint16_t len = out_.n - start;
    if (len < 2) return;
    std::rotate(out_.rd + start, out_.rd + start + by % len, out_.rd + out_.n);
  }
  // Up to `count` of the entries from `start`, uniformly chosen and in random order: the first
  // `count` steps of a Fisher-Yates shuffle.
  void PickRandom(uint16_t start, uint16_t count) {
    const uint16_t len = out_.n - start;
    const uint16_t keep = std::min(len, count);
    for (uint16_t i = 0; i < keep && len > 1; ++i) {
      const uint16_t j = static_cast<uint16_t>(i + Below(len - i));
      std::swap(out_.rd[start + i], out_.rd[start + j]);
    }
    out_.n = static_cast<uint16_t>(start + keep);
  }
  void Shuffle(uint16_t start) {
    if (out_.n - start < 2) return;
    for (uint16_t i = out_.n - 1; i > start; --i) {
      const uint16_t j = static_cast<uint16_t>(start + Below(i - start + 1));
      std::swap(out_.rd[i], out_.rd[j]);
    }
  }

  const SnapshotView& v_;
  const std::atomic<uint32_t>* health_;
  Selection& out_;
  PolicyTrace* trace_;
};

}  // namespace

void EvaluateResource(const SnapshotView& v, const std::atomic<uint32_t>* health, uint32_t resource,
                      Selection* out, PolicyTrace* trace) {
  out->n = 0;
  out->ttl = 0xffffffffu;
  out->any_down = false;
  out->outcome = PolicyOutcome::kAnswer;
  out->scope = 0;
  Evaluator e(v, health, out, trace);
  e.Eval(resource, 0, true);
  const maps::Resource& r = v.resources[resource];
  if (!out->any_down && r.ttl_when_down != kNone && r.kind == maps::kPolicyFailover) {
    out->any_down = e.AnyDown(resource, 0);
  }
  // The answer's TTL never exceeds the smallest TTL of what it contains, and shrinks while any
  // member is down so clients come back soon after recovery.
  if (out->any_down && r.ttl_when_down != kNone) out->ttl = std::min(out->ttl, r.ttl_when_down);
  if (r.rdata_names == maps::kRdataOneName && out->n > 1) out->n = 1;  // one CNAME per owner
}

}  // namespace sextant::dataplane
