#include "maps/control_block.h"

#include <fcntl.h>
#include <sys/file.h>
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

namespace {

// What a block of the wrong shape is, for messages: its ABI version when its header says.
std::string Describe(const ControlBlockHeader* hdr, size_t file_size) {
  if (file_size >= sizeof(ControlBlockHeader) && hdr->magic == kControlMagic) {
    return absl::StrCat("control-block ABI version ", hdr->abi_version);
  }
  return absl::StrCat("an unknown layout (", file_size, " bytes)");
}

std::string Versions(const std::string& path, const std::string& found) {
  return absl::StrCat("control block ", path, " has ", found,
                      "; this build uses control-block ABI ", kControlAbiVersion, " (",
                      sizeof(ControlBlock), " bytes)");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlBlockMapping>> ControlBlockMapping::Open(
    const std::string& instance, bool create) {
  const std::string path = ControlBlockPath(instance);
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600));
  if (!fd) {
    return absl::NotFoundError(absl::StrCat("control block ", path, ": ", std::strerror(errno),
                                            create ? "" : " (has sextant-control ever run?)"));
  }
  // Readers announce themselves before they look: a re-initialisation either finished before
  // this (the block is valid below) or waits for none and is refused while this is held.
  if (!create && flock(fd.get(), LOCK_SH) != 0) {
    return absl::InternalError(
        absl::StrCat("control block ", path, ": flock: ", std::strerror(errno)));
  }
  struct stat st {};
  fstat(fd.get(), &st);
  const size_t size = sizeof(ControlBlock);
  const auto file_size = static_cast<size_t>(st.st_size);
  const bool right_size = file_size == size;
  if (!create && file_size == 0) {
    // NotFound, as when the file is absent: --wait waits for control to finish creating it.
    return absl::NotFoundError(absl::StrCat(
        "control block ", path, " is not initialised yet (sextant-control is starting)"));
  }
  void* p = file_size > 0
                ? mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0)
                : nullptr;
  if (p == MAP_FAILED) {
    return absl::InternalError(
        absl::StrCat("control block ", path, ": mmap: ", std::strerror(errno)));
  }
  auto* b = static_cast<ControlBlock*>(p);
  const bool valid =
      right_size && b->hdr.magic == kControlMagic && b->hdr.abi_version == kControlAbiVersion;
  if (valid) {
    return std::unique_ptr<ControlBlockMapping>(
        new ControlBlockMapping(b, create ? UniqueFd() : std::move(fd)));
  }
  const std::string found = file_size == 0 ? "nothing yet" : Describe(&b->hdr, file_size);
  if (p != nullptr) munmap(p, file_size);
  if (!create) {
    return absl::FailedPreconditionError(
        absl::StrCat(Versions(path, found),
                     ": sextant-control and sextant-dataplane must be of one release; restart "
                     "sextant-control from this release first (docs/deploying.md, Upgrades)"));
  }
  // Re-initialise (or initialise a new, empty file) only while no reader maps it.
  if (file_size != 0 && flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        Versions(path, found),
        ", and a running sextant-dataplane (or sextantctl) of that version still maps it: "
        "stop the dataplane first, then start sextant-control, then the new dataplane "
        "(docs/deploying.md, Upgrades)"));
  }
  if (ftruncate(fd.get(), 0) != 0 || ftruncate(fd.get(), size) != 0) {
    return absl::InternalError(absl::StrCat("control block ", path, ": ", std::strerror(errno)));
  }
  p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    return absl::InternalError(
        absl::StrCat("control block ", path, ": mmap: ", std::strerror(errno)));
  }
  b = static_cast<ControlBlock*>(p);
  for (auto& w : b->health) w.store(kHealthUp, std::memory_order_relaxed);
  b->hdr.abi_version = kControlAbiVersion;
  b->hdr.size = static_cast<uint32_t>(size);
  std::atomic_thread_fence(std::memory_order_release);
  b->hdr.magic = kControlMagic;
  flock(fd.get(), LOCK_UN);
  return std::unique_ptr<ControlBlockMapping>(new ControlBlockMapping(b, UniqueFd()));
}

ControlBlockMapping::~ControlBlockMapping() { munmap(block_, sizeof(ControlBlock)); }

// The workers write these counters while we read them (CounterAdd): every read is a
// CounterLoad, so a 64-bit value is never torn and ThreadSanitizer sees an atomic read.
LcoreCounters SumLcores(const ControlBlock& b, int* active) {
  LcoreCounters total{};
  int n = 0;
  for (uint32_t i = 0; i < kMaxLcores; ++i) {
    const LcoreCounters& c = b.lcores[i];
    // A TCP thread may have refused connections before it answered anything.
    total.tcp_refused_per_client += CounterLoad(c.tcp_refused_per_client);
    total.tcp_refused_full += CounterLoad(c.tcp_refused_full);
    total.tcp_closed_evicted += CounterLoad(c.tcp_closed_evicted);
    total.tcp_closed_idle += CounterLoad(c.tcp_closed_idle);
    total.tcp_closed_slow += CounterLoad(c.tcp_closed_slow);
    total.tcp_closed_spent += CounterLoad(c.tcp_closed_spent);
    if (CounterLoad(c.rx_packets) == 0 && CounterLoad(c.queries) == 0 &&
        CounterLoad(c.tx_packets) == 0) {
      continue;
    }
    ++n;
    total.rx_packets += CounterLoad(c.rx_packets);
    total.tx_packets += CounterLoad(c.tx_packets);
    total.queries += CounterLoad(c.queries);
    total.exception_packets += CounterLoad(c.exception_packets);
    total.truncated += CounterLoad(c.truncated);
    total.dnstap_sampled += CounterLoad(c.dnstap_sampled);
    total.dnstap_dropped += CounterLoad(c.dnstap_dropped);
    total.rrl_limited += CounterLoad(c.rrl_limited);
    total.rrl_slipped += CounterLoad(c.rrl_slipped);
    for (int k = 0; k < 16; ++k) total.rcode[k] += CounterLoad(c.rcode[k]);
    for (int k = 0; k < static_cast<int>(kDropReasonCount); ++k) {
      total.dropped[k] += CounterLoad(c.dropped[k]);
    }
  }
  if (active != nullptr) *active = n;
  return total;
}

LcoreCookies SumCookies(const ControlBlock& b) {
  LcoreCookies total{};
  for (const LcoreCookies& c : b.cookies) {
    total.seen += CounterLoad(c.seen);
    total.valid += CounterLoad(c.valid);
    total.badcookie += CounterLoad(c.badcookie);
  }
  return total;
}

void SumAnswers(const ControlBlock& b, LcoreAnswers* out) {
  *out = LcoreAnswers{};
  for (uint32_t i = 0; i < kMaxLcores; ++i) {
    const LcoreCounters& c = b.lcores[i];
    if (CounterLoad(c.rx_packets) == 0 && CounterLoad(c.queries) == 0) continue;  // never served
    const LcoreAnswers& a = b.answers[i];
    for (uint32_t k = 0; k < kQtypeSlots; ++k) out->qtype[k] += CounterLoad(a.qtype[k]);
    for (uint32_t k = 0; k < kMaxSiteSlots; ++k) out->site[k] += CounterLoad(a.site[k]);
  }
}

}  // namespace sextant::maps
