#include "dataplane/burst_prefetch.h"

#include <cstddef>
#include <cstdint>

#include "dataplane/engine/answer_images.h"
#include "dataplane/engine/answer_lines.h"
#include "dataplane/engine/bytes.h"
#include "dataplane/engine/query.h"
#include "dataplane/engine/snapshot_view.h"
#include "maps/dns/frame.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"

namespace sextant::dataplane {
namespace {

namespace fr = ::sextant::maps::frame;

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// One query of the burst on its way through the stages.
struct Slot {
  uint64_t hash;
  // Stage 2 on (with a node): the node's name, its first and last byte.
  const uint8_t* name;
  const uint8_t* name_last;
  uint32_t node;
  uint16_t qtype;
  // Stage 2 on: the answer-image slot (answer_images.h) for an A/AAAA question of a node that
  // may have images; from stage 3, only when it has that image. -1 otherwise.
  int8_t slot;
  // Stage 1: the answer-line slot (answer_lines.h) of an A/AAAA question the lines may answer;
  // -1 otherwise.
  int8_t line;
  uint8_t name_len;  // the question name's wire length less 1
  bool question;
};

}  // namespace

bool FindFrameQuestion(const uint8_t* f, uint32_t len, FrameQuestion* q) {
  size_t l3 = fr::kEthHeaderLen;
  if (len < fr::kEthHeaderLen + fr::kVlanTagLen) return false;
  uint16_t type = Get16(f + fr::kEthType);
  if (type == fr::kEthTypeVlan) {
    type = Get16(f + fr::kEthHeaderLen + fr::kVlanInnerType);
    l3 += fr::kVlanTagLen;
  }
  size_t l4;
  if (type == fr::kEthTypeIpv4) {
    if (len < l3 + fr::kIpv4HeaderLen || f[l3 + fr::kIpv4Protocol] != fr::kIpProtoUdp) {
      return false;
    }
    l4 = l3 + size_t{f[l3 + fr::kIpv4VersionIhl] & 0x0Fu} * 4;
  } else if (type == fr::kEthTypeIpv6) {
    if (len < l3 + fr::kIpv6HeaderLen || f[l3 + fr::kIpv6NextHeader] != fr::kIpProtoUdp) {
      return false;
    }
    l4 = l3 + fr::kIpv6HeaderLen;
  } else {
    return false;
  }
  const size_t start = l4 + fr::kUdpHeaderLen + dns::kHeaderSize;
  // Labels up to the root, within 255 octets, then QTYPE and QCLASS: all inside the frame.
  size_t i = start;
  while (i < len && f[i] != 0) {
    if (f[i] > 63 || i - start > 254) return false;
    i += 1 + f[i];
  }
  if (i + 5 > len || i + 1 - start > 255) return false;
  q->name = f + start;
  q->name_len = i + 1 - start;
  q->qtype = Get16(f + i + 1);
  return true;
}

bool PrefetchWorthIt(const Engine& engine) {
  const SnapshotView& v = engine.view();
  return v.buckets != nullptr && v.bucket_mask >= kPrefetchMinBuckets - 1;
}

void PrefetchBurst(const Engine& engine, const uint8_t* const* frames, const uint32_t* lens,
                   int n) {
  const SnapshotView& v = engine.view();
  if (v.buckets == nullptr || n > kMaxPrefetchBurst) return;
  Slot s[kMaxPrefetchBurst];
  // Stage 1: hash each question name as the engine will (lowered) and prefetch its home bucket,
  // or for A/AAAA its first answer line instead (answer_lines.h): when that holds the answer,
  // nothing further is read.
  uint8_t lowered[kMaxPrefetchBurst][256];
  const bool lines = v.answer_lines != nullptr;
  for (int i = 0; i < n; ++i) {
    FrameQuestion q;
    s[i].question = FindFrameQuestion(frames[i], lens[i], &q);
    s[i].line = -1;
    if (!s[i].question) continue;
    s[i].qtype = q.qtype;
    s[i].name_len = static_cast<uint8_t>(q.name_len - 1);  // name_len <= 255
    s[i].hash = CopyLowerHashed(lowered[i], q.name, q.name_len);
    if (lines && q.name_len <= kAnswerLineMaxName) s[i].line = AnswerImageSlot(q.qtype);
  }
  // The prefetches in a loop of their own: between hashes (some fifty instructions each), only a
  // few of them were in flight at a time, each taking its full memory latency. A question the
  // answer lines may answer: its first line only (where most keys are).
  for (int i = 0; i < n; ++i) {
    if (!s[i].question) continue;
    if (s[i].line >= 0) {
      const AnswerLineIndex at = AnswerLineIndexOf(s[i].hash, s[i].line, v.answer_line_mask);
      __builtin_prefetch(&v.answer_lines[at.first]);
    } else {
      __builtin_prefetch(maps::NameTableHome(v.buckets, v.bucket_mask, s[i].hash));
    }
  }
  // Stage 1 and a half: a question its first answer line answers is done (the engine reads the
  // line the prefetch brought); for the others the bucket and, when the first line says some
  // key spilled from it (AnswerLine::spilled), the second line are prefetched, and not waited for:
  // the answers to the burst's first-line hits give them the time to come. What the bucket leads to
  // is not prefetched: a key the lines do not hold is most often a name that does not exist, and
  // the bucket says so.
  if (lines) {
    for (int i = 0; i < n; ++i) {
      if (s[i].line < 0) continue;
      s[i].question = false;
      const AnswerLineIndex at = AnswerLineIndexOf(s[i].hash, s[i].line, v.answer_line_mask);
      const AnswerLine& first = v.answer_lines[at.first];
      if (AnswerLineHolds(first, lowered[i], size_t{s[i].name_len} + 1, s[i].line)) continue;
      if (first.spilled) __builtin_prefetch(&v.answer_lines[at.second]);
      __builtin_prefetch(maps::NameTableHome(v.buckets, v.bucket_mask, s[i].hash));
    }
  }
  // Stage 2: what the bucket names: the node's name (both of its ends: a name can straddle two
  // lines, and the lookup's compare reads its first and last bytes), for A/AAAA the node's line
  // of answer images (an image answers without reading the node or its RRsets, engine.cc), and
  // otherwise the node.
  for (int i = 0; i < n; ++i) {
    const maps::Bucket* bk =
        s[i].question ? maps::NameTableGuess(v.buckets, v.bucket_mask, s[i].hash) : nullptr;
    s[i].slot = -1;
    if (bk == nullptr) {
      s[i].node = maps::kNone;
      continue;
    }
    s[i].node = bk->node;
    s[i].name = v.names + bk->name_offset;
    s[i].name_last = s[i].name + bk->name_length - 1;
    __builtin_prefetch(s[i].name);
    __builtin_prefetch(s[i].name_last);
    if (s[i].node < v.answer_image_nodes)
      s[i].slot = static_cast<int8_t>(AnswerImageSlot(s[i].qtype));
    if (s[i].slot >= 0) {
      __builtin_prefetch(&v.answer_images[s[i].node]);
    } else {
      __builtin_prefetch(&v.nodes[s[i].node]);
    }
  }
  // Stage 3: the image's bytes when they are not in the image itself; a node without the image
  // (an RRset that has none) now, and without an image slot its RRsets.
  for (int i = 0; i < n; ++i) {
    if (s[i].node == maps::kNone) continue;
    if (s[i].slot >= 0) {
      const AnswerImage& img = v.answer_images[s[i].node].slot[s[i].slot];
      if (img.len != 0) {
        if (img.len > kAnswerImageInline) {
          const uint8_t* bytes = AnswerImageBytes(img, v.answer_image_bytes);
          __builtin_prefetch(bytes);
          __builtin_prefetch(bytes + img.len - 1);
        }
        continue;
      }
      s[i].slot = -1;
      __builtin_prefetch(&v.nodes[s[i].node]);
      continue;
    }
    __builtin_prefetch(&v.rrsets[v.nodes[s[i].node].rrset_first]);
  }
  // Stage 4, just before the answers: the name's lines and the image pair once more, and without
  // an image the rdata of the RRset the question asks for. The second prefetch of the lines the
  // answer reads first is cheap (they are mostly on their way or in) and measured worth it: on
  // the 1M-name zone 4.09-4.73 -> 4.83-4.91 Mq/cpu-s (perf/README.md, "Answer images one line per
  // node, and the name prefetched twice"); the lookup's name compare had taken half its samples.
  for (int i = 0; i < n; ++i) {
    if (s[i].node == maps::kNone) continue;
    __builtin_prefetch(s[i].name);
    __builtin_prefetch(s[i].name_last);
    if (s[i].slot >= 0) {
      __builtin_prefetch(&v.answer_images[s[i].node]);
      continue;
    }
    const maps::RRset* rs = FirstRRsetOfType(v, v.nodes[s[i].node], s[i].qtype);
    if (rs != nullptr) __builtin_prefetch(v.rdata + rs->rdata_offset);
  }
}

}  // namespace sextant::dataplane
