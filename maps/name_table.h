// The snapshot's name table (sections kBuckets and kNodes): an open-addressed hash table from a
// node's lowered, uncompressed wire name to the node's index. One hash (NameHash below),
// power-of-two buckets, linear probing, kNone for an empty bucket; each bucket keeps the hash's
// upper half so that most probes reject a name without reading it. The builder inserts with
// NameTableInsert, the engine looks up with NameTableFind: one probe sequence, written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "maps/snapshot_format.h"

namespace sextant::maps {

namespace name_hash {

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// The 128-bit product of a and b, its halves xored (the "mum" of wyhash and rapidhash): every
// bit of the result depends on every bit of both inputs.
inline uint64_t Mum(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
// Odd constants with about half their bits set (XXH3's default secret, words 0 to 3).
inline constexpr uint64_t kK0 = 0xbe4ba423396cfeb8u;
inline constexpr uint64_t kK1 = 0x1cad21f72c81017cu;
inline constexpr uint64_t kK2 = 0xdb979083e96dd4deu;
inline constexpr uint64_t kK3 = 0x1f67b3b7a4a44072u;

// NameHash of a name of 8 to 16 bytes from its first and last 8 (`head`, `tail`; they overlap
// below 16), and of one of 17 to 32 bytes from its first 16 (head0, head1) and last 16 (tail0,
// tail1): for a caller that has the words in registers already (the engine lowers the question
// name into them, dataplane/engine/query.h), so that nothing is loaded back from the copy it
// just stored.
inline uint64_t Hash8To16(uint64_t head, uint64_t tail, size_t len) {
  return Mum(head ^ kK0, tail ^ kK1 ^ len);
}
inline uint64_t Hash17To32(uint64_t head0, uint64_t head1, uint64_t tail0, uint64_t tail1,
                           size_t len) {
  return Mum(head0 ^ kK0, head1 ^ kK1 ^ len) ^ Mum(tail0 ^ kK2, tail1 ^ kK3);
}

}  // namespace name_hash

// The name table's hash of a lowered wire name of `len` bytes (1 to 255): wyhash's construction
// (xor each 8-byte word with a key, multiply pairs to 128 bits, fold), reading only [name,
// name + len). It replaced XXH3-64 for the engine's sake: a name of 17 to 32 bytes, the common
// question, hashes in about 20 instructions where XXH3 took 37 (its length dispatch and final
// avalanche; perf/README.md, "The guess past the home bucket, and a cheaper name hash"). Not for
// untrusted keys' sake: the table is built by control from zone data, and queries only look up, so
// no one can flood a bucket. Changing it changes the snapshot's buckets (maps::kAbiVersion).
inline uint64_t NameHash(const uint8_t* name, size_t len) {
  using name_hash::kK0, name_hash::kK1, name_hash::kK2, name_hash::kK3, name_hash::Load32,
      name_hash::Load64, name_hash::Mum;
  if (len <= 16) {
    if (len >= 8) return name_hash::Hash8To16(Load64(name), Load64(name + len - 8), len);
    uint64_t a;
    uint64_t b;
    if (len >= 4) {
      a = Load32(name);
      b = Load32(name + len - 4);
    } else if (len != 0) {  // every wire name has its root label: len 0 is no name at all
      a = uint64_t{name[0]} << 16 | uint64_t{name[len / 2]} << 8 | name[len - 1];
      b = 0;
    } else {
      a = b = 0;
    }
    return name_hash::Hash8To16(a, b, len);
  }
  if (len <= 32) {
    return name_hash::Hash17To32(Load64(name), Load64(name + 8), Load64(name + len - 16),
                                 Load64(name + len - 8), len);
  }
  uint64_t h = Mum(Load64(name) ^ kK0, Load64(name + 8) ^ kK1 ^ len);
  for (size_t i = 16; len - i > 16; i += 16) {
    h = Mum(Load64(name + i) ^ kK2, Load64(name + i + 8) ^ h);
  }
  return h ^ Mum(Load64(name + len - 16) ^ kK2, Load64(name + len - 8) ^ kK3);
}

// The bucket count for `nodes` names: a power of two, at most half full.
inline size_t NameTableBuckets(size_t nodes) {
  size_t n = 16;
  while (n < nodes * 2) n <<= 1;
  return n;
}

// An empty bucket, as every bucket starts.
inline constexpr Bucket kEmptyBucket{0, kNone, 0, 0, {}};

// Puts node `node` into buckets[0, mask] (mask = count - 1; every bucket starts kEmptyBucket):
// its name is name[0, len), kept at `name_offset` of the names (the node's Node::name_offset).
// The table must have a free bucket.
inline void NameTableInsert(Bucket* buckets, uint32_t mask, const uint8_t* name, size_t len,
                            uint32_t node, uint32_t name_offset) {
  const uint64_t h = NameHash(name, len);
  uint32_t b = static_cast<uint32_t>(h) & mask;
  while (buckets[b].node != kNone) b = (b + 1) & mask;
  buckets[b] =
      Bucket{static_cast<uint32_t>(h >> 32), node, name_offset, static_cast<uint8_t>(len), {}};
}

// The node named name[0, len) (lowered), or kNone. `equal(a, b, n)` compares n bytes of two
// names; the engine passes its inline comparison, others memcmp's. The table is validated
// (maps/snapshot_reader.h): every bucket's node is in range, its name is its node's, and one
// bucket is empty. The nodes are not read: the bucket has the name.
// Always inlined: on the engine's exact hit the call would cost more than the lookup but the hash.
// NameTableFind with the name's hash already made (h = NameHash(name, len)).
template <typename Equal>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t NameTableFindHashed(const Bucket* buckets,
                                                                 uint32_t mask,
                                                                 const uint8_t* names,
                                                                 const uint8_t* name, size_t len,
                                                                 uint64_t h, Equal equal) {
  const uint32_t hi = static_cast<uint32_t>(h >> 32);
  for (uint32_t b = static_cast<uint32_t>(h) & mask;; b = (b + 1) & mask) {
    const Bucket& bk = buckets[b];
    if (bk.node == kNone) return kNone;
    if (bk.hash_hi == hi && bk.name_length == len && equal(names + bk.name_offset, name, len)) {
      return bk.node;
    }
  }
}

template <typename Equal>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t NameTableFind(const Bucket* buckets, uint32_t mask,
                                                           const uint8_t* names,
                                                           const uint8_t* name, size_t len,
                                                           Equal equal) {
  return NameTableFindHashed(buckets, mask, names, name, len, NameHash(name, len), equal);
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
// buckets on (name_table_test: 487 of 2,000, 12 of them 8 or more); a guess that stopped at the
// home bucket left their queries to take every miss of the lookup and the answer one after the
// other (perf/README.md, "Large zones").
inline constexpr uint32_t kNameTableGuessProbes = 8;

// The first bucket from h's home on that keeps h's upper half (looking at no more than
// kNameTableGuessProbes buckets, stopping at an empty one), else null: NameTableFind's probe
// without comparing names, so the likely hit (its node, and where its name is).
inline const Bucket* NameTableGuess(const Bucket* buckets, uint32_t mask, uint64_t h) {
  const uint32_t hi = static_cast<uint32_t>(h >> 32);
  uint32_t b = static_cast<uint32_t>(h) & mask;
  for (uint32_t probe = 0; probe < kNameTableGuessProbes; ++probe, b = (b + 1) & mask) {
    const Bucket& bk = buckets[b];
    if (bk.node == kNone) return nullptr;
    if (bk.hash_hi == hi) return &bk;
  }
  return nullptr;
}

inline uint32_t NameTableFind(const Bucket* buckets, uint32_t mask, const uint8_t* names,
                              const uint8_t* name, size_t len) {
  return NameTableFind(
      buckets, mask, names, name, len,
      [](const uint8_t* a, const uint8_t* b, size_t n) { return std::memcmp(a, b, n) == 0; });
}

}  // namespace sextant::maps
