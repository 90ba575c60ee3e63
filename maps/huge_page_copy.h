// HugePageCopy: a file's bytes read into private anonymous memory that is aligned to 2 MiB and
// advised MADV_HUGEPAGE, so that transparent hugepages back it where the kernel allows them
// ("madvise" mode, the common distribution default; shmem_enabled is usually "never", so a
// MAP_SHARED mapping of a /dev/shm file stays in 4 KiB pages). The dataplane reads a large
// snapshot at random: one query follows a bucket, a node, its name, its RRsets and its answer
// image, each a cache miss and, in 4 KiB pages, a TLB miss too (153 MiB at a million names is
// 39,000 pages; the second-level TLB holds a few thousand). In 2 MiB pages the snapshot is 77.
// The copy is made once per snapshot, off the fast path, and read-only afterwards.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace sextant::maps {

class HugePageCopy {
 public:
  // The huge page size the copy is aligned to (x86-64 and arm64 with 4 KiB base pages).
  static constexpr size_t kHugePageBytes = size_t{2} << 20;

  // Reads `size` bytes of `fd` from offset 0 into a fresh copy. An error (mmap, madvise or a
  // short read) leaves nothing behind; the caller falls back to mapping the file.
  static absl::StatusOr<HugePageCopy> Read(int fd, size_t size);
  // `size` zeroed, writable bytes in the same kind of memory, for a table built in place (the
  // engine's answer lines, dataplane/engine/answer_lines.h); Seal makes them read-only.
  static absl::StatusOr<HugePageCopy> Zeroed(size_t size);

  uint8_t* mutable_data() { return data_; }
  // Read-only from here on.
  absl::Status Seal();

  HugePageCopy() = default;
  HugePageCopy(HugePageCopy&& other) noexcept;
  HugePageCopy& operator=(HugePageCopy&& other) noexcept;
  HugePageCopy(const HugePageCopy&) = delete;
  HugePageCopy& operator=(const HugePageCopy&) = delete;
  ~HugePageCopy();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  HugePageCopy(uint8_t* data, size_t size, size_t mapped)
      : data_(data), size_(size), mapped_(mapped) {}
  void Release();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // size_ rounded up to whole huge pages: the length to unmap
};

}  // namespace sextant::maps
