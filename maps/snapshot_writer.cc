#include "maps/snapshot_writer.h"

#include <chrono>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "maps/snapshot_checksum.h"

namespace sextant::maps {

void SnapshotWriter::SetSection(SectionId id, const void* data, size_t count, size_t elem_size) {
  Pending& p = sections_[id];
  const auto* b = static_cast<const uint8_t*>(data);
  p.bytes.assign(b, b + count * elem_size);
  p.count = static_cast<uint32_t>(count);
  p.elem_size = static_cast<uint32_t>(elem_size);
  p.set = true;
  if (count > std::numeric_limits<uint32_t>::max()) p.count = std::numeric_limits<uint32_t>::max();
}

absl::StatusOr<std::vector<uint8_t>> SnapshotWriter::Build(uint64_t generation) const {
  const size_t dir_size = sizeof(SectionRef) * kSectionCount;
  size_t offset = sizeof(SnapshotHeader) + dir_size;
  SectionRef dir[kSectionCount] = {};
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    const Pending& p = sections_[i];
    if (!p.set) continue;
    if (p.bytes.size() / (p.elem_size ? p.elem_size : 1) >= std::numeric_limits<uint32_t>::max()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("snapshot section ", i, " has too many elements"));
    }
    offset = (offset + 7) & ~size_t{7};
    dir[i] = SectionRef{offset, p.count, p.elem_size};
    offset += p.bytes.size();
  }
  const size_t total = (offset + 7) & ~size_t{7};
  if (total > std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("snapshot of ", total, " bytes exceeds the 4 GiB limit of format v1"));
  }
  std::vector<uint8_t> blob(total, 0);
  std::memcpy(blob.data() + sizeof(SnapshotHeader), dir, dir_size);
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    if (sections_[i].set && !sections_[i].bytes.empty()) {
      std::memcpy(blob.data() + dir[i].offset, sections_[i].bytes.data(),
                  sections_[i].bytes.size());
    }
  }
  SnapshotHeader h{};
  h.magic = kSnapshotMagic;
  h.abi_version = kAbiVersion;
  h.header_size = static_cast<uint32_t>(sizeof(SnapshotHeader) + dir_size);
  h.generation = generation;
  h.size = total;
  h.created_unix_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  h.checksum = SnapshotChecksum(blob.data() + sizeof(SnapshotHeader), total - sizeof(h));
  std::memcpy(blob.data(), &h, sizeof(h));
  return blob;
}

}  // namespace sextant::maps
