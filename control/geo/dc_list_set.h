// Builds a geo map's deduplicated datacenter preference lists (maps/dc_lists.h is the snapshot
// layout the dataplane reads).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "maps/dc_lists.h"

namespace sextant::control {

using maps::DcList;

// Builds the deduplicated list table. List ids are dense and in order of first Intern().
class DcListSet {
 public:
  // Returns the id of `dcs` (1..kMaxDcsPerList ids, no duplicates; checked by the caller).
  uint32_t Intern(absl::Span<const uint8_t> dcs);

  const std::vector<DcList>& lists() const { return lists_; }
  size_t size() const { return lists_.size(); }
  absl::Span<const uint8_t> Get(uint32_t id) const {
    return absl::Span<const uint8_t>(lists_[id].dcs, lists_[id].count);
  }

 private:
  std::vector<DcList> lists_;
  absl::flat_hash_map<std::string, uint32_t> ids_;  // key: the ids as bytes
};

}  // namespace sextant::control
