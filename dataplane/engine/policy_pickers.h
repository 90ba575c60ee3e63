// The per-kind pickers the fast writers (fast_writers.h) answer with: failover, weighted (one
// member, by Walker's alias table), static runs (rotated) and uniform samples (multivalue,
// static random), each over one health accessor type so that the per-member code has no mode
// test in it. A picker looks only at what the answer depends on and declines (returns false)
// when the answer needs more: then the general evaluator (policy_evaluator.h) decides, from a
// fresh start, so the answers keep the policy's exact distribution (see PickShuffled).
//
// Randomness and rotation are per thread (one lcore = one thread): a rotation counter and an
// xorshift generator, never a shared atomic (Knot's knot_pkt_put_rotate does the same). The
// general evaluator draws from the same per-thread state.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/engine/policy_plan.h"
#include "maps/control_block.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {

inline constexpr int kMaxSelected = 64;

// What a picker chose: members of one resource, by index, in answer order.
struct FastPick {
  uint32_t ttl;
  uint16_t n;       // records
  uint16_t rotate;  // run: the first member written; members rotate..count-1, then 0..rotate-1
  bool run;         // every member, from `rotate` (static cyclic / fixed); else idx[first, +n)
  uint8_t first;
  alignas(16) uint8_t idx[kMaxSelected];
};

namespace policy_internal {

struct ThreadState {
  uint64_t rng;
  uint32_t rotation;
};
// constinit: a plain TLS access from every translation unit, without the lazy-init wrapper
// call a dynamic thread_local would need.
extern constinit thread_local ThreadState t_state;

inline uint64_t NextRandom() {
  uint64_t x = t_state.rng;
  if (ABSL_PREDICT_FALSE(x == 0)) {  // lazily seeded from its own address: distinct per lcore
    x = reinterpret_cast<uintptr_t>(&t_state) * 0x9E3779B97F4A7C15ULL | 1;
  }
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t_state.rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

// Uniform in [0, n) without modulo bias worth caring about for n <= 2^16 (Lemire's reduction).
inline uint32_t Below(uint32_t n) {
  return static_cast<uint32_t>(
      (static_cast<uint64_t>(static_cast<uint32_t>(NextRandom() >> 32)) * n) >> 32);
}

// Member health for the fast path, one type per ResourceFlags case so that the per-member code
// has no mode test in it. Bad(k) is nonzero in kBadBits when member k is not up (down or
// drained); OR-ing it over many members tests them all with one branch.
inline constexpr uint32_t kBadBits = maps::kHealthUp | maps::kHealthDrained;

struct RunHealth {  // kResourceHealthRun: member k's word is run[k]
  const std::atomic<uint32_t>* run;
  uint32_t Bad(uint32_t k) const {
    return run[k].load(std::memory_order_relaxed) ^ maps::kHealthUp;
  }
};
struct IndexedHealth {  // some members have a word (Member.health), some do not
  const std::atomic<uint32_t>* words;
  const maps::Member* m;  // the resource's first member
  uint32_t Bad(uint32_t k) const {
    const uint32_t h = m[k].health;
    return h == maps::kNone ? 0 : words[h].load(std::memory_order_relaxed) ^ maps::kHealthUp;
  }
};
struct NoHealth {  // kResourceNoHealth, or no health words at all
  uint32_t Bad(uint32_t) const { return 0; }
};

template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool AllUp(H h, uint32_t n) {
  uint32_t bad = 0;
  uint32_t k = 0;
  // Four at a time: the loop's own compare-and-branch would otherwise cost as much as the load
  // and the OR it guards.
  for (; k + 4 <= n; k += 4) bad |= h.Bad(k) | h.Bad(k + 1) | h.Bad(k + 2) | h.Bad(k + 3);
  for (; k < n; ++k) bad |= h.Bad(k);
  return (bad & kBadBits) == 0;
}

// The first member up, or n.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t FirstUp(H h, uint32_t n) {
  uint32_t k = 0;
  for (; k + 4 <= n; k += 4) {  // unrolled as in AllUp
    if ((h.Bad(k) & kBadBits) == 0) return k;
    if ((h.Bad(k + 1) & kBadBits) == 0) return k + 1;
    if ((h.Bad(k + 2) & kBadBits) == 0) return k + 2;
    if ((h.Bad(k + 3) & kBadBits) == 0) return k + 3;
  }
  for (; k < n; ++k) {
    if ((h.Bad(k) & kBadBits) == 0) return k;
  }
  return n;
}

#if defined(__SSE2__)
// RunHealth's words are contiguous, so four are tested with one 16-byte load. Each word of the
// load is 4-byte aligned, and x86 reads an aligned 4-byte word in one piece even when the
// 16-byte load is split, so each word is read as its relaxed atomic load would read it; the four
// need not be from one instant, no more than four scalar loads are. Runs shorter than four, and
// the scalar fallback on other targets, use the templates above.
inline __m128i LoadFour(const std::atomic<uint32_t>* p) {
  static_assert(sizeof(std::atomic<uint32_t>) == 4);
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool AllUp(RunHealth h, uint32_t n) {
  if (n < 4) return AllUp<RunHealth>(h, n);
  // OR of (word ^ up) over the run, then one test of the bad bits. The last load overlaps the
  // one before when n is not a multiple of four (ORing a word twice changes nothing).
  const __m128i up = _mm_set1_epi32(static_cast<int>(maps::kHealthUp));
  __m128i acc = _mm_xor_si128(LoadFour(h.run + n - 4), up);
  for (uint32_t k = 0; k + 4 < n; k += 4) {
    acc = _mm_or_si128(acc, _mm_xor_si128(LoadFour(h.run + k), up));
  }
  acc = _mm_and_si128(acc, _mm_set1_epi32(static_cast<int>(kBadBits)));
  return _mm_movemask_epi8(_mm_cmpeq_epi32(acc, _mm_setzero_si128())) == 0xFFFF;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t FirstUp(RunHealth h, uint32_t n) {
  if (n < 4) return FirstUp<RunHealth>(h, n);
  const __m128i up = _mm_set1_epi32(static_cast<int>(maps::kHealthUp));
  const __m128i bad = _mm_set1_epi32(static_cast<int>(kBadBits));
  for (uint32_t k = 0;; k += 4) {
    // The last four may overlap words already found not up: the first up among them is still
    // the first up of the run.
    if (k + 4 > n) k = n - 4;
    const __m128i is_up = _mm_cmpeq_epi32(_mm_and_si128(LoadFour(h.run + k), bad), up);
    const int mask = _mm_movemask_ps(_mm_castsi128_ps(is_up));
    if (mask != 0) return k + static_cast<uint32_t>(std::countr_zero(static_cast<unsigned>(mask)));
    if (k + 4 >= n) return n;
  }
}
#endif

// AllUp for a run of at most 16 members: for RunHealth with four or more, four loads at fixed
// places (overlapping when n < 16) instead of a loop.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool AllUpSmall(H h, uint32_t n) {
  return AllUp(h, n);
}
#if defined(__SSE2__)
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool AllUpSmall(RunHealth h, uint32_t n) {
  if (n < 4) return AllUp<RunHealth>(h, n);
  const __m128i up = _mm_set1_epi32(static_cast<int>(maps::kHealthUp));
  const uint32_t last = n - 4;
  const auto bad = [&](uint32_t k) { return _mm_xor_si128(LoadFour(h.run + k), up); };
  const __m128i acc = _mm_or_si128(_mm_or_si128(bad(0), bad(std::min(4u, last))),
                                   _mm_or_si128(bad(std::min(8u, last)), bad(last)));
  const __m128i masked = _mm_and_si128(acc, _mm_set1_epi32(static_cast<int>(kBadBits)));
  return _mm_movemask_epi8(_mm_cmpeq_epi32(masked, _mm_setzero_si128())) == 0xFFFF;
}
#endif

// How many draws of at most n share one 64-bit random word (Sample): 32 / bit_width(n - 1), from a
// table rather than a division per query.
inline constexpr struct DrawsPerWord {
  uint8_t v[8];  // by bit_width(n - 1), n <= 64
  constexpr DrawsPerWord() : v() {
    for (int b = 0; b < 8; ++b) v[b] = static_cast<uint8_t>(32 / (b == 0 ? 1 : b));
  }
} kDrawsPerWord;

// 0, 1, 2, ...: the starting order of a shuffle.
inline constexpr struct Identity {
  alignas(16) uint8_t v[kMaxSelected];
  constexpr Identity() : v() {
    for (int i = 0; i < kMaxSelected; ++i) v[i] = static_cast<uint8_t>(i);
  }
} kIdentity;

// One ranged draw from the batched word (see Sample): the high half of word * range, keeping
// the low half in *word for the next.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t Draw(uint64_t* word, uint64_t range) {
#if defined(__x86_64__)
  // One MUL, stated to the compiler as such: with the __int128 product GCC 12 sends both
  // halves through the stack on every draw.
  uint64_t hi;
  asm("mulq %2" : "+a"(*word), "=d"(hi) : "r"(range) : "cc");
  return static_cast<uint32_t>(hi);
#else
  const unsigned __int128 p = static_cast<unsigned __int128>(*word) * range;
  *word = static_cast<uint64_t>(p);
  return static_cast<uint32_t>(p >> 64);
#endif
}

// The first `keep` (>= 1) steps of a Fisher-Yates shuffle of members 0..n-1 into idx: a
// uniformly chosen ordered sample of `keep` members. Returns the OR of their Bad().
//
// Several draws come from one 64-bit random word: each multiplies the word by its range, keeps
// the high half as the draw and the low half for the next one (Lemire et al., "Batched Ranged
// Random Integer Generation", 2024: the draws are the mixed-radix digits of
// floor(word * product of the ranges / 2^64)). A new word is taken before the product could
// exceed 2^32, so no outcome's probability is off by more than 2^-32 of itself, far below what
// a test or a client could see; for up to 16 members, 8 draws share a word.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t Sample(H h, uint32_t n, uint32_t keep, uint8_t* idx) {
  std::memcpy(idx, kIdentity.v, 16);
  if (n > 16) std::memcpy(idx + 16, kIdentity.v + 16, kMaxSelected - 16);
  const uint32_t per_word = kDrawsPerWord.v[std::bit_width(n - 1)];
  uint32_t bad = 0;
  for (uint32_t i = 0; i < keep;) {
    uint64_t word = NextRandom();
    for (const uint32_t stop = std::min(keep, i + per_word); i < stop; ++i) {
      const uint32_t j = i + Draw(&word, n - i);
      const uint8_t t = idx[j];
      idx[j] = idx[i];
      idx[i] = t;
      bad |= h.Bad(t);
    }
  }
  return bad;
}

#if defined(__SSSE3__)
// Byte shuffles for SampleSmall: kToTop.c[j] moves byte j of a vector to byte 15 and bytes
// j+1..15 down by one.
inline constexpr struct ToTop {
  alignas(16) uint8_t c[16][16];
  constexpr ToTop() : c() {
    for (int j = 0; j < 16; ++j) {
      for (int b = 0; b < 15; ++b) c[j][b] = static_cast<uint8_t>(b < j ? b : b + 1);
      c[j][15] = static_cast<uint8_t>(j);
    }
  }
} kToTop;

// Two draws with one multiply: for m members left, a draw d in [0, m(m-1)) stands for j1 =
// d / (m-1) then j2 = d % (m-1) (a bijection, so both are uniform), and the shuffle d * 16
// bytes past kPairs.of[m].at in kPairs.c is kToTop.c[j1] followed by kToTop.c[j2]. 1,360 shuffles
// for m = 2..16 (21.25 KiB); a query touches one 64-byte line per pair.
inline constexpr struct Pairs {
  static constexpr int kCount = 1360;  // the sum of m(m-1) for m = 2..16
  struct Range {
    uint32_t range = 0;  // m(m-1)
    uint32_t at = 0;     // byte offset in c of m's first shuffle
  };
  Range of[17];
  alignas(64) uint8_t c[kCount][16];
  constexpr Pairs() : of(), c() {
    uint32_t base = 0;
    for (int m = 2; m <= 16; ++m) {
      of[m] = Range{static_cast<uint32_t>(m * (m - 1)), base * 16};
      for (int d = 0; d < m * (m - 1); ++d) {
        const int j1 = d / (m - 1), j2 = d % (m - 1);
        for (int b = 0; b < 16; ++b) c[base + d][b] = kToTop.c[j1][kToTop.c[j2][b]];
      }
      base += static_cast<uint32_t>(m * (m - 1));
    }
  }
} kPairs;
static_assert(sizeof(kPairs.c) == 1360 * 16);

// Sample for n <= 16 members, in one vector register: the members not yet drawn are bytes
// [0, m) in order; a draw j in [0, m) moves byte j to the top (one pshufb), which shifts the
// earlier draws down by one. After `keep` draws, bytes 16 - keep .. 15 hold them, in the order
// drawn. The same uniform ordered sample as Sample, with the same batched draws (eight share a
// word: the product of eight ranges of at most 16 stays within 2^32), two of them to one
// multiply and one shuffle (kPairs), about five instructions a draw where Sample's swap through
// memory takes about twenty. Health is the caller's to check.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline __m128i SampleSmallInline(uint32_t n, uint32_t keep) {
  __m128i x = _mm_load_si128(reinterpret_cast<const __m128i*>(kIdentity.v));
  const uint8_t* const pairs = &kPairs.c[0][0];
  const uint32_t stop = n - keep;
  uint32_t m = n;
  do {
    uint64_t word = NextRandom();
    const uint32_t word_stop = m - std::min(m - stop, 8u);
    for (; m >= word_stop + 2; m -= 2) {  // two draws, one multiply, one shuffle
      const Pairs::Range r = kPairs.of[m];
      const uint64_t at = uint64_t{Draw(&word, r.range)} * 16 + r.at;
      x = _mm_shuffle_epi8(x, _mm_load_si128(reinterpret_cast<const __m128i*>(pairs + at)));
    }
    if (m > word_stop) {
      const uint32_t j = Draw(&word, m--);
      x = _mm_shuffle_epi8(x, _mm_load_si128(reinterpret_cast<const __m128i*>(kToTop.c[j])));
    }
  } while (m > stop);
  return x;
}

// SampleSmallInline out of line, for callers whose registers hold other state: inside
// PickShuffled its loop spilled the random word to the stack on every draw.
ABSL_ATTRIBUTE_NOINLINE inline __m128i SampleSmall(uint32_t n, uint32_t keep) {
  return SampleSmallInline(n, keep);
}

// Whether every member SampleSmall drew (bytes 16 - keep .. 15 of x, also at drawn[0, keep)) is
// up.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DrawnUp(H h, uint32_t n, uint32_t keep, __m128i x,
                                                 const uint8_t* drawn) {
  uint32_t bad = 0;
  for (uint32_t i = 0; i < keep; ++i) bad |= h.Bad(drawn[i]);
  return (bad & kBadBits) == 0;
}
// A run of 4, 8, 12 or 16 words: every member's state in vectors, packed to one byte each
// (0xFF: up), then one byte shuffle by the sample itself gives the state of each member drawn.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DrawnUp(RunHealth h, uint32_t n, uint32_t keep, __m128i x,
                                                 const uint8_t* drawn) {
  if (n % 4 != 0) return DrawnUp<RunHealth>(h, n, keep, x, drawn);
  const __m128i up = _mm_set1_epi32(static_cast<int>(maps::kHealthUp));
  const __m128i bad = _mm_set1_epi32(static_cast<int>(kBadBits));
  const auto four = [&](uint32_t k) {
    return k < n ? _mm_cmpeq_epi32(_mm_and_si128(LoadFour(h.run + k), bad), up)
                 : _mm_setzero_si128();
  };
  const __m128i state =
      _mm_packs_epi16(_mm_packs_epi32(four(0), four(4)), _mm_packs_epi32(four(8), four(12)));
  const uint32_t drawn_up = static_cast<uint32_t>(_mm_movemask_epi8(_mm_shuffle_epi8(state, x)));
  const uint32_t want = (0xFFFFu << (16 - keep)) & 0xFFFFu;
  return (drawn_up & want) == want;
}
#endif

// Multivalue and static random order.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool PickShuffled(H h, const ResourcePlan& r, FastPick* out) {
  const uint32_t n = r.member_count;
  // Multivalue: `count` members; static random: every member, shuffled.
  const bool multivalue = r.kind == maps::kPolicyMultivalue;
  const uint32_t keep = multivalue ? std::min<uint32_t>(r.count, n) : n;
  // Only multivalue without ttl_when_down can answer from the members it drew being up; the
  // others' answers or TTL depend on every member.
  const bool drawn_only = multivalue && r.ttl_when_down == maps::kNone;
  if (!drawn_only && !AllUp(h, n)) return false;
  out->n = static_cast<uint16_t>(keep);
#if defined(__SSSE3__)
  if (n <= 16) {
    const __m128i x = SampleSmall(n, keep);
    _mm_store_si128(reinterpret_cast<__m128i*>(out->idx), x);
    out->first = static_cast<uint8_t>(16 - keep);
    return !drawn_only || DrawnUp(h, n, keep, x, out->idx + out->first);
  }
#endif
  out->first = 0;
  if (drawn_only) return (Sample(h, n, keep, out->idx) & kBadBits) == 0;
  if (n > 1) {
    Sample(NoHealth{}, n, n - 1, out->idx);
  } else {
    out->idx[0] = 0;
  }
  return true;
}

// One picker per kind, so that a caller that knows the kind (the engine's per-kind writers)
// gets only that kind's code. Each sets out->ttl, out->n, out->run (and idx or rotate).
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool PickFailover(H h, const ResourcePlan& r, FastPick* out) {
  const uint32_t n = r.member_count;
  // With ttl_when_down the TTL says whether any member is down: then only "all up" is quick.
  const uint32_t k = r.ttl_when_down != maps::kNone ? (AllUp(h, n) ? 0 : n) : FirstUp(h, n);
  if (k == n) return false;
  out->ttl = r.ttl;
  out->run = false;
  out->first = 0;
  out->idx[0] = static_cast<uint8_t>(k);
  out->n = 1;
  return true;
}

template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool PickWeighted(H h, const AliasSlot* alias,
                                                      const ResourcePlan& r, FastPick* out) {
  const uint32_t n = r.member_count;
  const bool need_all = r.ttl_when_down != maps::kNone;
  if (r.count != 1 || (need_all && !AllUp(h, n))) return false;
  // Walker's alias method (policy_plan.h AliasSlot): the high half of word * n is the slot, the
  // low half a fresh uniform word (as in Sample) whose top 32 bits decide slot or alias. A
  // weight-0 member owns no share of any slot, so it is never drawn.
  uint64_t word = NextRandom();
  const uint32_t slot = Draw(&word, n);
  const uint32_t u = static_cast<uint32_t>(word >> 32);
  const uint32_t lo = u < alias[slot].keep ? slot : alias[slot].alias;
  if (!need_all && (h.Bad(lo) & kBadBits) != 0) return false;
  out->ttl = r.ttl;
  out->run = false;
  out->first = 0;
  out->idx[0] = static_cast<uint8_t>(lo);
  out->n = 1;
  return true;
}

// Static with cyclic or fixed order (not random: PickShuffled): every member, when all are up.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool PickStaticRun(H h, const ResourcePlan& r, FastPick* out) {
  const uint32_t n = r.member_count;
  if (!AllUp(h, n)) return false;
  out->ttl = r.ttl;
  out->n = static_cast<uint16_t>(n);
  out->run = true;
  // One member (a geo site often has one address) needs no rotation.
  out->rotate =
      n > 1 && r.order == maps::kOrderCyclic ? static_cast<uint16_t>(t_state.rotation++ % n) : 0;
  return true;
}

// The health accessor of resource r (whose first member is m) for H.
template <typename H>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline H HealthOf(const std::atomic<uint32_t>* health,
                                               const maps::Member* m, const ResourcePlan& r) {
  if constexpr (std::is_same_v<H, RunHealth>) {
    return RunHealth{health + r.health_first};
  } else if constexpr (std::is_same_v<H, IndexedHealth>) {
    return IndexedHealth{health, m};
  } else {
    return NoHealth{};
  }
}

}  // namespace policy_internal

// Seeds this thread's generator and rotation (tests; the default seed is per thread).
void SeedPolicyRandom(uint64_t seed);

}  // namespace sextant::dataplane
