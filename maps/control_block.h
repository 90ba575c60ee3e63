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
//   answers[kMaxLcores]  per-lcore answers by qtype and by geo site (ABI 3; one writer each)
//   ports[kMaxPorts]     DPDK NIC statistics and link state, written by the dataplane's main
//                        lcore about once a second (ABI 3)
//   cookie_secrets       the DNS Cookie secrets (RFC 7873, RFC 9018): current and previous,
//                        written by control at each rotation, read per query (ABI 4)
//   cookies[kMaxLcores]  per-lcore DNS Cookie counters (ABI 4; one writer each)
//
// The later parts were appended (ABI 2, 3, 4) so that the offsets of the first three stay: tools
// read the generation at offset 16 and the counters at 64 + 4 * kMaxHealthWords.
//
// Snapshots live beside it as /dev/shm/<instance>.snap.<generation>. Control writes the file
// completely under a temporary name, renames it into place, and only then stores the new
// generation with release order; the dataplane loads the generation with acquire order and maps
// that file. Control keeps the active snapshot and its predecessor on disk, so a dataplane that
// (re)starts while control is down still finds the last good one.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "maps/unique_fd.h"

namespace sextant::maps {

inline constexpr uint64_t kControlMagic = 0x314C5254434B5853ULL;  // "SXKCTRL1"
inline constexpr uint32_t kControlAbiVersion = 4;
inline constexpr uint32_t kMaxHealthWords = 65536;
inline constexpr uint32_t kMaxLcores = 128;
inline constexpr uint32_t kMaxDataplanes = 32;
// sockaddr_un's sun_path: no Unix socket path is longer.
inline constexpr uint32_t kMaxSocketPath = 108;
// Answers counted per geo site: slot 1 + the snapshot's member index (kMembers) of the site
// member a geo or latency resource's lookup picked; slot 0 counts every other answer, so the
// counting needs no branch. Members beyond the last slot count in slot 0 too.
inline constexpr uint32_t kMaxSiteSlots = 1024;
// Qtypes counted one by one (kQtypeSlots - 1 of them; the last slot is "other").
inline constexpr uint32_t kQtypeSlots = 16;
inline constexpr uint32_t kMaxPorts = 4;
inline constexpr uint32_t kMaxPortQueues = 16;  // RTE_ETHDEV_QUEUE_STAT_CNTRS

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
  // Response rate limiting (dataplane/rrl/): UDP responses the limiter held back (dropped or
  // slipped), and of those the ones sent truncated (TC=1, "slip") instead of dropped; so
  // rrl_limited - rrl_slipped were dropped on purpose. Were reserved (zero) before: same layout,
  // same ABI.
  uint64_t rrl_limited;
  uint64_t rrl_slipped;
  // TCP limits (dataplane/kernel/tcp_server.cc: the kernel listener and the DPDK exception path),
  // counted by the TCP thread in its slot: connections refused over the per-client limit and at a
  // connection limit lowered below those open; connections closed to make room for a newcomer
  // (the one stalled longest), by the idle timeout, by the query timeout, and after their last
  // allowed query. Were alignment padding (zero) before: same layout, same ABI.
  uint64_t tcp_refused_per_client;
  uint64_t tcp_refused_full;
  uint64_t tcp_closed_evicted;
  uint64_t tcp_closed_idle;
  uint64_t tcp_closed_slow;
  uint64_t tcp_closed_spent;
};
static_assert(sizeof(LcoreCounters) == 320);  // perf/control_block_counters.py, lab.py

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

// The qtypes counted in their own slot, in slot order; the rest count in the last slot.
inline constexpr uint16_t kCountedQtypes[kQtypeSlots - 1] = {
    1 /*A*/,   2 /*NS*/,      5 /*CNAME*/,  6 /*SOA*/,   12 /*PTR*/,
    15 /*MX*/, 16 /*TXT*/,    28 /*AAAA*/,  33 /*SRV*/,  35 /*NAPTR*/,
    43 /*DS*/, 48 /*DNSKEY*/, 65 /*HTTPS*/, 255 /*ANY*/, 257 /*CAA*/};

// The slot of a qtype (kQtypeSlots - 1: other), by search (for readers).
constexpr uint8_t QtypeSlot(uint16_t qtype) {
  for (uint32_t i = 0; i < kQtypeSlots - 1; ++i) {
    if (kCountedQtypes[i] == qtype) return static_cast<uint8_t>(i);
  }
  return kQtypeSlots - 1;
}
// The same by table, for the fast path.
inline constexpr std::array<uint8_t, 512> kQtypeSlotTable = [] {
  std::array<uint8_t, 512> t{};
  for (uint32_t q = 0; q < t.size(); ++q) t[q] = QtypeSlot(static_cast<uint16_t>(q));
  return t;
}();

// One lcore's answers by qtype and by the geo site they came from (ABI 3). One writer, the lcore
// whose LcoreCounters have the same index.
struct alignas(64) LcoreAnswers {
  uint64_t qtype[kQtypeSlots];
  uint64_t site[kMaxSiteSlots];  // see kMaxSiteSlots
};

// One DPDK port's statistics (rte_eth_stats) and link state, copied by the dataplane's main lcore
// about once a second (ABI 3). `updated_unix_ms` 0 = slot unused; it is stored last (release).
struct alignas(64) PortStats {
  std::atomic<uint64_t> updated_unix_ms;
  uint64_t port_id;
  char name[48];  // the port's device name, NUL-terminated
  uint64_t link_up;
  uint64_t link_speed_mbps;
  uint64_t ipackets, opackets, ibytes, obytes;
  uint64_t imissed;    // dropped by the NIC: no RX descriptor free
  uint64_t ierrors;    // erroneous frames received
  uint64_t oerrors;    // failed transmits
  uint64_t rx_nombuf;  // RX mbuf allocation failures
  uint64_t queues;     // how many q_* entries are meaningful
  uint64_t q_ipackets[kMaxPortQueues];
  uint64_t q_opackets[kMaxPortQueues];
  uint64_t q_errors[kMaxPortQueues];
};

// The DNS Cookie server secrets (ABI 4): 128-bit SipHash-2-4 keys, the current one (which makes
// new server cookies) and the one before it (whose cookies are still accepted, so that a rotation
// invalidates nothing younger than one rotation period). Control writes them (getrandom) at each
// rotation; the dataplane reads a consistent pair per query without a lock through the sequence
// word, a seqlock: odd while control writes, bumped by two per rotation. All zero = no secret
// published yet. The words stay in shared memory, so a dataplane keeps its secrets while control
// is down, and a restarted control keeps using them until the next rotation is due.
struct alignas(64) CookieSecrets {
  std::atomic<uint64_t> seq;
  std::atomic<uint64_t> current[2];
  std::atomic<uint64_t> previous[2];
  std::atomic<uint64_t> rotated_unix_ms;  // when `current` was made; 0 = never
  std::atomic<uint64_t> rotations;        // how many rotations so far (also the first secret)
  uint64_t reserved;
};
static_assert(sizeof(CookieSecrets) == 64);

// A consistent copy of the secrets (the words of CookieSecrets, for readers).
struct CookieKeys {
  uint64_t current[2];
  uint64_t previous[2];
};

// Reads the secrets. Lock-free and bounded: a writer that stopped mid-write (control killed) makes
// the copy fail after a few tries, and the caller then treats the secrets as not published.
// Returns false also when nothing was published yet (all zero).
inline bool ReadCookieKeys(const CookieSecrets& s, CookieKeys* out) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const uint64_t before = s.seq.load(std::memory_order_acquire);
    if (before & 1) continue;
    out->current[0] = s.current[0].load(std::memory_order_relaxed);
    out->current[1] = s.current[1].load(std::memory_order_relaxed);
    out->previous[0] = s.previous[0].load(std::memory_order_relaxed);
    out->previous[1] = s.previous[1].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) == before) {
      return (out->current[0] | out->current[1]) != 0;
    }
  }
  return false;
}

// Control's side: `fresh` becomes current and the current one previous.
inline void RotateCookieKeys(CookieSecrets& s, const uint64_t fresh[2], uint64_t now_unix_ms) {
  const uint64_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq | 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (int i = 0; i < 2; ++i) {
    s.previous[i].store(s.current[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    s.current[i].store(fresh[i], std::memory_order_relaxed);
  }
  s.rotated_unix_ms.store(now_unix_ms, std::memory_order_relaxed);
  s.rotations.store(s.rotations.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.seq.store((seq | 1) + 1, std::memory_order_release);
}

// One serving thread's DNS Cookie counters (ABI 4). One writer, the lcore whose LcoreCounters
// have the same index. BADCOOKIE answers count in LcoreCounters::rcode too (the extended rcodes'
// shared last slot).
struct alignas(64) LcoreCookies {
  uint64_t seen;       // queries that carried a well-formed COOKIE option
  uint64_t valid;      // ... with a server cookie that validated (RRL-exempt)
  uint64_t badcookie;  // answered BADCOOKIE (cookies.require)
  uint64_t reserved[5];
};
static_assert(sizeof(LcoreCookies) == 64);

struct ControlBlock {
  ControlBlockHeader hdr;
  alignas(64) std::atomic<uint32_t> health[kMaxHealthWords];
  LcoreCounters lcores[kMaxLcores];
  DataplaneSlot dataplanes[kMaxDataplanes];
  ControlSocketRecord control_socket;
  LcoreAnswers answers[kMaxLcores];  // ABI 3
  PortStats ports[kMaxPorts];        // ABI 3
  CookieSecrets cookie_secrets;      // ABI 4
  LcoreCookies cookies[kMaxLcores];  // ABI 4
};
// The offsets that readers outside C++ rely on (tests/integration/lib/lab.py,
// perf/control_block_counters.py).
static_assert(offsetof(ControlBlockHeader, active_generation) == 16);
static_assert(offsetof(ControlBlock, lcores) == 64 + 4 * kMaxHealthWords);
static_assert(sizeof(LcoreAnswers) == 8320 && sizeof(PortStats) == 576);
static_assert(offsetof(ControlBlock, cookie_secrets) == 1374656);  // COOKIE_SECRETS_OFFSET
static_assert(offsetof(ControlBlock, cookies) == 1374656 + 64 && sizeof(ControlBlock) == 1382912);

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
// A counter as another thread or process reads it while its writer runs.
inline uint64_t CounterLoad(const uint64_t& counter) {
  // atomic_ref<const T> is C++26; the load does not write.
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(counter)).load(std::memory_order_relaxed);
}
// One answer with this (extended) rcode; BADVERS (16) and other extended rcodes share the last
// slot.
inline void CountAnswer(LcoreCounters& c, uint16_t rcode, bool truncated) {
  CounterAdd(c.rcode[rcode < 16 ? rcode : 15]);
  if (truncated) CounterAdd(c.truncated);
}
// One query's DNS Cookie outcome (AnswerInfo's cookie fields).
inline void CountCookie(LcoreCookies& c, bool seen, bool valid, bool badcookie) {
  if (!seen) return;
  CounterAdd(c.seen);
  if (valid) CounterAdd(c.valid);
  if (badcookie) CounterAdd(c.badcookie);
}
// One answer to a question of type `qtype` from geo site slot `site` (kMaxSiteSlots).
inline void CountAnswerSite(LcoreAnswers& a, uint16_t qtype, uint32_t site) {
  CounterAdd(a.qtype[qtype < kQtypeSlotTable.size() ? kQtypeSlotTable[qtype] : kQtypeSlots - 1]);
  CounterAdd(a.site[site < kMaxSiteSlots ? site : 0]);
}

// The lcores' counters summed (read while they run, so each field is as of some moment of the
// read); *active, when given, counts the lcores that have counted anything.
LcoreCounters SumLcores(const ControlBlock& b, int* active = nullptr);
// The serving threads' DNS Cookie counters summed, read like SumLcores's.
LcoreCookies SumCookies(const ControlBlock& b);
// The lcores' answers by qtype and site, summed.
void SumAnswers(const ControlBlock& b, LcoreAnswers* out);

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
