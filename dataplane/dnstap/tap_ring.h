// dnstap sampling on the fast path: a fixed-size record per sampled query (the query, its
// response, both endpoints and times), a single-producer single-consumer ring of such records
// per serving thread (lcore), and the sampler that decides which queries are copied.
//
// The serving thread is the only producer of its ring and the dnstap writer thread
// (dnstap_writer.h) the only consumer. Nothing here allocates, locks or blocks once built: a full
// ring drops the sample and the caller counts it (LcoreCounters::dnstap_dropped). Works alike in
// kernel-socket and DPDK mode (plain memory, C++ atomics).
#pragma once

#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/base/optimization.h"

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

 private:
  static constexpr uint64_t kOff = std::numeric_limits<uint64_t>::max();
  TapRing* ring_ = nullptr;
  uint64_t every_ = kOff;
  uint64_t countdown_ = kOff;
};

}  // namespace sextant::dataplane
