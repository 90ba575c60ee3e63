// The fast writers: one function per writer id of the policy plan (policy_plan.h), each picking
// with its kind's picker (policy_pickers.h) over its health accessor and writing the records
// straight from the resource's rdata run; when its picker declines, a tail call to the general
// evaluator (Responder::PutSelected). One per kind and health accessor, so each holds only its
// own loops and calls nothing that returns to it.
//
// Geo and latency resources are answered by the lookup (geo_lookup.h) and then their site's
// writer, fused into one function when every site has the same one (kWriterGeoSites).
//
// Instantiated twice: Responder<false> for Answer, Responder<true> for Explain, where each writer
// also records what it picked, or why it handed over.
#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "dataplane/engine/geo_lookup.h"
#include "dataplane/engine/policy_pickers.h"
#include "dataplane/engine/policy_plan.h"
#include "dataplane/engine/records.h"
#include "dataplane/engine/responder.h"
#include "dataplane/engine/trace.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

namespace pi = policy_internal;

template <bool kTrace>
using Self = Responder<kTrace>;

template <bool kTrace>
PolicyOutcome HandOver(Self<kTrace>& self, uint16_t owner, const maps::RRset& rs,
                       const uint8_t** picked, TraceStep::Reason reason) {
  if constexpr (kTrace) {
    self.Note({.kind = TraceStep::kHandedOver, .reason = reason, .resource = rs.resource});
  }
  return self.PutSelected(Owner{owner, nullptr}, rs, picked);
}

// Explain only: each member's state as the writer's accessor reads it, and what it picked.
template <bool kTrace, typename H>
void NoteMembers(Self<kTrace>& self, uint32_t resource, const ResourcePlan& r, H h) {
  if constexpr (kTrace) {
    for (uint16_t k = 0; k < r.member_count; ++k) {
      const uint32_t bad = h.Bad(k) & pi::kBadBits;
      const uint8_t state = bad == 0 ? 0 : (bad & maps::kHealthDrained) ? 2 : 1;
      self.Note(
          {.kind = TraceStep::kMemberState, .state = state, .member = k, .resource = resource});
    }
  }
}
template <bool kTrace>
void NotePicked(Self<kTrace>& self, uint32_t resource, uint32_t member) {
  if constexpr (kTrace) {
    self.Note({.kind = TraceStep::kPicked,
               .member = static_cast<uint16_t>(member),
               .resource = resource});
  }
}
template <bool kTrace>
void NotePick(Self<kTrace>& self, uint32_t resource, const ResourcePlan& r, const FastPick& f) {
  if constexpr (kTrace) {
    for (uint16_t i = 0; i < f.n; ++i) {
      NotePicked(self, resource, f.run ? (f.rotate + i) % r.member_count : f.idx[f.first + i]);
    }
  }
}

// The resource index of plan `p` (traces only).
template <bool kTrace>
uint32_t IndexOf(const Self<kTrace>& self, const ResourcePlan& p) {
  return static_cast<uint32_t>(&p - self.view().plans);
}

// The site member of geo or latency resource g for this client's first datacenter, or null when
// g serves none there (the general evaluator then decides). Sets ecs_scope first: if the site
// declines, the general evaluator makes the same lookup and reports at least this scope, so the
// maximum is unchanged. Out of line and calling nothing, so it needs no registers saved; the
// writers that use it keep theirs for the writing.
template <bool kTrace>
ABSL_ATTRIBUTE_NOINLINE const maps::Member* GeoSite(Self<kTrace>& self, const ResourcePlan& g) {
  const SnapshotView& v = self.view();
  const GeoChoice c = GeoLookup(v, g.count, g.order, self.geo_client());
  self.ecs_scope = std::max(self.ecs_scope, c.scope);
  const maps::Member* m = v.members + g.member_first;
  const uint32_t k = GeoMemberOf(m, g.member_count, c.list->dcs[0]);
  if constexpr (kTrace) {
    self.Note({.kind = TraceStep::kGeoSite,
               .scope = c.scope,
               .member = static_cast<uint16_t>(k),
               .resource = IndexOf(self, g),
               .list = c.list_id});
  }
  if (k >= g.member_count) return nullptr;
  self.site = g.member_first + k + 1;
  return &m[k];
}

// The resource a writer answers: r itself, or (kGeo) the site the lookup picks for this client,
// answered with at most r's TTL (*ttl); null when r serves no site there.
template <bool kTrace, bool kGeo>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline const ResourcePlan* Answering(Self<kTrace>& self,
                                                                  const ResourcePlan& r,
                                                                  uint32_t* ttl) {
  if constexpr (!kGeo) return &r;
  const maps::Member* site = GeoSite(self, r);
  if (site == nullptr) return nullptr;
  const ResourcePlan* sub = &self.view().plans[site->ref];
  *ttl = std::min(sub->ttl, r.ttl);
  return sub;
}

template <bool kTrace>
PolicyOutcome WriteGeneral(Self<kTrace>& self, uint16_t owner, const maps::RRset& rs,
                           const ResourcePlan&, uint32_t, const uint8_t** picked) {
  return self.PutSelected(Owner{owner, nullptr}, rs, picked);
}

// A geo resource whose client's first datacenter answers from an all-up run (the usual case):
// the lookup, then the writer of that site's sub-resource, capped at the geo resource's TTL.
// Anything else (a site down, nesting below the site, ttl_when_down on the geo resource) goes to
// the general evaluator.
template <bool kTrace>
PolicyOutcome WriteGeo(Self<kTrace>& self, uint16_t owner, const maps::RRset& rs,
                       const ResourcePlan& r, uint32_t, const uint8_t** picked) {
  const maps::Member* m = GeoSite(self, r);
  if (m == nullptr) return HandOver(self, owner, rs, picked, TraceStep::kReasonNoSite);
  const ResourcePlan& sub = self.view().plans[m->ref];
  // A site that is itself geo would not cap at r's TTL: the general evaluator does that.
  if (m->health != maps::kNone || r.ttl_when_down != maps::kNone || sub.rdata_stride == 0) {
    return HandOver(self, owner, rs, picked, TraceStep::kReasonSiteNotFast);
  }
  return FastWriters<kTrace>::kTable[sub.writer & self.view().writer_mask](
      self, owner, rs, sub, std::min(sub.ttl, r.ttl), picked);
}

// PutPicked's records at p, from the run at `first` (each member `u16 len | rdata`, `stride`
// bytes apart), with `rec` (FixedRecord, or RecordHead for any length). Returns the first
// record's rdata.
template <typename Rec>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline const uint8_t* WritePicked(uint8_t* p, Rec rec,
                                                               const uint8_t* first, size_t stride,
                                                               const FastPick& f) {
  const auto write = [&rec](uint8_t* at, const uint8_t* rd) {
    if constexpr (std::is_same_v<Rec, RecordHead>) {
      return rec.Write(at, rd);
    } else {
      return rec.Write(at, rd + 2);
    }
  };
  if (f.run) {
    // Rotating while writing: members rotate..n-1, then 0..rotate-1.
    const uint8_t* const from = first + f.rotate * stride;
    const uint8_t* const end = first + f.n * stride;
    for (const uint8_t* rd = from; rd != end; rd += stride) p = write(p, rd);
    for (const uint8_t* rd = first; rd != from; rd += stride) p = write(p, rd);
    return from;
  }
  const uint8_t* const idx = f.idx + f.first;
  if (f.n == 1) {  // failover, weighted: no loop
    const uint8_t* const rd = first + idx[0] * stride;
    write(p, rd);
    return rd;
  }
  for (uint16_t i = 0; i < f.n; ++i) p = write(p, first + idx[i] * stride);
  return first + idx[0] * stride;
}

// The records a picker chose, straight from the resource's rdata run (every one the same size,
// so one size check covers them), under a known owner.
template <bool kTrace>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline PolicyOutcome PutPicked(Self<kTrace>& self, uint16_t owner,
                                                            const ResourcePlan& r,
                                                            const FastPick& f,
                                                            const uint8_t** picked) {
  const size_t stride = r.rdata_stride;
  uint8_t* p = self.writer().Reserve(f.n * (10 + stride));
  if (p == nullptr) {
    *picked = nullptr;
    return PolicyOutcome::kAnswer;
  }
  const uint8_t* const first = self.view().rdata + r.rdata_first;
  // Every record of a run has the same length: A and AAAA get loops with that length fixed
  // (FixedRecord), so the loop needs no length test.
  if (stride == 2 + 4) {
    *picked = WritePicked(p, FixedRecord<4>(owner, r.type, f.ttl), first, 2 + 4, f);
  } else if (stride == 2 + 16) {
    *picked = WritePicked(p, FixedRecord<16>(owner, r.type, f.ttl), first, 2 + 16, f);
  } else {  // not made by the compiler (A and AAAA only), but a valid snapshot
    *picked = WritePicked(p, RecordHead(owner, r.type, f.ttl), first, stride, f);
  }
  self.counts[0] += f.n;
  return PolicyOutcome::kAnswer;
}

// A resource with one member (kWriterOneA/Aaaa): that member when it is up, whatever the kind
// (static, failover, weighted, multivalue all answer a lone member that is up, with the
// resource's TTL); else the general evaluator (the all-down rule). kGeo as for WriteFast.
template <bool kTrace, typename H, int kLen, bool kGeo>
PolicyOutcome WriteOne(Self<kTrace>& self, uint16_t owner, const maps::RRset& rs,
                       const ResourcePlan& geo_or_r, uint32_t ttl, const uint8_t** picked) {
  const ResourcePlan* rp = Answering<kTrace, kGeo>(self, geo_or_r, &ttl);
  if (rp == nullptr) return HandOver(self, owner, rs, picked, TraceStep::kReasonNoSite);
  const ResourcePlan& r = *rp;
  const SnapshotView& v = self.view();
  const H h = pi::HealthOf<H>(v.health, v.members + r.member_first, r);
  if constexpr (kTrace) NoteMembers(self, IndexOf(self, r), r, h);
  if ((h.Bad(0) & pi::kBadBits) != 0) {
    return HandOver(self, owner, rs, picked, TraceStep::kReasonMemberDown);
  }
  uint8_t* p = self.writer().Reserve(12 + kLen);
  const uint8_t* const rd = v.rdata + r.rdata_first;
  *picked = p == nullptr ? nullptr : rd;
  if (p != nullptr) {
    FixedRecord<kLen>(owner, kLen == 4 ? dns::kTypeA : dns::kTypeAaaa, ttl).Write(p, rd + 2);
    ++self.counts[0];
  }
  if constexpr (kTrace) NotePicked(self, IndexOf(self, r), 0);
  return PolicyOutcome::kAnswer;
}

// One fast writer: picks (the kind's picker) and writes; when the pick declines, a tail call to
// the general evaluator.
//
// kGeo: r is a geo or latency resource whose every site this writer answers (the plan's
// kWriterGeoSites): the lookup picks the site, which is answered with at most r's TTL, in the
// same function (a separate site writer would save and restore its registers again).
template <bool kTrace, typename H, int kWriter, bool kGeo>
PolicyOutcome WriteFast(Self<kTrace>& self, uint16_t owner, const maps::RRset& rs,
                        const ResourcePlan& geo_or_r, uint32_t ttl, const uint8_t** picked) {
  const ResourcePlan* rp = Answering<kTrace, kGeo>(self, geo_or_r, &ttl);
  if (rp == nullptr) return HandOver(self, owner, rs, picked, TraceStep::kReasonNoSite);
  const ResourcePlan& r = *rp;
  const SnapshotView& v = self.view();
  const maps::Member* m = v.members + r.member_first;
  const H h = pi::HealthOf<H>(v.health, m, r);
  if constexpr (kTrace) NoteMembers(self, IndexOf(self, r), r, h);
  FastPick f;
  bool ok;
  if constexpr (kWriter == kWriterFailover) {
    ok = pi::PickFailover(h, r, &f);
  } else if constexpr (kWriter == kWriterWeighted) {
    ok = pi::PickWeighted(h, v.alias + r.member_first, r, &f);
  } else if constexpr (kWriter == kWriterShuffled) {
    f.run = false;
    ok = pi::PickShuffled(h, r, &f);
  } else {
    ok = pi::PickStaticRun(h, r, &f);
  }
  if (!ok) return HandOver(self, owner, rs, picked, TraceStep::kReasonMemberDown);
  f.ttl = ttl;
  if constexpr (kTrace) NotePick(self, IndexOf(self, r), r, f);
  return PutPicked(self, owner, r, f, picked);
}

#if defined(__SSE4_1__)
// kTimes<kFactor>.v[i] = kFactor * i for i < 16 (as one byte): a byte shuffle by member indices
// gives their scaled offsets.
template <uint32_t kFactor>
struct TimesTable {
  alignas(16) uint8_t v[16];
  constexpr TimesTable() : v() {
    for (uint32_t i = 0; i < 16; ++i) v[i] = static_cast<uint8_t>(kFactor * i);
  }
};
template <uint32_t kFactor>
inline constexpr TimesTable<kFactor> kTimes;
static_assert(9 * 15 < 256);

// `count` (1..8) records at p, for the members whose half-offsets are the low `count` bytes of
// `halves`, lowest first. Returns the end.
template <int kLen>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint8_t* WriteDrawn(uint8_t* p, FixedRecord<kLen>& rec,
                                                        const uint8_t* rd, uint64_t halves,
                                                        uint32_t count) {
  for (uint32_t i = 0; i < count; ++i, halves >>= 8) p = rec.Write(p, rd + 2 * (halves & 0xFF));
  return p;
}

// Explain only: the members a vector sample drew (bytes 16 - keep .. 15 of x).
template <bool kTrace>
void NoteSample(Self<kTrace>& self, uint32_t resource, __m128i x, uint32_t keep) {
  if constexpr (kTrace) {
    alignas(16) uint8_t idx[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(idx), x);
    for (uint32_t i = 16 - keep; i < 16; ++i) NotePicked(self, resource, idx[i]);
  }
}

// Multivalue over a run of n <= 16 members, all A (kLen 4) or all AAAA (16), without
// ttl_when_down (kWriterSampleA/Aaaa): the sample is drawn in a vector register
// (SampleSmallInline) and written straight from it, when every member drawn is up; else the
// general evaluator draws again among the up members (so the answer is still a uniform sample
// of them: see PickShuffled). kGeo as for WriteFast.
template <bool kTrace, typename H, int kLen, bool kGeo>
PolicyOutcome WriteSample(Self<kTrace>& self, uint16_t owner, const maps::RRset& rs,
                          const ResourcePlan& geo_or_r, uint32_t ttl, const uint8_t** picked) {
  const ResourcePlan* rp = Answering<kTrace, kGeo>(self, geo_or_r, &ttl);
  if (rp == nullptr) return HandOver(self, owner, rs, picked, TraceStep::kReasonNoSite);
  const ResourcePlan& r = *rp;
  const SnapshotView& v = self.view();
  const uint32_t n = r.member_count;
  const uint32_t keep = std::min<uint32_t>(r.count, n);
  const __m128i x = pi::SampleSmallInline(n, keep);
  const H h = pi::HealthOf<H>(v.health, v.members + r.member_first, r);
  if constexpr (kTrace) NoteMembers(self, IndexOf(self, r), r, h);
  // Usually every member is up, which is cheaper to see than which of them were drawn.
  if (!pi::AllUpSmall(h, n)) {
    alignas(16) uint8_t idx[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(idx), x);
    if (!pi::DrawnUp(h, n, keep, x, idx + 16 - keep)) {
      return HandOver(self, owner, rs, picked, TraceStep::kReasonMemberDown);
    }
  }
  constexpr size_t kRecord = 12 + kLen;
  uint8_t* p = self.writer().Reserve(keep * kRecord);
  if (p == nullptr) {
    *picked = nullptr;
    return PolicyOutcome::kAnswer;
  }
  if constexpr (kTrace) NoteSample(self, IndexOf(self, r), x, keep);
  const uint8_t* const rd = v.rdata + r.rdata_first + 2;  // member 0's address
  // Member k's address is at rd + 2 * kHalf * k (the run's stride is 2 + kLen = 2 * kHalf): one
  // byte shuffle turns the whole sample into those kHalf * k (a byte each: at most 135).
  constexpr uint32_t kHalf = (2 + kLen) / 2;
  const __m128i half =
      _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(kTimes<kHalf>.v)), x);
  // A record written (only CNAME resources, never answered here, need the first).
  *picked = rd - 2 + 2 * static_cast<uint32_t>(_mm_extract_epi8(half, 15));
  // The members drawn are bytes 16 - keep .. 15. Any fixed order of a uniform ordered sample is
  // one too, so they are written from the lowest of those bytes up.
  FixedRecord<kLen> rec(owner, kLen == 4 ? dns::kTypeA : dns::kTypeAaaa, ttl);
  uint32_t left = keep;
  if (keep > 8) {
    const uint64_t low = static_cast<uint64_t>(_mm_cvtsi128_si64(half));
    p = WriteDrawn(p, rec, rd, low >> (8 * (16 - keep)), keep - 8);
    left = 8;
  }
  const uint64_t high = static_cast<uint64_t>(_mm_extract_epi64(half, 1));
  WriteDrawn(p, rec, rd, high >> (8 * (8 - left)), left);
  self.counts[0] += static_cast<uint16_t>(keep);
  return PolicyOutcome::kAnswer;
}
#endif

// The writer function for `writer` over health accessor H; kGeo: fused with the geo lookup.
template <bool kTrace, typename H, bool kGeo>
constexpr FastWriterFn<kTrace> WriterFor(int writer) {
  switch (writer) {
    case kWriterFailover:
      return &WriteFast<kTrace, H, kWriterFailover, kGeo>;
    case kWriterWeighted:
      return &WriteFast<kTrace, H, kWriterWeighted, kGeo>;
    case kWriterShuffled:
      return &WriteFast<kTrace, H, kWriterShuffled, kGeo>;
    case kWriterOneA:
      return &WriteOne<kTrace, H, 4, kGeo>;
    case kWriterOneAaaa:
      return &WriteOne<kTrace, H, 16, kGeo>;
#if defined(__SSE4_1__)
    case kWriterSampleA:
      return &WriteSample<kTrace, H, 4, kGeo>;
    case kWriterSampleAaaa:
      return &WriteSample<kTrace, H, 16, kGeo>;
#else
    case kWriterSampleA:
    case kWriterSampleAaaa:
      return &WriteFast<kTrace, H, kWriterShuffled, kGeo>;
#endif
    default:
      return &WriteFast<kTrace, H, kWriterRun, kGeo>;
  }
}

// The writers by writer id; ids no resource has go to the general evaluator too.
template <bool kTrace>
constexpr std::array<FastWriterFn<kTrace>, kWriterIdCount> MakeTable() {
  std::array<FastWriterFn<kTrace>, kWriterIdCount> t{};
  for (FastWriterFn<kTrace>& f : t) f = &WriteGeneral<kTrace>;
  for (const int w : {kWriterRun, kWriterFailover, kWriterWeighted, kWriterShuffled, kWriterSampleA,
                      kWriterSampleAaaa, kWriterOneA, kWriterOneAaaa}) {
    t[WriterId(w, kFastNoHealth)] = WriterFor<kTrace, pi::NoHealth, false>(w);
    t[WriterId(w, kFastHealthRun)] = WriterFor<kTrace, pi::RunHealth, false>(w);
    t[WriterId(w, kFastHealthIndexed)] = WriterFor<kTrace, pi::IndexedHealth, false>(w);
    const int g = kWriterGeoSites + w;
    t[WriterId(g, kFastNoHealth)] = WriterFor<kTrace, pi::NoHealth, true>(w);
    t[WriterId(g, kFastHealthRun)] = WriterFor<kTrace, pi::RunHealth, true>(w);
    t[WriterId(g, kFastHealthIndexed)] = WriterFor<kTrace, pi::IndexedHealth, true>(w);
  }
  t[WriterId(kWriterGeo, 0)] = &WriteGeo<kTrace>;
  return t;
}

}  // namespace

template <>
const std::array<FastWriterFn<false>, kWriterIdCount> FastWriters<false>::kTable =
    MakeTable<false>();
template <>
const std::array<FastWriterFn<true>, kWriterIdCount> FastWriters<true>::kTable = MakeTable<true>();

}  // namespace sextant::dataplane
