// dnstap sampling on the fast path: a fixed-size record per sampled query (the query, its
// response, both endpoints and times), a single-producer single-consumer ring of such records
// per serving thread (lcore), and the sampler that decides which queries are copied.
//
// The serving thread is the only producer of its ring and the dnstap writer thread
// (dnstap_writer.h) the only consumer. Nothing here allocates, locks or blocks once built: a full
// ring drops the sample and the caller counts it (LcoreCounters::dnstap_dropped). Works alike in
// kernel-socket and DPDK mode (plain memory, C++ atomics).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "maps/control_block.h"

namespace sextant::dataplane {

// A query longer than this is logged without its message (queries are one question and an OPT
// record: well under 512 bytes); a longer response likewise. The record is 4 KiB.
inline constexpr size_t kTapQueryMax = 512;
inline constexpr size_t kTapResponseMax = 3456;

struct TapRecord {
  timespec query_time;
  timespec response_time;
  uint8_t family = 4;  // 4 or 6
  bool tcp = false;
  bool answered = false;      // false: the engine dropped the query (no response)
  uint16_t query_len = 0;     // 0 with a query longer than kTapQueryMax
  uint16_t response_len = 0;  // 0 with a response longer than kTapResponseMax
  uint16_t client_port = 0;
  uint16_t server_port = 0;
  uint8_t client[16];
  uint8_t server[16];
  uint8_t query[kTapQueryMax];
  uint8_t response[kTapResponseMax];
};

class TapRing {
 public:
  // `slots` is a power of two.
  explicit TapRing(uint32_t slots)
      : mask_(slots - 1), slots_(std::make_unique_for_overwrite<TapRecord[]>(slots)) {}

  // Producer: the next free record, or null when the ring is full. Fill it, then Commit().
  TapRecord* Reserve() {
    if (ABSL_PREDICT_FALSE(head_ - tail_cache_ > mask_)) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head_ - tail_cache_ > mask_) return nullptr;
    }
    return &slots_[head_ & mask_];
  }
  void Commit() { published_.store(++head_, std::memory_order_release); }

  // Consumer: the oldest committed record, or null when there is none. Release() frees it.
  const TapRecord* Peek() {
    if (read_ == head_cache_) {
      head_cache_ = published_.load(std::memory_order_acquire);
      if (read_ == head_cache_) return nullptr;
    }
    return &slots_[read_ & mask_];
  }
  void Release() { tail_.store(++read_, std::memory_order_release); }

  uint32_t capacity() const { return mask_ + 1; }

 private:
  const uint32_t mask_;
  std::unique_ptr<TapRecord[]> slots_;
  // Producer's line: its position and what it last saw of the consumer.
  alignas(64) uint64_t head_ = 0;
  uint64_t tail_cache_ = 0;
  std::atomic<uint64_t> published_{0};
  // Consumer's line.
  alignas(64) uint64_t read_ = 0;
  uint64_t head_cache_ = 0;
  std::atomic<uint64_t> tail_{0};
};

// Decides which queries are sampled: one decrement and one predictable branch per query, the
// same whether sampling is on or off (off never reaches zero in practice: 2^64 queries).
class TapSampler {
 public:
  TapSampler() = default;
  // 1 in `every` queries goes into `ring` (null: off).
  TapSampler(TapRing* ring, uint32_t every)
      : ring_(ring), every_(ring != nullptr ? every : kOff), countdown_(every_) {}

  bool Due() {
    if (ABSL_PREDICT_TRUE(--countdown_ != 0)) return false;
    countdown_ = every_;
    return true;
  }

  // After Due(): the record to fill (then Commit()), or null when the ring is full (count a
  // drop) or sampling is off.
  TapRecord* Begin() { return ring_ != nullptr ? ring_->Reserve() : nullptr; }
  void Commit() { ring_->Commit(); }
  bool on() const { return ring_ != nullptr; }

  // After Due(), before the query is answered (an in-place answer overwrites it): a record with
  // the query and its time, or null when the ring is full (counted in ctr.dnstap_dropped) or
  // sampling is off. The caller fills the endpoints (FillTapEndpoints) and calls Finish().
  ABSL_ATTRIBUTE_NOINLINE TapRecord* Start(const uint8_t* query, size_t len, bool tcp,
                                           maps::LcoreCounters& ctr) {
    TapRecord* r = Begin();
    if (r == nullptr) {
      if (on()) maps::CounterAdd(ctr.dnstap_dropped, 1);
      return nullptr;
    }
    clock_gettime(CLOCK_REALTIME, &r->query_time);
    r->tcp = tcp;
    r->query_len = len <= kTapQueryMax ? static_cast<uint16_t>(len) : 0;
    std::memcpy(r->query, query, r->query_len);
    return r;
  }
  // The response (`rlen` bytes at `response`, 0 = dropped) and its time; publishes the record.
  ABSL_ATTRIBUTE_NOINLINE void Finish(TapRecord* r, const uint8_t* response, size_t rlen,
                                      maps::LcoreCounters& ctr) {
    clock_gettime(CLOCK_REALTIME, &r->response_time);
    r->answered = rlen != 0;
    r->response_len = rlen <= kTapResponseMax ? static_cast<uint16_t>(rlen) : 0;
    std::memcpy(r->response, response, r->response_len);
    Commit();
    maps::CounterAdd(ctr.dnstap_sampled, 1);
  }

 private:
  static constexpr uint64_t kOff = std::numeric_limits<uint64_t>::max();
  TapRing* ring_ = nullptr;
  uint64_t every_ = kOff;
  uint64_t countdown_ = kOff;
};

// Copies an address into `addr` (4 or 16 bytes) and returns its port.
inline uint16_t TapAddressOf(const sockaddr_storage& ss, uint8_t* addr) {
  if (ss.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
    std::memcpy(addr, sin6.sin6_addr.s6_addr, 16);
    return ntohs(sin6.sin6_port);
  }
  const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
  std::memcpy(addr, &sin.sin_addr, 4);
  return ntohs(sin.sin_port);
}

// The ends of a sampled query from its IP and UDP headers (DPDK): addresses of 4 or 16 bytes.
inline void FillTapEndpoints(uint8_t family, const uint8_t* client, const uint8_t* server,
                             uint16_t client_port, uint16_t server_port, TapRecord* r) {
  const size_t alen = family == 6 ? 16 : 4;
  r->family = family;
  std::memset(r->client, 0, sizeof(r->client));
  std::memset(r->server, 0, sizeof(r->server));
  std::memcpy(r->client, client, alen);
  std::memcpy(r->server, server, alen);
  r->client_port = client_port;
  r->server_port = server_port;
}

// The client (`peer`) and server (`local`) ends of a sampled query.
inline void FillTapEndpoints(const sockaddr_storage& peer, const sockaddr_storage& local,
                             TapRecord* r) {
  r->family = peer.ss_family == AF_INET6 ? 6 : 4;
  std::memset(r->client, 0, sizeof(r->client));
  std::memset(r->server, 0, sizeof(r->server));
  r->client_port = TapAddressOf(peer, r->client);
  r->server_port = local.ss_family == peer.ss_family ? TapAddressOf(local, r->server) : 0;
}

}  // namespace sextant::dataplane
