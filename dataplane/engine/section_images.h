// Builds the section images (section_image.h) of a snapshot: the SOA of every zone's negative
// answers and the NS + glue of zone cuts, each written by the Responder's slow path for a
// question that is the anchor name, then taken apart into bytes and pointer relocations.
// Load time only (allocates); the Engine owns the result next to its policy plan.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dataplane/engine/section_image.h"
#include "dataplane/engine/snapshot_view.h"

namespace sextant::dataplane {

struct SectionImages {
  std::vector<SectionImage> zones;  // by zone; len 0 = none
  // By cut node. On the heap so that the view's pointer survives moving the Engine.
  std::unique_ptr<absl::flat_hash_map<uint32_t, SectionImage>> cuts;
  std::vector<uint8_t> bytes;
  std::vector<uint16_t> relocs;

  // Points the view at these (they must stay where they are while it is used).
  void Attach(SnapshotView* v) const;
};

// Cuts get images up to this many (a zone that is mostly delegations keeps the slow path for
// the rest, rather than a long load).
inline constexpr uint32_t kMaxCutImages = 1 << 16;

// `v` must have its policy plan attached; `node_count` is the snapshot's node count.
SectionImages BuildSectionImages(const SnapshotView& v, uint32_t node_count);

}  // namespace sextant::dataplane
