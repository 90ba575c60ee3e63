#include "dataplane/rrl/rate_limiter.h"

#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "absl/base/optimization.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

using maps::dns::Get16;
using maps::dns::Put16;

constexpr int64_t kOne = 1000000000;  // one response in nano-responses: rate x ns adds up

// The client's prefix as a number: the top `v6_bits` (1..64) of an IPv6 address's first 8
// bytes, or the top `v4_bits` (1..32) of an IPv4 address.
inline uint64_t PrefixBits(const ClientInfo& c, uint8_t v4_bits, uint8_t v6_bits) {
  if (c.family == 6) {
    uint64_t v;
    std::memcpy(&v, c.addr, 8);
    const uint64_t host_bits = v6_bits >= 64 ? 0 : ~uint64_t{0} >> v6_bits;
    return __builtin_bswap64(v) & ~host_bits;
  }
  uint32_t v;
  std::memcpy(&v, c.addr, 4);
  return __builtin_bswap32(v) & (~uint64_t{0} << (32 - v4_bits));
}

// A keyed mix of (key, tag) into a table index: the 128-bit product of the seeded halves,
// folded (wyhash's core). Without the seed a sender cannot tell which set its prefix lands in.
inline uint64_t Mix(uint64_t key, uint64_t tag, uint64_t seed) {
  const unsigned __int128 p = static_cast<unsigned __int128>(key ^ seed) *
                              ((tag ^ 0xe7037ed1a0b428dbULL) + ((seed >> 32) | (seed << 32)));
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// Whether the first `bits` bits of a and b agree.
bool SamePrefix(const uint8_t* a, const uint8_t* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
  return ((a[whole] ^ b[whole]) & mask) == 0;
}

}  // namespace

RateLimiter::RateLimiter(uint32_t shares, uint64_t seed)
    : shares_(std::max<uint32_t>(shares, 1)), seed_(seed) {}

uint64_t RateLimiter::RandomSeed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
    // Without getrandom (never on Linux >= 3.17) the clock still differs per process.
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    seed =
        static_cast<uint64_t>(t.tv_nsec) * 0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(t.tv_sec);
  }
  return seed;
}

uint64_t RateLimiter::NowNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

void RateLimiter::Update(const maps::SnapshotReader& snap) {
  const auto s = snap.section<maps::RateLimitSettings>(maps::kRateLimit);
  Update(s.empty() ? nullptr : &s[0], snap.generation());
}

void RateLimiter::Update(const maps::RateLimitSettings* s, uint64_t generation) {
  if (generation == generation_) return;
  generation_ = generation;
  active_ = s != nullptr;
  if (s == nullptr) return;  // the table stays: limiting may come back with its buckets
  for (uint32_t c = 0; c < maps::kRrlClassCount; ++c) {
    // This lcore's share, rounded up (the RSS rule in the header).
    rate_[c] = (uint64_t{s->per_second[c]} + shares_ - 1) / shares_;
    capacity_[c] = static_cast<int64_t>(rate_[c] * s->window) * kOne;
  }
  window_ns_ = uint64_t{s->window} * 1000000000u;
  slip_ = s->slip;
  exempt_count_ = std::min(s->exempt_count, maps::kMaxRateLimitExempt);
  std::copy(s->exempt, s->exempt + exempt_count_, exempt_);
  if (s->table_size != size_) {
    size_ = s->table_size;
    table_ = std::make_unique<Entry[]>(size_);  // zeroed: every tag 0, empty
  } else if (s->ipv4_prefix != v4_prefix_ || s->ipv6_prefix != v6_prefix_) {
    std::fill(table_.get(), table_.get() + size_, Entry{});  // keys mean other prefixes now
  }
  v4_prefix_ = s->ipv4_prefix;
  v6_prefix_ = s->ipv6_prefix;
}

bool RateLimiter::Exempt(const ClientInfo& client) const {
  for (uint32_t i = 0; i < exempt_count_; ++i) {
    const maps::RateLimitPrefix& p = exempt_[i];
    if (p.family == client.family && SamePrefix(p.addr, client.addr, p.length)) return true;
  }
  return false;
}

RateLimiter::Entry* RateLimiter::Find(uint64_t key, uint32_t tag) {
  const uint64_t h = Mix(key, tag, seed_);
  Entry* set = table_.get() + (h & (size_ - 1) & ~uint64_t{kWays - 1});
  Entry* victim = set;
  for (uint32_t w = 0; w < kWays; ++w) {
    Entry* e = set + w;
    if (e->tag == tag && e->key == key) return e;
    // Empty ways have stamp 0 and tag 0: the oldest of all, taken first.
    if (e->tag == 0 || (victim->tag != 0 && e->stamp < victim->stamp)) victim = e;
  }
  // A new key (or a collision): the way used longest ago, its bucket full as for a new client.
  // tokens -1 marks it for Check to fill.
  *victim = Entry{key, now_, -1, tag, 0};
  return victim;
}

RrlVerdict RateLimiter::Check(const ClientInfo& client, maps::RateLimitClass cls) {
  const uint64_t rate = rate_[cls];
  if (rate == 0 || Exempt(client)) return RrlVerdict::kPass;
  const bool v6 = client.family == 6;
  const uint64_t key = PrefixBits(client, v4_prefix_, v6_prefix_);
  const uint32_t tag = 1u + (v6 ? 8u : 0u) + cls;
  Entry* e = Find(key, tag);
  if (e->tokens < 0) {
    e->tokens = capacity_[cls];
  } else if (now_ > e->stamp) {
    const uint64_t elapsed = std::min(now_ - e->stamp, window_ns_);
    e->tokens = std::min<int64_t>(capacity_[cls], e->tokens + static_cast<int64_t>(elapsed * rate));
  }
  e->stamp = std::max(e->stamp, now_);
  if (e->tokens >= kOne) {
    e->tokens -= kOne;
    return RrlVerdict::kPass;
  }
  ++e->limited;
  return slip_ != 0 && e->limited % slip_ == 0 ? RrlVerdict::kSlip : RrlVerdict::kDrop;
}

maps::RateLimitClass RateLimiter::Classify(const uint8_t* resp, size_t len,
                                           const AnswerInfo& info) {
  if (info.rcode == 3) return maps::kRrlNxdomain;
  if (info.rcode != 0) return maps::kRrlError;
  const bool answers = len >= maps::dns::kHeaderSize && Get16(resp + maps::dns::kOffAncount) != 0;
  return answers ? maps::kRrlAnswer : maps::kRrlNodata;
}

size_t RateLimiter::Truncate(uint8_t* resp, size_t len) {
  if (len < maps::dns::kHeaderSize) return len;
  size_t end = maps::dns::kHeaderSize;
  if (Get16(resp + maps::dns::kOffQdcount) != 0) {
    size_t p = maps::dns::kHeaderSize;
    bool named = false;
    while (p < len) {
      const uint8_t l = resp[p];
      if (l == 0 || (l & 0xC0) != 0) {  // the root, or a pointer (never in our question)
        p += l == 0 ? 1 : 2;
        named = true;
        break;
      }
      p += 1u + l;
    }
    if (named && p + 4 <= len) end = p + 4;  // QTYPE, QCLASS
  }
  Put16(resp + maps::dns::kOffQdcount, end > maps::dns::kHeaderSize ? 1 : 0);
  Put16(resp + maps::dns::kOffAncount, 0);
  Put16(resp + maps::dns::kOffNscount, 0);
  Put16(resp + maps::dns::kOffArcount, 0);
  resp[maps::dns::kOffFlags1] |= maps::dns::kFlag1Tc;
  return end;
}

size_t RateLimiter::Limit(const ClientInfo& client, uint8_t* resp, size_t rlen,
                          const AnswerInfo& info, maps::LcoreCounters* ctr) {
  const RrlVerdict v = Check(client, Classify(resp, rlen, info));
  if (ABSL_PREDICT_TRUE(v == RrlVerdict::kPass)) return rlen;
  if (ctr != nullptr) maps::CounterAdd(ctr->rrl_limited);
  if (v == RrlVerdict::kDrop) return 0;
  if (ctr != nullptr) maps::CounterAdd(ctr->rrl_slipped);
  return Truncate(resp, rlen);
}

}  // namespace sextant::dataplane
