#include "dataplane/burst_prefetch.h"

#include <cstddef>
#include <cstdint>

#include "dataplane/engine/answer_images.h"
#include "dataplane/engine/bytes.h"
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
  uint32_t node;
  // Stage 3 on: the index in answer_images (answer_images.h) of the node's image for an A/AAAA
  // question, -1 for another type or a node past the images.
  int64_t image;
  uint16_t qtype;
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
  // Stage 1: hash each question name as the engine will (lowered) and prefetch its home bucket.
  uint8_t lowered[256];
  for (int i = 0; i < n; ++i) {
    FrameQuestion q;
    s[i].question = FindFrameQuestion(frames[i], lens[i], &q);
    if (!s[i].question) continue;
    s[i].qtype = q.qtype;
    CopyLower(lowered, q.name, q.name_len);
    s[i].hash = maps::NameHash(lowered, q.name_len);
    __builtin_prefetch(maps::NameTableHome(v.buckets, v.bucket_mask, s[i].hash));
  }
  // Stage 2: the node the bucket points to.
  for (int i = 0; i < n; ++i) {
    s[i].node =
        s[i].question ? maps::NameTableGuess(v.buckets, v.bucket_mask, s[i].hash) : maps::kNone;
    if (s[i].node != maps::kNone) __builtin_prefetch(&v.nodes[s[i].node]);
  }
  // Stage 3: the node's name, compared by the lookup (both of its ends: a name can straddle two
  // lines, and the compare reads its first and last bytes), its RRsets, and for A/AAAA its
  // answer image's descriptor (an image answers without reading the RRsets, engine.cc).
  for (int i = 0; i < n; ++i) {
    if (s[i].node == maps::kNone) continue;
    const maps::Node& node = v.nodes[s[i].node];
    const uint8_t* name = v.names + node.name_offset;
    __builtin_prefetch(name);
    __builtin_prefetch(name + node.name_length - 1);
    __builtin_prefetch(&v.rrsets[node.rrset_first]);
    const int slot = s[i].node < v.answer_image_nodes ? AnswerImageSlot(s[i].qtype) : -1;
    s[i].image = slot >= 0 ? static_cast<int64_t>(AnswerImageIndex(s[i].node, slot)) : -1;
    if (s[i].image >= 0) __builtin_prefetch(&v.answer_images[s[i].image]);
  }
  // Stage 4: the image's bytes when the node has one, which the answer copies (first and last
  // line: most images are under 64 bytes, yet many cross a line); else the rdata of the RRset
  // the question asks for.
  for (int i = 0; i < n; ++i) {
    if (s[i].node == maps::kNone) continue;
    if (s[i].image >= 0) {
      const AnswerImage& img = v.answer_images[s[i].image];
      if (img.len != 0) {
        __builtin_prefetch(v.answer_image_bytes + img.bytes);
        __builtin_prefetch(v.answer_image_bytes + img.bytes + img.len - 1);
        continue;
      }
    }
    const maps::RRset* rs = FirstRRsetOfType(v, v.nodes[s[i].node], s[i].qtype);
    if (rs != nullptr) __builtin_prefetch(v.rdata + rs->rdata_offset);
  }
}

}  // namespace sextant::dataplane
