// SnapshotWriter assembles sections into one immutable snapshot blob (snapshot_format.h) and
// seals it with its header and checksum. Used by sextant-control and by tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "maps/snapshot_format.h"

namespace sextant::maps {

class SnapshotWriter {
 public:
  // Sets a section from `count` elements of `elem_size` bytes each (copied).
  void SetSection(SectionId id, const void* data, size_t count, size_t elem_size);
  template <typename T>
  void SetSection(SectionId id, const std::vector<T>& v) {
    SetSection(id, v.data(), v.size(), sizeof(T));
  }

  // Lays out header, directory and sections; fails if a section exceeds the format's limits.
  absl::StatusOr<std::vector<uint8_t>> Build(uint64_t generation) const;

 private:
  struct Pending {
    std::vector<uint8_t> bytes;
    uint32_t count = 0;
    uint32_t elem_size = 0;
    bool set = false;
  };
  Pending sections_[kSectionCount];
};

}  // namespace sextant::maps
