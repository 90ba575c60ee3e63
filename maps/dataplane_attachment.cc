#include "maps/dataplane_attachment.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace sextant::maps {
namespace {

// /proc/<pid>/stat: "pid (comm) state ppid ... starttime ...". comm may hold spaces and
// parentheses, so the fields are counted from the last ')': state is the first after it and
// starttime (field 22) the twentieth.
constexpr int kStartTimeAfterComm = 20;

uint64_t PidOf(uint64_t holder) { return holder & 0xffffffffu; }
uint64_t ClaimsOf(uint64_t holder) { return holder >> 32; }

// Whether the process that holds `slot` as `holder` still runs. A slot still being filled in
// belongs to whoever runs as its pid.
bool HolderAlive(const DataplaneSlot& slot, uint64_t holder) {
  const uint64_t now = ProcessStartTime(PidOf(holder));
  if (now == 0) return false;
  if (slot.filled_for.load(std::memory_order_acquire) != holder) return true;
  return slot.start_time.load(std::memory_order_relaxed) == now;
}

}  // namespace

uint64_t ProcessStartTime(uint64_t pid) {
  if (pid == 0) return 0;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!in || !std::getline(in, line)) return 0;
  const size_t comm_end = line.rfind(')');
  if (comm_end == std::string::npos) return 0;
  std::istringstream fields(line.substr(comm_end + 1));
  std::string field;
  for (int i = 1; i <= kStartTimeAfterComm && fields >> field; ++i) {
    if (i == 1 && (field == "Z" || field == "X")) return 0;  // exited, not yet reaped
    if (i == kStartTimeAfterComm) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

int AttachDataplane(ControlBlock& b, uint64_t pid, const std::string& serving,
                    int64_t now_unix_ms) {
  const uint64_t start = ProcessStartTime(pid);
  if (start == 0 || pid > 0xffffffffu) return -1;
  for (uint32_t i = 0; i < kMaxDataplanes; ++i) {
    DataplaneSlot& slot = b.dataplanes[i];
    uint64_t holder = slot.holder.load(std::memory_order_acquire);
    if (PidOf(holder) != 0 && HolderAlive(slot, holder)) continue;
    const uint64_t mine = ((ClaimsOf(holder) + 1) << 32) | pid;
    if (!slot.holder.compare_exchange_strong(holder, mine, std::memory_order_acq_rel)) continue;
    // Ours; readers and claimers ignore the fields below until filled_for says they are ours.
    const size_t n = std::min(serving.size(), sizeof(slot.serving) - 1);
    std::memcpy(slot.serving, serving.data(), n);
    slot.serving[n] = '\0';
    if (n < serving.size() && n >= 3) std::memcpy(slot.serving + n - 3, "...", 3);
    slot.start_time.store(start, std::memory_order_relaxed);
    slot.attached_unix_ms.store(static_cast<uint64_t>(now_unix_ms), std::memory_order_relaxed);
    slot.filled_for.store(mine, std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

void DetachDataplane(ControlBlock& b, int index, uint64_t pid) {
  if (index < 0 || static_cast<uint32_t>(index) >= kMaxDataplanes) return;
  DataplaneSlot& slot = b.dataplanes[index];
  uint64_t holder = slot.holder.load(std::memory_order_acquire);
  if (PidOf(holder) != pid) return;
  // Keep the claim count: the next holder's value must differ from every earlier one.
  slot.holder.compare_exchange_strong(holder, ClaimsOf(holder) << 32, std::memory_order_acq_rel);
}

std::vector<AttachedDataplane> AttachedDataplanes(const ControlBlock& b) {
  std::vector<AttachedDataplane> out;
  for (const DataplaneSlot& slot : b.dataplanes) {
    const uint64_t holder = slot.holder.load(std::memory_order_acquire);
    if (PidOf(holder) == 0 || slot.filled_for.load(std::memory_order_acquire) != holder) {
      continue;  // free, or still being filled in
    }
    AttachedDataplane d;
    d.pid = PidOf(holder);
    const uint64_t start = slot.start_time.load(std::memory_order_relaxed);
    d.attached_unix_ms =
        static_cast<int64_t>(slot.attached_unix_ms.load(std::memory_order_relaxed));
    d.serving.assign(slot.serving, strnlen(slot.serving, sizeof(slot.serving)));
    // Taken over by another dataplane while we copied: the copy may be torn; skip it.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.holder.load(std::memory_order_relaxed) != holder) continue;
    if (ProcessStartTime(d.pid) != start) continue;  // died without detaching, or a reused pid
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace sextant::maps
