// Record-set policies evaluated per query (maps/snapshot_format.h Resource/Member): static
// (cyclic / random / fixed order), failover, weighted, multivalue, nested to a bounded depth,
// with the all-down rules and the health-aware TTL. Reads health words with relaxed loads, so a
// health change is visible to the next query. No allocation, no locks: the selection is a small
// array of pointers into the snapshot's rdata.
//
// Randomness and rotation are per thread (one lcore = one thread): a rotation counter and an
// xorshift generator, never a shared atomic (Knot's knot_pkt_put_rotate does the same).
#pragma once

#include <atomic>
#include <cstdint>

#include "maps/snapshot_format.h"

namespace sextant::dataplane {

struct SnapshotView;

inline constexpr int kMaxSelected = 64;
inline constexpr int kMaxPolicyDepth = 8;  // config allows 4; the snapshot guarantees no cycles

enum class PolicyOutcome : uint8_t { kAnswer, kNoData, kServFail };

// Why each member was used or skipped, for `sextantctl explain` (null on the fast path).
struct PolicyTrace {
  enum Event : uint8_t { kUp, kDown, kDrained, kPicked, kNestedEmpty, kAllDownRule };
  struct Entry {
    uint32_t resource;
    uint16_t member;  // index within the resource
    Event event;
  };
  static constexpr int kMaxEntries = 256;
  Entry entries[kMaxEntries];
  int n = 0;
  void Add(uint32_t r, uint16_t m, Event e) {
    if (n < kMaxEntries) entries[n++] = Entry{r, m, e};
  }
};

struct Selection {
  const uint8_t* rd[kMaxSelected];  // each points at `u16 len | rdata`
  uint16_t n = 0;
  uint32_t ttl = 0;
  bool any_down = false;
  PolicyOutcome outcome = PolicyOutcome::kAnswer;
};

// Evaluates resource `resource` for one query. `health` may be null (everything up).
void EvaluateResource(const SnapshotView& v, const std::atomic<uint32_t>* health, uint32_t resource,
                      Selection* out, PolicyTrace* trace = nullptr);

// Seeds this thread's generator and rotation (tests; the default seed is per thread).
void SeedPolicyRandom(uint64_t seed);

}  // namespace sextant::dataplane
