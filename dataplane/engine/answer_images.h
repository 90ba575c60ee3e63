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

#include <cstdint>
#include <vector>

#include "dataplane/engine/snapshot_view.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {

// One RRset's answer section: image bytes [bytes, bytes + len) holding `count` records.
struct AnswerImage {
  uint32_t bytes = 0;
  uint16_t len = 0;  // 0 = no image: the resolver answers
  uint16_t count = 0;
};

struct AnswerImages {
  // Two per node: node n's A image at 2n, its AAAA image at 2n + 1 (len 0 = none). Indexed by
  // the node itself, so the answer finds its image one load after the lookup, not two (an index
  // per node in front cost a dependent miss per query on a zone of millions of names: 16 bytes
  // a node instead of 4 plus 16 per imaged node, 16 MiB at a million). Nodes from
  // images.size() / 2 on have none (the vector ends after the last node with an image, and at
  // kMaxAnswerImageNodes). Empty when no node has one.
  std::vector<AnswerImage> images;
  std::vector<uint8_t> bytes;

  // Points the view at these (they must stay where they are while it is used).
  void Attach(SnapshotView* v) const;
};

// The slot of an image for `qtype` (A 0, AAAA 1), or -1 for a type that has none.
inline int AnswerImageSlot(uint16_t qtype) {
  return qtype == maps::dns::kTypeA ? 0 : qtype == maps::dns::kTypeAaaa ? 1 : -1;
}

// The index in AnswerImages::images of `node`'s image in `slot` (AnswerImageSlot, not -1).
inline size_t AnswerImageIndex(uint32_t node, int slot) {
  return size_t{node} * 2 + static_cast<size_t>(slot);
}

// Images of this many bytes in all at most (a zone of millions of names keeps its memory
// bounded; names past it take the resolver).
inline constexpr size_t kMaxAnswerImageBytes = size_t{64} << 20;
// Nodes from this one on have no images (a zone of tens of millions of delegations, which have
// none, costs no memory for them; 64 MiB of descriptors at most).
inline constexpr uint32_t kMaxAnswerImageNodes = uint32_t{1} << 22;
// An RRset larger than this has no image (it would not fit most UDP answers anyway).
inline constexpr size_t kMaxAnswerImage = 4096;

// `node_count` is the snapshot's node count.
AnswerImages BuildAnswerImages(const SnapshotView& v, uint32_t node_count);

}  // namespace sextant::dataplane
