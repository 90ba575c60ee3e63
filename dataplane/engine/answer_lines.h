// Answer lines: each A or AAAA answer image (answer_images.h) once more, in a 64-byte line of
// its own together with its owner's name and type, in a cuckoo hash table keyed by (name, type)
// with two candidate lines per key.
//
// Why: in a zone of a million names nothing the answer reads is in any cache. Through the name
// table an A hit reads the bucket, then (the bucket says where) the name and the node's image
// line: two rounds of memory latency one after the other, which the burst's staged prefetch
// (burst_prefetch.h) can overlap across the burst but not collapse. Both candidate lines of a
// key follow from the name's hash alone: the burst prefetches the first (where about three keys
// in four sit) as soon as it has hashed the name, the second only when the first does not hold
// the key and says that one of its keys spilled to their second line (AnswerLine::spilled), and
// the answer is read the line, compare the name, copy the image.
//
// The lines are a cache of what the images already answer: a question whose key is not there
// (a name and image longer than a line holds, an insert that found no room) takes the image
// path through the name table as before, with the same bytes (engine_answer_lines_test,
// engine_fuzz, packet_path_udp_test). At a million names the lines take 256 MiB and lift the
// end-to-end rate by about 14% (perf/README.md, "Answer lines"). A small zone's lines are not
// prefetched (its burst is not staged, burst_prefetch.h), but one line read where the name table
// reads three, from L3 once the frames have gone through L2, is still 10% on its A hits and 4%
// on the 70/20/10 mix. Built by the engine for every snapshot it loads, off the fast path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "dataplane/engine/answer_images.h"
#include "dataplane/engine/bytes.h"
#include "dataplane/engine/snapshot_view.h"
#include "maps/huge_page_copy.h"
#include "maps/name_table.h"

namespace sextant::dataplane {

// A line: the key (name and slot), then the image's bytes right after the name, as many as the
// line holds: a name of up to 26 bytes ("host123456.example.com." is 24) with two A records
// (32 bytes), up to 30 with one AAAA (28), up to 42 with one A (16).
struct alignas(64) AnswerLine {
  uint8_t name_len = 0;  // 0: an empty line
  uint8_t slot = 0;      // AnswerImageSlot: 0 A, 1 AAAA
  uint16_t image_len = 0;
  uint8_t count = 0;  // the image's records (a line holds three A records at most)
  // Set when a key whose first line this is sits in its second line (a cuckoo walk put it
  // there). Clear, a key this line does not hold is in no line, and its second line is not
  // read: most names that do not exist, and most types a name lacks, cost one line, not two.
  uint8_t spilled = 0;
  uint8_t bytes[58] = {};  // the lowered, uncompressed wire name, then the image

  const uint8_t* image() const { return bytes + name_len; }
};
static_assert(sizeof(AnswerLine) == 64);
inline constexpr size_t kAnswerLineBytes = sizeof(AnswerLine::bytes);
// Longer names take the name table whatever their image (the shortest image is 16 bytes).
inline constexpr size_t kAnswerLineMaxName = kAnswerLineBytes - kMinAnswerImage;

// At most this many lines (512 MiB): a zone with more than half as many A and AAAA images has
// lines for the ones inserted first, and the rest answer through the name table.
inline constexpr uint32_t kMaxAnswerLines = uint32_t{1} << 23;

// The key's two candidate lines, from the name table's hash of the name (NameHash) and the slot:
// the low and the high half of the hash (mixed with the slot for AAAA), masked.
struct AnswerLineIndex {
  uint32_t first;
  uint32_t second;
};
inline AnswerLineIndex AnswerLineIndexOf(uint64_t name_hash, int slot, uint32_t mask) {
  // AAAA's key: the hash through one more multiply, so that a name's A and AAAA are
  // independent keys.
  const uint64_t k = slot == 0 ? name_hash : maps::name_hash::Mum(name_hash, maps::name_hash::kK2);
  return {static_cast<uint32_t>(k) & mask, static_cast<uint32_t>(k >> 32) & mask};
}

// Whether `line` holds the image of name[0, len) (lowered, len <= kAnswerLineMaxName) for slot.
inline bool AnswerLineHolds(const AnswerLine& line, const uint8_t* name, size_t len, int slot) {
  return line.name_len == len && line.slot == slot && BytesEqual(line.bytes, name, len);
}

// The line of the key whose name hashes to `name_hash` (NameHash) and of `slot` in the view's
// answer lines, as `holds(line)` tells whether a line holds the key: the first candidate, else
// the second when the first says a key spilled; null when neither. The view must have lines.
template <typename Holds>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline const AnswerLine* FindAnswerLineBy(const SnapshotView& v,
                                                                       uint64_t name_hash, int slot,
                                                                       Holds holds) {
  const AnswerLineIndex at = AnswerLineIndexOf(name_hash, slot, v.answer_line_mask);
  const AnswerLine& a = v.answer_lines[at.first];
  if (holds(a)) return &a;
  if (!a.spilled) return nullptr;
  const AnswerLine& b = v.answer_lines[at.second];
  return holds(b) ? &b : nullptr;
}

// The line for name[0, len) (lowered) and slot (0 or 1) in the view's answer lines, or null:
// then the name table answers. `name_hash` is NameHash(name, len). The view must have lines.
inline const AnswerLine* FindAnswerLine(const SnapshotView& v, const uint8_t* name, size_t len,
                                        uint64_t name_hash, int slot) {
  if (len > kAnswerLineMaxName) return nullptr;
  return FindAnswerLineBy(v, name_hash, slot, [&](const AnswerLine& line) {
    return AnswerLineHolds(line, name, len, slot);
  });
}

struct AnswerLines {
  // `count` lines (a power of two, or none) in memory advised for transparent hugepages
  // (maps/huge_page_copy.h): the lines are read at random, and in 4 KiB pages each read would
  // miss the TLB as well. Read-only once built.
  maps::HugePageCopy memory;
  size_t count = 0;
  size_t keys = 0;  // the lines in use: (name, type) keys that have one
  // Keys that found no line (the table's cuckoo walk gave up, or it was full): they answer
  // through the name table.
  size_t unplaced = 0;
  // Keys in the first of their two lines (the others need a second read).
  size_t in_first_line = 0;

  const AnswerLine* lines() const { return reinterpret_cast<const AnswerLine*>(memory.data()); }
  // Points the view at these (they must stay where they are while it is used).
  void Attach(SnapshotView* v) const;
};

// The lines for the images of `images` (built for `v`) that fit one: twice as many lines as
// keys, rounded up to a power of two, at most `max_lines` (a power of two; tests pass fewer than
// kMaxAnswerLines). None when the memory cannot be had: the name table answers everything then.
AnswerLines BuildAnswerLines(const SnapshotView& v, const AnswerImages& images,
                             uint32_t max_lines = kMaxAnswerLines);

}  // namespace sextant::dataplane
