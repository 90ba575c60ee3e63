#include "maps/control_block.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "maps/unique_fd.h"

namespace sextant::maps {

std::string ControlBlockPath(const std::string& instance) {
  return absl::StrCat("/dev/shm/", instance, ".ctl");
}
std::string RecordedControlSocket(const ControlBlock& b) {
  const uint32_t n = b.control_socket.length.load(std::memory_order_acquire);
  if (n == 0 || n > kMaxSocketPath) return "";
  std::string path(b.control_socket.path, n);
  // Re-recorded meanwhile (a daemon restarting): the copy may be torn, so report none.
  if (b.control_socket.length.load(std::memory_order_acquire) != n) return "";
  return path;
}

void RecordControlSocket(ControlBlock& b, const std::string& path) {
  b.control_socket.length.store(0, std::memory_order_release);
  if (path.empty() || path.size() > kMaxSocketPath) return;
  std::memcpy(b.control_socket.path, path.data(), path.size());
  b.control_socket.length.store(static_cast<uint32_t>(path.size()), std::memory_order_release);
}

std::string SnapshotPath(const std::string& instance, uint64_t generation) {
  return absl::StrCat("/dev/shm/", instance, ".snap.", generation);
}

absl::StatusOr<std::unique_ptr<ControlBlockMapping>> ControlBlockMapping::Open(
    const std::string& instance, bool create) {
  const std::string path = ControlBlockPath(instance);
  const UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600));
  if (!fd) {
    return absl::NotFoundError(absl::StrCat("control block ", path, ": ", std::strerror(errno),
                                            create ? "" : " (has sextant-control ever run?)"));
  }
  struct stat st {};
  fstat(fd.get(), &st);
  const size_t size = sizeof(ControlBlock);
  bool fresh = static_cast<size_t>(st.st_size) != size;
  if (fresh) {
    if (!create) {
      return absl::FailedPreconditionError(
          absl::StrCat("control block ", path, " has size ", st.st_size, ", expected ", size));
    }
    if (ftruncate(fd.get(), size) != 0) {
      return absl::InternalError(absl::StrCat("control block ", path, ": ", std::strerror(errno)));
    }
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    return absl::InternalError(
        absl::StrCat("control block ", path, ": mmap: ", std::strerror(errno)));
  }
  auto* b = static_cast<ControlBlock*>(p);
  if (b->hdr.magic != kControlMagic || b->hdr.abi_version != kControlAbiVersion) {
    if (!create) {
      munmap(p, size);
      return absl::FailedPreconditionError(
          absl::StrCat("control block ", path, " has a foreign magic or ABI version"));
    }
    std::memset(p, 0, size);
    for (auto& w : b->health) w.store(kHealthUp, std::memory_order_relaxed);
    b->hdr.abi_version = kControlAbiVersion;
    b->hdr.size = static_cast<uint32_t>(size);
    std::atomic_thread_fence(std::memory_order_release);
    b->hdr.magic = kControlMagic;
  }
  return std::unique_ptr<ControlBlockMapping>(new ControlBlockMapping(b));
}

ControlBlockMapping::~ControlBlockMapping() { munmap(block_, sizeof(ControlBlock)); }

LcoreCounters SumLcores(const ControlBlock& b, int* active) {
  LcoreCounters total{};
  int n = 0;
  for (uint32_t i = 0; i < kMaxLcores; ++i) {
    const LcoreCounters& c = b.lcores[i];
    if (c.rx_packets == 0 && c.queries == 0 && c.tx_packets == 0) continue;
    ++n;
    total.rx_packets += c.rx_packets;
    total.tx_packets += c.tx_packets;
    total.queries += c.queries;
    total.exception_packets += c.exception_packets;
    total.truncated += c.truncated;
    for (int k = 0; k < 16; ++k) total.rcode[k] += c.rcode[k];
    for (int k = 0; k < static_cast<int>(kDropReasonCount); ++k) total.dropped[k] += c.dropped[k];
  }
  if (active != nullptr) *active = n;
  return total;
}

}  // namespace sextant::maps
