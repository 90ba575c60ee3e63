// Response rate limiting (RRL), the design BIND, Knot and NSD share: a token bucket per (client
// prefix, response class) caps how many UDP responses one network gets per second, so that a
// spoofer cannot use the server to reflect and amplify traffic at a victim. A response over the
// limit is dropped, or every `slip`-th one goes out truncated (TC=1, header and question only) so
// that a real client behind a spoofed-upon prefix retries over TCP, which cannot be spoofed.
// TCP responses and clients with a valid server cookie (AnswerInfo::cookie_ok) are never limited.
//
// One RateLimiter per serving lcore/thread, single-threaded, no locks. Its table is a fixed
// array of entries, 4-way set associative by a seeded hash of the key (the seed is random per
// process, so a spoofer cannot aim at one set); a new key takes an empty way or evicts the one
// used longest ago. The table is allocated when settings with a new size arrive (Update, between
// bursts), never per query.
//
// RSS and SO_REUSEPORT spread one prefix's queries over several lcores/threads, each with its
// own buckets. The rule: each of the `shares` serving lcores/threads gets the configured rate
// (and burst) divided by `shares`, rounded up. A prefix spread evenly (many source addresses or
// ports: what both real resolvers and spoofers send) then gets about the configured rate in
// total; one that all lands on one queue gets 1/shares of it, the stricter side.
//
// Time: the caller passes the time once per burst (NowNs(): CLOCK_MONOTONIC_COARSE, a vDSO read,
// no system call), never read per query.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/engine/engine.h"
#include "maps/control_block.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

enum class RrlVerdict : uint8_t { kPass, kDrop, kSlip };

class RateLimiter {
 public:
  // `shares`: how many serving lcores/threads divide the configured rates (>= 1). `seed` keys the
  // hash: RandomSeed() in production, fixed in tests.
  RateLimiter(uint32_t shares, uint64_t seed);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  static uint64_t RandomSeed();  // from getrandom(2); at construction only
  static uint64_t NowNs();       // CLOCK_MONOTONIC_COARSE: a vDSO read, once per burst

  // Between bursts: adopts the settings of snapshot generation `generation` (null: limiting
  // off) when it differs from the last one adopted. The buckets stay when the geometry (table
  // size, prefix lengths) is unchanged, so a reload neither forgets a flood nor forgives it; a
  // new table size allocates a new, empty table (the only allocation), new prefix lengths empty
  // the old one.
  void Update(const maps::RateLimitSettings* settings, uint64_t generation);
  // The same from a snapshot (its kRateLimit section, absent = off).
  void Update(const maps::SnapshotReader& snap);
  void set_now(uint64_t now_ns) { now_ = now_ns; }
  bool active() const { return active_; }

  // One UDP response of rlen bytes in `resp`, for `client`: passes it (returns rlen), drops it
  // (returns 0) or truncates it in place (returns the shorter length), and counts what it did
  // in *ctr (rrl_limited, rrl_slipped; may be null).
  size_t Apply(const ClientInfo& client, uint8_t* resp, size_t rlen, const AnswerInfo& info,
               maps::LcoreCounters* ctr) {
    if (!active_ || client.tcp || info.cookie_ok) return rlen;
    return Limit(client, resp, rlen, info, ctr);
  }

  // The bucket decision alone, for one response of class `cls` (tests, and Apply).
  RrlVerdict Check(const ClientInfo& client, maps::RateLimitClass cls);

  // The class of a response: its rcode (the extended one from AnswerInfo) and ANCOUNT.
  static maps::RateLimitClass Classify(const uint8_t* resp, size_t len, const AnswerInfo& info);
  // Cuts a response to its header and question with TC=1 (counts zero but QDCOUNT); returns the
  // new length.
  static size_t Truncate(uint8_t* resp, size_t len);

  // This lcore's share of a class's rate (responses per second; 0 = not limited).
  uint64_t share_per_second(maps::RateLimitClass cls) const { return rate_[cls]; }
  uint32_t table_size() const { return size_; }

 private:
  struct Entry {
    uint64_t key;      // the client prefix's bits
    uint64_t stamp;    // ns: last refill
    int64_t tokens;    // nano-responses (1e9 = one response)
    uint32_t tag;      // 0 = empty; else 1 + family bit + class
    uint32_t limited;  // limited responses so far: every slip-th slips
  };
  static_assert(sizeof(Entry) == 32);
  static constexpr uint32_t kWays = 4;

  size_t Limit(const ClientInfo& client, uint8_t* resp, size_t rlen, const AnswerInfo& info,
               maps::LcoreCounters* ctr);
  bool Exempt(const ClientInfo& client) const;
  Entry* Find(uint64_t key, uint32_t tag);

  uint32_t shares_;
  uint64_t seed_;
  uint64_t now_ = 0;
  bool active_ = false;
  uint64_t generation_ = ~uint64_t{0};
  uint64_t rate_[maps::kRrlClassCount] = {};     // per second, this lcore's share
  int64_t capacity_[maps::kRrlClassCount] = {};  // nano-responses
  uint64_t window_ns_ = 1000000000;
  uint8_t slip_ = 2;
  uint8_t v4_prefix_ = 24;
  uint8_t v6_prefix_ = 56;
  uint32_t exempt_count_ = 0;
  maps::RateLimitPrefix exempt_[maps::kMaxRateLimitExempt] = {};
  uint32_t size_ = 0;
  std::unique_ptr<Entry[]> table_;
};

}  // namespace sextant::dataplane
