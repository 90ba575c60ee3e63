// The control block: a small shared-memory region (/dev/shm/<instance>.ctl) through which
// sextant-control and sextant-dataplane meet. Both processes include this header; its layout is
// part of the ABI (kControlAbiVersion).
//
//   ControlBlockHeader   magic, version, active snapshot generation (the one release-store
//                        that publishes a snapshot), control's pid and heartbeat
//   health[kMaxHealthWords]   one atomic word per monitored target, written in place by
//                        control and read per query by the dataplane
//   lcores[kMaxLcores]   per-lcore counters: one writer (that lcore), summed by readers
//   dataplanes[kMaxDataplanes]   one slot per attached sextant-dataplane process (several may
//                        serve one instance; maps/dataplane_attachment.h)
//   control_socket       where the daemon answers sextantctl, so that `--instance` finds it
//
// The later parts were appended (ABI 2) so that the offsets of the first three stay: tools read
// the generation at offset 16 and the counters at 64 + 4 * kMaxHealthWords.
//
// Snapshots live beside it as /dev/shm/<instance>.snap.<generation>. Control writes the file
// completely under a temporary name, renames it into place, and only then stores the new
// generation with release order; the dataplane loads the generation with acquire order and maps
// that file. Control keeps the active snapshot and its predecessor on disk, so a dataplane that
// (re)starts while control is down still finds the last good one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "maps/unique_fd.h"

namespace sextant::maps {

inline constexpr uint64_t kControlMagic = 0x314C5254434B5853ULL;  // "SXKCTRL1"
inline constexpr uint32_t kControlAbiVersion = 2;
inline constexpr uint32_t kMaxHealthWords = 65536;
inline constexpr uint32_t kMaxLcores = 128;
inline constexpr uint32_t kMaxDataplanes = 32;
// sockaddr_un's sun_path: no Unix socket path is longer.
inline constexpr uint32_t kMaxSocketPath = 108;

// Health word layout: bit 0 up, bit 1 forced, bit 2 drained,
// bits 16..31 TTL hint in seconds (0 = none). Initialised to "up".
inline constexpr uint32_t kHealthUp = 1u << 0;
inline constexpr uint32_t kHealthForced = 1u << 1;
inline constexpr uint32_t kHealthDrained = 1u << 2;

enum DropReason : uint32_t {
  kDropMalformed = 0,  // not even a DNS header / bad frame
  kDropResponse = 1,   // QR=1
  kDropNoSnapshot = 2,
  kDropNotOurs = 3,  // frame not addressed to us
  kDropTxFull = 4,
  kDropOther = 5,
  kDropReasonCount = 8,
};

struct alignas(64) LcoreCounters {
  uint64_t rx_packets;
  uint64_t tx_packets;
  uint64_t queries;
  uint64_t rcode[16];  // answers by rcode (16 = BADVERS is counted at index 15)
  uint64_t dropped[kDropReasonCount];
  uint64_t exception_packets;  // handed to the kernel exception path
  uint64_t truncated;
  uint64_t generation;  // snapshot generation this lcore currently serves
  // dnstap (dataplane/dnstap/): queries copied into this lcore's ring, and those not copied
  // because the ring was full. Were reserved (zero) before, so the layout and ABI stay.
  uint64_t dnstap_sampled;
  uint64_t dnstap_dropped;
  uint64_t reserved[2];
};

struct ControlBlockHeader {
  uint64_t magic;
  uint32_t abi_version;
  uint32_t size;
  std::atomic<uint64_t> active_generation;  // 0 = nothing published yet
  std::atomic<uint64_t> control_pid;
  std::atomic<uint64_t> control_heartbeat_unix_ms;
  // ABI 1 kept one dataplane pid here, which a second dataplane's exit erased; the slots below
  // replaced it.
  uint64_t reserved;
  uint8_t pad[64 - 48];
};
static_assert(sizeof(ControlBlockHeader) == 64);

// One attached sextant-dataplane process (maps/dataplane_attachment.h). `holder` is claimed and
// released with compare-and-swap; the fields after it describe the holder once `filled_for`
// equals `holder`. A process that died without releasing its slot is told from a live one by
// its start time, so neither a crash nor a reused pid makes a false "attached".
struct alignas(64) DataplaneSlot {
  // The pid in the low 32 bits (0 = free), the number of claims so far in the high 32 bits, so
  // that no two holders ever have the same value.
  std::atomic<uint64_t> holder;
  std::atomic<uint64_t> filled_for;  // the `holder` the fields below were written for
  // The process's start time (/proc/<pid>/stat, clock ticks since boot).
  std::atomic<uint64_t> start_time;
  std::atomic<uint64_t> attached_unix_ms;
  char serving[96];  // what it serves on, NUL-terminated ("udp+tcp 127.0.0.1:5353")
};
static_assert(sizeof(DataplaneSlot) == 128);

// The daemon's control socket path, recorded at start-up. `length` 0 = none recorded; it is
// stored last (release), after the bytes.
struct ControlSocketRecord {
  std::atomic<uint32_t> length;
  char path[kMaxSocketPath];
};

struct ControlBlock {
  ControlBlockHeader hdr;
  alignas(64) std::atomic<uint32_t> health[kMaxHealthWords];
  LcoreCounters lcores[kMaxLcores];
  DataplaneSlot dataplanes[kMaxDataplanes];
  ControlSocketRecord control_socket;
};
// The offsets that readers outside C++ rely on (tests/integration/lib/lab.py,
// perf/control_block_counters.py).
static_assert(offsetof(ControlBlockHeader, active_generation) == 16);
static_assert(offsetof(ControlBlock, lcores) == 64 + 4 * kMaxHealthWords);

// Counters have one writer (their lcore or thread) and are summed by other processes through
// shared memory: a relaxed load and store compiles to a plain add, without a locked instruction,
// yet keeps each 64-bit value untorn for the readers. Every writer counts through these.
inline void CounterAdd(uint64_t& counter, uint64_t n = 1) {
  std::atomic_ref<uint64_t> r(counter);
  r.store(r.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void CounterSet(uint64_t& counter, uint64_t v) {
  std::atomic_ref<uint64_t>(counter).store(v, std::memory_order_relaxed);
}
// One answer with this (extended) rcode; BADVERS (16) and other extended rcodes share the last
// slot.
inline void CountAnswer(LcoreCounters& c, uint16_t rcode, bool truncated) {
  CounterAdd(c.rcode[rcode < 16 ? rcode : 15]);
  if (truncated) CounterAdd(c.truncated);
}

// The lcores' counters summed (read while they run, so each field is as of some moment of the
// read); *active, when given, counts the lcores that have counted anything.
LcoreCounters SumLcores(const ControlBlock& b, int* active = nullptr);

// Owns a mapping of the control block.
class ControlBlockMapping {
 public:
  // Opens /dev/shm/<instance>.ctl, creating and initialising it when `create` and it is absent
  // or invalid. A valid existing block is re-attached as is (generation and health survive).
  //
  // A reader (`create` false: the dataplane, sextantctl) holds a shared flock(2) on the file for
  // as long as it maps it. Re-initialising a block of another size or ABI version takes the lock
  // exclusively first, so control refuses, naming both versions, instead of zeroing a block a
  // running dataplane of another version still uses.
  static absl::StatusOr<std::unique_ptr<ControlBlockMapping>> Open(const std::string& instance,
                                                                   bool create);
  ~ControlBlockMapping();
  ControlBlock* get() const { return block_; }
  ControlBlock* operator->() const { return block_; }

 private:
  ControlBlockMapping(ControlBlock* b, UniqueFd reader_lock)
      : block_(b), reader_lock_(std::move(reader_lock)) {}
  ControlBlock* block_;
  UniqueFd reader_lock_;  // readers only: the open file that holds the shared lock
};

// The control socket the daemon of this block recorded (empty: none), and recording it.
std::string RecordedControlSocket(const ControlBlock& b);
void RecordControlSocket(ControlBlock& b, const std::string& path);  // too long: records none

// /dev/shm paths for an instance.
std::string ControlBlockPath(const std::string& instance);
std::string SnapshotPath(const std::string& instance, uint64_t generation);

}  // namespace sextant::maps
