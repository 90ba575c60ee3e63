#include "dataplane/engine/policy_plan.h"

#include <cstring>

namespace sextant::dataplane {
namespace {

using maps::kNone;

// What the members of one resource have in common.
struct MemberFacts {
  bool leaf = true;        // every member is rdata (no nested resource)
  bool rdata_run = true;   // leaf, and member k's `u16 len | rdata` is at first + k * stride
  bool health_run = true;  // every member has a health word: member k's is first + k
  bool no_health = true;   // no member has a health word
  uint16_t stride = 0;
};

MemberFacts FactsOf(const maps::Resource& r, const maps::Member* m,
                    absl::Span<const uint8_t> rdata) {
  MemberFacts f;
  const uint16_t n = r.member_count;
  uint16_t len0 = 0;
  if (n > 0 && m[0].kind == maps::kMemberRdata) std::memcpy(&len0, rdata.data() + m[0].ref, 2);
  for (uint16_t k = 0; k < n; ++k) {
    f.leaf &= m[k].kind == maps::kMemberRdata;
    f.health_run &= m[k].health != kNone && m[k].health == m[0].health + k;
    f.no_health &= m[k].health == kNone;
    if (!f.leaf) continue;
    uint16_t len;
    std::memcpy(&len, rdata.data() + m[k].ref, 2);
    f.rdata_run &= len == len0 && m[k].ref == m[0].ref + uint32_t{k} * (2u + len0);
  }
  // Names in rdata (CNAME resources) are compressed as they are written: never a run.
  f.rdata_run &= f.leaf && n > 0 && r.rdata_names == maps::kRdataNoNames;
  f.health_run &= n > 0;
  f.stride = f.rdata_run ? static_cast<uint16_t>(2 + len0) : 0;
  return f;
}

// The writer of a resource that is not geo or latency.
uint8_t WriterOf(const maps::Resource& r, const MemberFacts& f) {
  if (!f.rdata_run) return 0;
  const bool a = f.stride == 2 + 4, aaaa = f.stride == 2 + 16;
  int writer = kWriterGeneral;
  if (r.member_count == 1 && (a || aaaa)) {
    writer = a ? kWriterOneA : kWriterOneAaaa;  // every kind answers a lone member that is up
  } else {
    switch (r.kind) {
      case maps::kPolicyFailover:
        writer = kWriterFailover;
        break;
      case maps::kPolicyWeighted:
        writer = r.count == 1 ? kWriterWeighted : kWriterGeneral;
        break;
      case maps::kPolicyMultivalue:
        writer = kWriterShuffled;
        if (r.member_count <= 16 && r.count >= 1 && r.ttl_when_down == kNone && (a || aaaa)) {
          writer = a ? kWriterSampleA : kWriterSampleAaaa;
        }
        break;
      default:  // static
        writer = r.order == maps::kOrderRandom ? kWriterShuffled : kWriterRun;
        break;
    }
  }
  if (writer == kWriterGeneral) return 0;
  const int health = f.no_health    ? kFastNoHealth
                     : f.health_run ? kFastHealthRun
                                    : kFastHealthIndexed;
  return WriterId(writer, health);
}

// The writer of geo or latency resource r: the sites' shared writer fused with the lookup when
// no member has a health word of its own, r has no ttl_when_down, and every site is a resource
// whose writer is the same fast one; else the generic geo writer. The sites' writers must be
// known (they come after r).
uint8_t GeoWriterOf(const maps::Resource& r, const maps::Member* m,
                    const std::vector<ResourcePlan>& plans) {
  const uint8_t generic = WriterId(kWriterGeo, 0);
  if (r.ttl_when_down != kNone || r.member_count == 0) return generic;
  uint8_t site = 0;
  for (uint32_t k = 0; k < r.member_count; ++k) {
    if (m[k].kind != maps::kMemberResource || m[k].health != kNone) return generic;
    const uint8_t id = plans[m[k].ref].writer;
    const int writer = id >> 2;
    if (writer == kWriterGeneral || writer == kWriterGeo || writer >= kWriterGeoSites ||
        (k > 0 && id != site)) {
      return generic;
    }
    site = id;
  }
  return static_cast<uint8_t>(WriterId(kWriterGeoSites, 0) + site);
}

bool IsGeo(const maps::Resource& r) {
  return r.kind == maps::kPolicyGeo || r.kind == maps::kPolicyLatency;
}

}  // namespace

void BuildAliasTable(const maps::Member* members, uint32_t n, AliasSlot* slots) {
  uint64_t total = 0;
  for (uint32_t k = 0; k < n; ++k) total += members[k].weight;
  uint64_t units[64];
  uint8_t small[64], large[64];
  uint32_t ns = 0, nl = 0;
  for (uint32_t k = 0; k < n; ++k) {
    units[k] = uint64_t{members[k].weight} * n;
    slots[k] = AliasSlot{0xFFFFFFFFu, static_cast<uint8_t>(k), {}};  // full (unused without
                                                                     // any weight)
    if (total == 0) continue;
    (units[k] < total ? small[ns++] : large[nl++]) = static_cast<uint8_t>(k);
  }
  while (ns > 0 && nl > 0) {
    const uint8_t s = small[--ns];
    const uint8_t l = large[nl - 1];
    slots[s].alias = l;
    // units[s] < total, so the share is below 2^32.
    slots[s].keep = static_cast<uint32_t>((units[s] << 32) / total);
    units[l] -= total - units[s];
    if (units[l] < total) {
      --nl;
      small[ns++] = l;
    }
  }
  // What is left is full (up to rounding in the last steps): it keeps its own member.
}

PolicyPlan MakePolicyPlan(absl::Span<const maps::Resource> resources,
                          absl::Span<const maps::Member> members, absl::Span<const uint8_t> rdata) {
  PolicyPlan plan;
  plan.resources.resize(resources.size());
  plan.alias.resize(members.size());
  for (size_t i = 0; i < resources.size(); ++i) {
    const maps::Resource& r = resources[i];
    const maps::Member* m = members.data() + r.member_first;
    const MemberFacts f = FactsOf(r, m, rdata);
    ResourcePlan& p = plan.resources[i];
    p = ResourcePlan{};
    p.kind = r.kind;
    p.order = r.order;
    p.member_count = r.member_count;
    p.count = r.count;
    p.type = r.type;
    p.member_first = r.member_first;
    p.ttl = r.ttl;
    p.ttl_when_down = r.ttl_when_down;
    p.rdata_stride = f.stride;
    p.rdata_first = f.rdata_run ? m[0].ref : 0;
    p.health_first = f.health_run ? m[0].health : 0;
    if (!IsGeo(r)) p.writer = WriterOf(r, f);
    if (r.kind == maps::kPolicyWeighted && r.member_count <= 64) {
      BuildAliasTable(m, r.member_count, plan.alias.data() + r.member_first);
    }
  }
  // Geo and latency writers depend on their sites', which come after them.
  for (size_t i = resources.size(); i-- > 0;) {
    const maps::Resource& r = resources[i];
    if (IsGeo(r)) {
      plan.resources[i].writer = GeoWriterOf(r, members.data() + r.member_first, plan.resources);
    }
  }
  return plan;
}

}  // namespace sextant::dataplane
