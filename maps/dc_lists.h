// Datacenter preference lists: the answer a geo map gives for a network. A list is a short array
// of small datacenter ids (positions in the map's datacenter table), most preferred first; the
// dataplane picks "first up, else first" from it. Lists are deduplicated, so a map with millions
// of networks holds a few hundred lists, and a prefix-table leaf names one by index.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace sextant::maps {

inline constexpr int kMaxDcsPerList = 16;
inline constexpr int kMaxDatacenters = 255;  // ids are uint8_t

// Snapshot layout of one list (plain bytes, no pointers; 8-byte multiple so arrays stay aligned).
struct DcList {
  uint8_t count;  // 1..kMaxDcsPerList
  uint8_t reserved[7];
  uint8_t dcs[kMaxDcsPerList];  // ids < the map's datacenter count; [count..] are zero
};
static_assert(sizeof(DcList) == 24);

// Checks every list of a table read from a snapshot: count in 1..16, ids < dc_count, no id
// twice, unused slots zero.
absl::Status ValidateDcLists(absl::Span<const DcList> lists, int dc_count);

}  // namespace sextant::maps
