// A flat view of one validated snapshot for the answer engine: raw pointers to its sections,
// computed once when the snapshot is loaded, plus the dataplane's own policy plan
// (policy_plan.h) and the live health words. The fast path follows these pointers without
// checks: SnapshotReader validated every index they lead to.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "dataplane/engine/policy_plan.h"
#include "dataplane/engine/section_image.h"
#include "maps/control_block.h"
#include "maps/dc_lists.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

struct AnswerImagePair;  // answer_images.h
struct AnswerLine;       // answer_lines.h

// Our EDNS UDP size when the snapshot's settings give none.
inline constexpr uint16_t kDefaultUdpSize = 1232;

struct SnapshotView {
  const maps::Settings* settings = nullptr;
  const maps::Zone* zones = nullptr;
  const maps::Bucket* buckets = nullptr;
  uint32_t bucket_mask = 0;
  const maps::Node* nodes = nullptr;
  const maps::RRset* rrsets = nullptr;
  const uint8_t* rdata = nullptr;
  const uint8_t* names = nullptr;
  const maps::AdditionalRef* additionals = nullptr;
  const uint8_t* strings = nullptr;
  const maps::Resource* resources = nullptr;
  const maps::Member* members = nullptr;
  // Geo maps (geo_lookup.h).
  const maps::GeoMap* geo_maps = nullptr;
  const uint32_t* geo_v4 = nullptr;
  const uint32_t* geo_v6 = nullptr;
  const maps::DcList* geo_lists = nullptr;
  // The policy plan, by resource and by member (set by the Engine that owns it).
  const ResourcePlan* plans = nullptr;
  const AliasSlot* alias = nullptr;
  // Precompiled negative and referral sections (section_image.h), owned by the Engine too:
  // by zone (the SOA), by cut node (NS + glue). Null = none, the slow path writes them.
  const SectionImage* zone_images = nullptr;
  const absl::flat_hash_map<uint32_t, SectionImage>* cut_images = nullptr;
  const uint8_t* image_bytes = nullptr;
  const uint16_t* image_relocs = nullptr;
  // Precompiled A/AAAA answer sections (answer_images.h), owned by the Engine: a pair per node
  // for nodes below answer_image_nodes; null = none, the resolver answers everything.
  const AnswerImagePair* answer_images = nullptr;
  uint32_t answer_image_nodes = 0;
  const uint8_t* answer_image_bytes = nullptr;
  // The same images by (name, type) for a large zone (answer_lines.h), owned by the Engine:
  // answer_line_mask + 1 lines; null = none.
  const AnswerLine* answer_lines = nullptr;
  uint32_t answer_line_mask = 0;
  // The OPT record's first 8 bytes as such an answer carries it: root owner, TYPE, our UDP
  // size, extended rcode 0, version 0, the DO byte 0.
  uint64_t answer_opt_head = 0;
  // Health words (maps/control_block.h), read per query by policies; null = everything up.
  // Set both with SetHealth.
  const std::atomic<uint32_t>* health = nullptr;
  // Applied to a resource's writer id: without health words, the writers that read none
  // (everything is up); kWriterGeneral (0) for every resource sends them all to the general
  // evaluator (tests compare the two).
  uint8_t writer_mask = kWriterIdNoHealthMask;
  bool general_only = false;  // see SetGeneralOnly
  void SetHealth(const std::atomic<uint32_t>* h) {
    health = h;
    writer_mask = general_only ? 0 : h != nullptr ? kWriterIdMask : kWriterIdNoHealthMask;
  }
  // Every resource to the general evaluator, none to a fast writer: the reference the fast
  // writers are tested against.
  void SetGeneralOnly(bool on) {
    general_only = on;
    SetHealth(health);
  }
  // DNS Cookies (section kCookies; missing = enabled, not required) and the live secrets
  // (maps/control_block.h; null = none published: COOKIE options are then not answered).
  bool cookies_enabled = true;
  bool cookies_require = false;
  // settings->edns_udp_size, or kDefaultUdpSize without settings (Of sets it): for the answer
  // image's size test, one load instead of a test and two (engine.cc, AnswerFromImage).
  uint16_t edns_udp_size = kDefaultUdpSize;
  const maps::CookieSecrets* cookie_secrets = nullptr;

  uint32_t zone_count = 0;
  uint64_t generation = 0;

  // The sections of `r` (the plan pointers stay null).
  static SnapshotView Of(const maps::SnapshotReader& r);
};

// The first RRset of `type` at node `n`, or null: the one the resolver answers the type from
// (Responder::FindRRset), and so the one an answer image (answer_images.h) is built from.
inline const maps::RRset* FirstRRsetOfType(const SnapshotView& v, const maps::Node& n,
                                           uint16_t type) {
  const maps::RRset* rs = v.rrsets + n.rrset_first;
  for (uint16_t i = 0; i < n.rrset_count; ++i) {
    if (rs[i].type == type) return &rs[i];
  }
  return nullptr;
}

}  // namespace sextant::dataplane
