// Precompiled answer sections: for every name that answers A or AAAA from a plain zone RRset
// (no record-set policy, no additional records, not below a zone cut), the records as
// Responder::PutPlainRRset writes them under the question (owner pointer 0xC00C), built once
// when the dataplane loads a snapshot.
//
// The common query (one question for A or AAAA of such a name, in class IN or ANY, with no EDNS
// option or an OPT record without options) is then answered without resolving it: the header
// and question of the query stay (or are copied), the image follows, then a fixed OPT record
// with DO copied, and the header's flags and counts are set. Engine::Answer tries this after
// parsing and before resolving (engine.cc, AnswerFromImage); anything else, an answer that
// would not fit included, takes the resolver, whose bytes the image reproduces exactly
// (engine_answer_images_test, engine_fuzz). Section images (section_image.h) do the same for
// negative answers and referrals, whose bytes depend on where the zone sits in the question.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/engine/snapshot_view.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {

// One RRset's answer section: `count` records in `len` bytes (0 = no image: the resolver
// answers). The bytes are in `data` itself when they fit (len <= kAnswerImageInline: one A or
// one AAAA record, the common case), else at AnswerImages::bytes + the offset in data's first 4
// bytes (AnswerImageBytes). Every record of an A or AAAA image is at least 16 bytes, so an
// inline image is 16 to 28 bytes long: two overlapping 16-byte copies (CopyInlineImage).
struct AnswerImage {
  uint16_t len = 0;
  uint16_t count = 0;
  uint8_t data[28] = {};
};
inline constexpr size_t kAnswerImageInline = sizeof(AnswerImage::data);
// The shortest image: one A record (owner pointer, type, class, TTL, RDLENGTH, 4 bytes).
inline constexpr size_t kMinAnswerImage = 16;

// A node's images, A then AAAA, in one cache line: the answer reads the line and copies from it,
// where a descriptor pointing into a pool of bytes cost a second, dependent miss.
struct alignas(64) AnswerImagePair {
  AnswerImage slot[2];
};
static_assert(sizeof(AnswerImagePair) == 64);

struct AnswerImages {
  // By node: pairs[n] holds node n's images. Indexed by the node itself, so the answer finds
  // them one load after the lookup (64 bytes a node, 64 MiB at a million). Nodes from
  // pairs.size() on have none (the vector ends after the last node with an image, and at
  // kMaxAnswerImageNodes). Empty when no node has one.
  std::vector<AnswerImagePair> pairs;
  // Images longer than kAnswerImageInline.
  std::vector<uint8_t> bytes;

  // Points the view at these (they must stay where they are while it is used).
  void Attach(SnapshotView* v) const;
};

// The slot of an image for `qtype` (A 0, AAAA 1), or -1 for a type that has none.
inline int AnswerImageSlot(uint16_t qtype) {
  return qtype == maps::dns::kTypeA ? 0 : qtype == maps::dns::kTypeAaaa ? 1 : -1;
}

// Copies the `len` bytes of an inline image's data (kMinAnswerImage <= len <=
// kAnswerImageInline) to dst: two overlapping 16-byte copies, the first and the last 16 bytes.
inline void CopyInlineImage(uint8_t* dst, const uint8_t* data, size_t len) {
  uint8_t head[16], tail[16];
  std::memcpy(head, data, 16);
  std::memcpy(tail, data + len - 16, 16);
  std::memcpy(dst, head, 16);
  std::memcpy(dst + len - 16, tail, 16);
}

// Where an image's bytes are: in the image, or in `pool` (AnswerImages::bytes).
inline const uint8_t* AnswerImageBytes(const AnswerImage& img, const uint8_t* pool) {
  if (img.len <= kAnswerImageInline) return img.data;
  uint32_t offset;
  std::memcpy(&offset, img.data, sizeof offset);
  return pool + offset;
}

// Pooled image bytes (kAnswerImageInline < len) this many in all at most (a zone of millions of
// names keeps its memory bounded; names past it take the resolver).
inline constexpr size_t kMaxAnswerImageBytes = size_t{64} << 20;
// Nodes from this one on have no images (a zone of tens of millions of delegations, which have
// none, costs no memory for them; 256 MiB of pairs at most).
inline constexpr uint32_t kMaxAnswerImageNodes = uint32_t{1} << 22;
// An RRset larger than this has no image (it would not fit most UDP answers anyway).
inline constexpr size_t kMaxAnswerImage = 4096;

// `node_count` is the snapshot's node count.
AnswerImages BuildAnswerImages(const SnapshotView& v, uint32_t node_count);

}  // namespace sextant::dataplane
