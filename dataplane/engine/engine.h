// The DNS answer engine: query bytes + client address in, response bytes out, written into a
// caller-owned buffer (which may be the query buffer itself: the DPDK path answers in place).
// No allocation, no locks, no exceptions, no ldns on this path; it reads one validated snapshot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "maps/dc_lists.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

struct ClientInfo {
  uint8_t family = 4;  // 4 or 6
  bool tcp = false;    // TCP: no UDP size limit (65535), never TC for size
  uint8_t addr[16] = {};
};

// What happened, for counters.
struct AnswerInfo {
  uint16_t rcode = 0;  // extended rcode (BADVERS = 16)
  bool truncated = false;
};

// A flat view of the snapshot sections for the fast path (raw pointers computed once).
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
  // Geo maps (dataplane/engine/geo.h).
  const maps::GeoMap* geo_maps = nullptr;
  const uint32_t* geo_v4 = nullptr;
  const uint32_t* geo_v6 = nullptr;
  const maps::DcList* geo_lists = nullptr;
  // Health words (maps/control_block.h), read per query by policies; null = everything up.
  // Set both with SetHealth.
  const std::atomic<uint32_t>* health = nullptr;
  // Applied to a resource's dispatch id (maps::FastDispatchOf): without health words, the
  // writers that read none (everything is up).
  uint8_t dispatch_mask = 0x7C;
  void SetHealth(const std::atomic<uint32_t>* h) {
    health = h;
    dispatch_mask = h != nullptr ? 0x7F : 0x7C;
  }
  uint32_t zone_count = 0;
  uint64_t generation = 0;

  static SnapshotView Of(const maps::SnapshotReader& r);
};

inline constexpr size_t kMaxDnsMessage = 65535;
inline constexpr uint16_t kMinUdpSize = 512;

class Engine {
 public:
  explicit Engine(const maps::SnapshotReader& snap) : v_(SnapshotView::Of(snap)) {}
  explicit Engine(const SnapshotView& v) : v_(v) {}

  // Answers `query` (len bytes). Writes the response into out[0, cap) and returns its length;
  // returns 0 when the packet must be dropped (shorter than a header, or QR=1).
  // `out` may alias `query`. cap should be >= the largest response wanted (65535 for TCP).
  size_t Answer(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                size_t cap, AnswerInfo* info) const;

  const SnapshotView& view() const { return v_; }
  // Points policies at the live health words (the control block's); null = everything up.
  void set_health(const std::atomic<uint32_t>* health) { v_.SetHealth(health); }

 private:
  SnapshotView v_;
};

}  // namespace sextant::dataplane
