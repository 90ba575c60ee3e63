// The dataplane's plan for answering a snapshot's record-set policies fast, worked out when the
// snapshot is loaded (never per query, never by control): for each resource, which fast writer
// answers it (dataplane/engine/fast_writers.h) and the facts that writer relies on (its members'
// rdata as one run of equal strides, their health words as one run), and for weighted members
// Walker's alias table. The snapshot itself says only what the policies mean
// (maps/snapshot_format.h); how the engine answers them fast is this file's business, so a new
// writer never changes the contract.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {

// A writer id: the writer (bits 2..6) and the health accessor it reads member health through
// (bits 0..1). 0 is the general evaluator; clearing the health bits serves a dataplane without
// health words (everything up).
enum FastWriter : uint8_t {
  kWriterGeneral = 0,   // the general evaluator (nesting, names in rdata, weighted count > 1)
  kWriterRun = 1,       // static cyclic or fixed: every member, rotated
  kWriterFailover = 2,  // the first member up
  kWriterWeighted = 3,  // one member by weight
  kWriterShuffled = 4,  // static random, and multivalue that kWriterSample* do not take
  kWriterGeo = 5,       // geo and latency: the lookup, then the site's own writer
  // Multivalue over at most 16 A (AAAA) members in a run, without ttl_when_down: a sample drawn
  // in a vector register, answered when the members drawn are up.
  kWriterSampleA = 6,
  kWriterSampleAaaa = 7,
  // Any kind but geo and latency with a single A (AAAA) member: that member when it is up.
  kWriterOneA = 8,
  kWriterOneAaaa = 9,
  // Geo and latency whose every site is answered by writer w (any of the above but the general
  // and the geo ones) with the same health accessor, and whose site choice needs nothing but the
  // lookup: the lookup and that writer in one function.
  kWriterGeoSites = 16,  // + w
};
enum FastHealth : uint8_t { kFastNoHealth = 0, kFastHealthRun = 1, kFastHealthIndexed = 2 };
inline constexpr int kWriterIdCount = 128;
inline constexpr uint8_t kWriterIdMask = kWriterIdCount - 1;
inline constexpr uint8_t kWriterIdNoHealthMask = kWriterIdMask & ~3;

inline constexpr uint8_t WriterId(int writer, int health) {
  return static_cast<uint8_t>(writer << 2 | health);
}

// What a fast writer reads of one resource: the fields of maps::Resource it needs and the facts
// the plan proved, in 32 bytes (two to a cache line).
struct ResourcePlan {
  uint8_t writer;  // writer id (WriterId)
  uint8_t kind;    // maps::PolicyKindId
  uint8_t order;   // maps::StaticOrderId; geo and latency: maps::GeoEcsId
  uint8_t reserved;
  uint16_t member_count;
  uint16_t count;  // weighted: picks; multivalue: at most; geo and latency: the map
  uint16_t type;
  uint16_t rdata_stride;  // 2 + the rdata length of every member when they are a run, else 0
  uint32_t member_first;
  uint32_t rdata_first;   // offset in kRdata of member 0's `u16 len | rdata` (a run)
  uint32_t health_first;  // health word of member 0 (a health run)
  uint32_t ttl;
  uint32_t ttl_when_down;  // maps::kNone = not set
};
static_assert(sizeof(ResourcePlan) == 32);

// Walker's alias method for a weighted draw in constant time: slot s is drawn uniformly, then a
// 32-bit u picks member s when u < keep, else member `alias`. Built with Vose's construction in
// integers: member k's weight w_k is worth w_k * n units; each of the n slots holds W = sum(w)
// units, `keep` of them its own member's, the rest its alias's, so P(member k) = w_k / W within
// n / 2^32. Weight-0 members own no units and are never drawn.
struct AliasSlot {
  uint32_t keep;
  uint8_t alias;
  uint8_t reserved[3];
};

// Fills slots[0, n) (n <= 64) from the weights of members[0, n).
void BuildAliasTable(const maps::Member* members, uint32_t n, AliasSlot* slots);

struct PolicyPlan {
  std::vector<ResourcePlan> resources;  // by resource index
  std::vector<AliasSlot> alias;         // by member index (weighted resources' members only)
};

// The plan of a validated snapshot's policy sections. `rdata` is the kRdata section.
PolicyPlan MakePolicyPlan(absl::Span<const maps::Resource> resources,
                          absl::Span<const maps::Member> members, absl::Span<const uint8_t> rdata);

}  // namespace sextant::dataplane
