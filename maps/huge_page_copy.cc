#include "maps/huge_page_copy.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant::maps {
namespace {

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<HugePageCopy> HugePageCopy::Zeroed(size_t size) {
  if (size == 0) return absl::InvalidArgumentError("nothing to allocate");
  // Whole huge pages: the kernel backs only a 2 MiB-aligned range the region covers completely
  // with a huge page, so the tail is rounded up too (at most 2 MiB more).
  const size_t mapped = (size + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  // Over-allocate by one huge page and trim both ends, which mmap cannot be asked to align.
  const size_t reserve = mapped + kHugePageBytes;
  void* p = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Errno("mmap");
  // Offsets from p rather than integers turned back into pointers (kept in pointer arithmetic
  // within the one mapping).
  auto* const raw = static_cast<uint8_t*>(p);
  const size_t misalign = reinterpret_cast<uintptr_t>(p) & (kHugePageBytes - 1);
  const size_t lead = misalign == 0 ? 0 : kHugePageBytes - misalign;
  if (lead > 0) munmap(raw, lead);
  if (const size_t tail = reserve - lead - mapped; tail > 0) munmap(raw + lead + mapped, tail);
  HugePageCopy copy(raw + lead, size, mapped);
  // Advised before the first touch, so that the first writes fault in huge pages (with THP
  // defrag "madvise", the default, compacting memory for them if need be).
  if (madvise(copy.data_, mapped, MADV_HUGEPAGE) != 0) return Errno("madvise(MADV_HUGEPAGE)");
  return copy;
}

absl::Status HugePageCopy::Seal() {
  if (data_ != nullptr && mprotect(data_, mapped_, PROT_READ) != 0) return Errno("mprotect");
  return absl::OkStatus();
}

absl::StatusOr<HugePageCopy> HugePageCopy::Read(int fd, size_t size) {
  absl::StatusOr<HugePageCopy> copy = Zeroed(size);
  if (!copy.ok()) return copy.status();
  for (size_t done = 0; done < size;) {
    const ssize_t n = pread(fd, copy->data_ + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read");
    if (n == 0) {
      return absl::DataLossError(absl::StrCat("file ended after ", done, " of ", size, " bytes"));
    }
    done += static_cast<size_t>(n);
  }
  // Read-only from here on, as the shared mapping it stands in for.
  if (absl::Status sealed = copy->Seal(); !sealed.ok()) return sealed;
  return copy;
}

HugePageCopy::HugePageCopy(HugePageCopy&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

HugePageCopy& HugePageCopy::operator=(HugePageCopy&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

HugePageCopy::~HugePageCopy() { Release(); }

void HugePageCopy::Release() {
  if (data_ != nullptr) munmap(data_, mapped_);
  data_ = nullptr;
  size_ = mapped_ = 0;
}

}  // namespace sextant::maps
