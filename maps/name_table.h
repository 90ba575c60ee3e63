// The snapshot's name table (sections kBuckets and kNodes): an open-addressed hash table from a
// node's lowered, uncompressed wire name to the node's index. One hash (XXH3-64 of the name),
// power-of-two buckets, linear probing, kNone for an empty bucket; each bucket keeps the hash's
// upper half so that most probes reject a name without reading it. The builder inserts with
// NameTableInsert, the engine looks up with NameTableFind: one probe sequence, written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#define XXH_INLINE_ALL  // the engine hashes every query name: no call into the library
#include <xxhash.h>

#include "absl/base/attributes.h"
#include "maps/snapshot_format.h"

namespace sextant::maps {

inline uint64_t NameHash(const uint8_t* name, size_t len) { return XXH3_64bits(name, len); }

// The bucket count for `nodes` names: a power of two, at most half full.
inline size_t NameTableBuckets(size_t nodes) {
  size_t n = 16;
  while (n < nodes * 2) n <<= 1;
  return n;
}

// Puts node `node` (named name[0, len)) into buckets[0, mask] (mask = count - 1; every bucket
// starts empty: {0, kNone}). The table must have a free bucket.
inline void NameTableInsert(Bucket* buckets, uint32_t mask, const uint8_t* name, size_t len,
                            uint32_t node) {
  const uint64_t h = NameHash(name, len);
  uint32_t b = static_cast<uint32_t>(h) & mask;
  while (buckets[b].node != kNone) b = (b + 1) & mask;
  buckets[b] = Bucket{static_cast<uint32_t>(h >> 32), node};
}

// The node named name[0, len) (lowered), or kNone. `equal(a, b, n)` compares n bytes of two
// names; the engine passes its inline comparison, others memcmp's. The table is validated
// (maps/snapshot_reader.h): every bucket's node is in range and one bucket is empty.
// Always inlined: on the engine's exact hit the call would cost more than the lookup but the hash.
template <typename Equal>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t NameTableFind(const Bucket* buckets, uint32_t mask,
                                                           const Node* nodes, const uint8_t* names,
                                                           const uint8_t* name, size_t len,
                                                           Equal equal) {
  const uint64_t h = NameHash(name, len);
  const uint32_t hi = static_cast<uint32_t>(h >> 32);
  for (uint32_t b = static_cast<uint32_t>(h) & mask;; b = (b + 1) & mask) {
    const Bucket& bk = buckets[b];
    if (bk.node == kNone) return kNone;
    if (bk.hash_hi == hi) {
      const Node& n = nodes[bk.node];
      if (n.name_length == len && equal(names + n.name_offset, name, len)) return bk.node;
    }
  }
}

// For a burst's staged lookups (DPDK l3fwd's pattern: hash every name of the burst and prefetch
// its bucket, then follow each bucket to its node, then answer): by the time NameTableFind runs,
// the lines it reads are in cache. These compare no names and are hints only: a wrong guess
// costs a wasted prefetch, never a wrong answer.
//
// The home bucket of a name whose hash is `h`: where NameTableFind's probe starts.
inline const Bucket* NameTableHome(const Bucket* buckets, uint32_t mask, uint64_t h) {
  return &buckets[static_cast<uint32_t>(h) & mask];
}

// How many buckets NameTableGuess looks at from the home bucket. At the table's load (at most
// half full) about a quarter of the names sit past their home bucket, most of them one or two
// buckets on (name_table_test: 499 of 2,000, 9 of them 8 or more); a guess that stopped at the home
// bucket left their queries to take every miss of the lookup and the answer one after the other
// (perf/README.md, "Large zones").
inline constexpr uint32_t kNameTableGuessProbes = 8;

// The node of the first bucket from h's home on that keeps h's upper half (looking at no more
// than kNameTableGuessProbes buckets, stopping at an empty one), else kNone: NameTableFind's
// probe without comparing names, so the likely hit.
inline uint32_t NameTableGuess(const Bucket* buckets, uint32_t mask, uint64_t h) {
  const uint32_t hi = static_cast<uint32_t>(h >> 32);
  uint32_t b = static_cast<uint32_t>(h) & mask;
  for (uint32_t probe = 0; probe < kNameTableGuessProbes; ++probe, b = (b + 1) & mask) {
    const Bucket& bk = buckets[b];
    if (bk.node == kNone) return kNone;
    if (bk.hash_hi == hi) return bk.node;
  }
  return kNone;
}

inline uint32_t NameTableFind(const Bucket* buckets, uint32_t mask, const Node* nodes,
                              const uint8_t* names, const uint8_t* name, size_t len) {
  return NameTableFind(
      buckets, mask, nodes, names, name, len,
      [](const uint8_t* a, const uint8_t* b, size_t n) { return std::memcmp(a, b, n) == 0; });
}

}  // namespace sextant::maps
