// SnapshotReader opens a snapshot read-only (a mapped /dev/shm file or a caller's buffer) and
// validates it completely before anything reads it: magic, ABI version, size, checksum, section
// bounds and every index stored in the records. After Create() succeeds the fast path may follow
// indices without checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "maps/huge_page_copy.h"
#include "maps/snapshot_format.h"

namespace sextant::maps {

// The dataplane's threshold for OpenFile's copy into hugepage-backed memory (huge_page_copy.h),
// about 200,000 names. Chosen, not measured: the copy holds the snapshot twice, and a smaller one
// spans fewer 4 KiB pages for the TLB to miss. At a million names (153 MiB) it cut a dependent
// random read of the snapshot from about 160 to 140 ns and raised the e2e rate by about 5%
// (perf/README.md, "Large zones").
inline constexpr size_t kHugePageCopyMinBytes = size_t{32} << 20;
// OpenFile's default: map the file, never copy it (control, the exporter, the CLI).
inline constexpr size_t kNeverCopy = SIZE_MAX;

class SnapshotReader {
 public:
  // Where the validated bytes live.
  enum class Backing { kBytes, kMapped, kHugePageCopy };

  // Maps `path` read-only and validates it. A file of at least `copy_min_bytes` is read into a
  // HugePageCopy instead; when that fails (mmap, madvise, read) it is mapped as usual, with a
  // warning, never refused for it.
  static absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenFile(
      const std::string& path, size_t copy_min_bytes = kNeverCopy);
  // Takes ownership of an in-memory blob and validates it.
  static absl::StatusOr<std::unique_ptr<SnapshotReader>> FromBytes(std::vector<uint8_t> blob);

  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const SnapshotHeader& header() const { return *reinterpret_cast<const SnapshotHeader*>(base_); }
  uint64_t generation() const { return header().generation; }
  const uint8_t* base() const { return base_; }
  size_t size() const { return size_; }

  template <typename T>
  absl::Span<const T> section(SectionId id) const {
    const SectionRef& r = dir_[id];
    if (r.count == 0) return {};
    return absl::Span<const T>(reinterpret_cast<const T*>(base_ + r.offset), r.count);
  }
  absl::Span<const uint8_t> bytes(SectionId id) const { return section<uint8_t>(id); }
  const Settings& settings() const { return settings_; }
  Backing backing() const { return backing_; }

 private:
  SnapshotReader() = default;
  absl::Status Validate();
  absl::Status ValidateRecords();
  absl::Status ValidateSettings();
  absl::Status ValidateNameTable() const;
  absl::Status ValidateNodes() const;
  absl::Status ValidateRRsets() const;
  absl::Status ValidatePolicies() const;
  absl::Status ValidateGeo() const;
  absl::Status ValidateDataplane() const;
  absl::Status ValidateRateLimit() const;
  absl::Status ValidateDnstap() const;
  absl::Status ValidateTcp() const;
  absl::Status ValidateCookies() const;

  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  Backing backing_ = Backing::kBytes;
  std::vector<uint8_t> owned_;
  HugePageCopy copy_;
  SectionRef dir_[kSectionCount] = {};
  Settings settings_{};
};

}  // namespace sextant::maps
