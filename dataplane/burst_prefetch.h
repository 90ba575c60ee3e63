// Staged prefetch of what a burst of DNS queries will read from the snapshot, before the burst
// is answered (DPDK examples/l3fwd works on a burst in the same stages): hash every question name
// and prefetch its name-table bucket; then, bucket by bucket, prefetch the name it carries and,
// for A/AAAA, the node's line of answer images (answer_images.h), else the node; then the
// image's pooled bytes or, without an image, the node's RRsets; last, the name and the image line
// once more, and the rdata of the RRset of the question's type when there is no image. A large
// zone's records are nowhere in the caches: answered one by one, each query waits for three to
// five dependent memory reads in turn; staged across the burst, those waits overlap.
//
// Only the common query shape is looked at (Ethernet, an optional 802.1Q tag, IPv4 or IPv6 with
// UDP, one question); anything else is skipped here and answered as usual. Everything read is
// bounds-checked against the frame, and nothing is written: a prefetch is a hint, and a wrong one
// costs a wasted line, never a wrong answer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/engine/engine.h"

namespace sextant::dataplane {

// The most frames PrefetchBurst looks at in one call (the burst size of the DPDK loop).
inline constexpr int kMaxPrefetchBurst = 32;

// Smaller name tables (under about 16,000 names) are skipped: their buckets, nodes and records
// stay in the caches, and the extra hash per query cost the 1000-name zone about 8% of its rate
// (perf/README.md, "Large zones").
inline constexpr uint32_t kPrefetchMinBuckets = 1u << 16;

// The question of a DNS query frame of the common shape: where its name starts in the frame,
// how long the name is (wire form, root label included), and the QTYPE. False when the frame is
// anything else, or too short to hold what its headers promise.
struct FrameQuestion {
  const uint8_t* name = nullptr;
  size_t name_len = 0;
  uint16_t qtype = 0;
};
bool FindFrameQuestion(const uint8_t* frame, uint32_t len, FrameQuestion* q);

// Whether PrefetchBurst pays for `engine`: its name table has kPrefetchMinBuckets buckets or
// more. The burst loop asks once per snapshot, not per burst, and skips the frame arrays when
// not.
bool PrefetchWorthIt(const Engine& engine);

// Prefetches for frames[0, n) (lens[i] bytes each; n <= kMaxPrefetchBurst) what answering them
// from `engine` will read (whatever the table's size: the caller asks PrefetchWorthIt).
// Allocates nothing, never fails.
void PrefetchBurst(const Engine& engine, const uint8_t* const* frames, const uint32_t* lens, int n);

}  // namespace sextant::dataplane
