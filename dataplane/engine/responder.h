// Resolution of one IN-class question against the snapshot (RFC 1034 section 4.3.2 with RFC
// 2308 negative answers, RFC 4592 wildcards, RFC 6604 rcodes after CNAMEs, RFC 8482 minimal
// ANY, RFC 4035 DS at a cut): walks names, wildcards, cuts and CNAME chains, and writes the
// answer, authority and additional sections through the MessageWriter. RRsets that a resource
// (a record-set policy) answers go to the fast writer the policy plan chose for it
// (fast_writers.h), which answers or hands over to the general evaluator (policy_evaluator.h).
//
// Responder<true> is the same code with every step recorded in an AnswerTrace (Engine::Explain);
// in Responder<false> the recording compiles to nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/engine/bytes.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/geo_lookup.h"
#include "dataplane/engine/message_writer.h"
#include "dataplane/engine/policy_evaluator.h"
#include "dataplane/engine/query.h"
#include "dataplane/engine/records.h"
#include "dataplane/engine/section_image.h"
#include "dataplane/engine/trace.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {

inline constexpr int kMaxCnameChain = 16;

// Resolve's hint that the question's own name was not looked up yet (any other value is what
// the lookup found: a node or kNone).
inline constexpr uint32_t kNotLookedUp = maps::kNone - 1;

// The node named `name` (lowered, `len` bytes), or kNone. Inlined into its callers: on an exact
// hit the call itself costs more than the rest of the lookup but the hash.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t LookupNode(const SnapshotView& v, const uint8_t* name,
                                                        size_t len) {
  return maps::NameTableFind(
      v.buckets, v.bucket_mask, v.names, name, len,
      [](const uint8_t* a, const uint8_t* b, size_t n) { return BytesEqual(a, b, n); });
}
// LookupNode with the name's hash already made (h = maps::NameHash(name, len)).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t LookupNodeHashed(const SnapshotView& v,
                                                              const uint8_t* name, size_t len,
                                                              uint64_t h) {
  return maps::NameTableFindHashed(
      v.buckets, v.bucket_mask, v.names, name, len, h,
      [](const uint8_t* a, const uint8_t* b, size_t n) { return BytesEqual(a, b, n); });
}

// What the caller learnt of the question's name before Resolve: its node (kNone: it does not
// exist) and, when it does not, its closest encloser (kNone: in no zone). kNotLookedUp: not
// looked for.
struct QuestionLookup {
  uint32_t node = kNotLookedUp;
  uint32_t encloser = kNotLookedUp;
};

// The deepest existing ancestor of `name` (a name without a node), or kNone: suffix i starts at
// label i, the root label after the last one.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t AncestorNode(const SnapshotView& v,
                                                          const LName& name) {
  uint32_t n = maps::kNone;
  for (int i = 1; n == maps::kNone && i <= name.labels; ++i) {
    const size_t off = i < name.labels ? name.off[i] : name.len - 1;
    n = LookupNode(v, name.data + off, name.len - off);
  }
  return n;
}

// Whether the precompiled section `img` (section_image.h) is what the slow path writes after
// the question `q`: false when a name of the image would compress further against q (the label
// of q just above the image's anchor is one of the image's `above` labels).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ImageSuitsQuestion(const SnapshotView& v, const LName& q,
                                                            const SectionImage& img) {
  if (q.labels <= img.anchor_labels) return true;
  const uint8_t* label = q.data + q.off[q.labels - img.anchor_labels - 1];
  if (ABSL_PREDICT_TRUE((img.above_filter & AboveFilterBit(label)) == 0)) return true;
  const uint8_t* a = v.image_bytes + img.bytes + img.len;
  for (const uint8_t* end = a + img.above_len; a < end; a += 1 + *a) {
    if (*a == *label && BytesEqual(a + 1, label + 1, *a)) return false;
  }
  return true;
}

// Adds d to the big-endian 16-bit word at p (a compression pointer of an image).
inline void MovePointer(uint8_t* p, uint16_t d) {
  dns::Put16(p, static_cast<uint16_t>(dns::Get16(p) + d));
}

// Copies `img` to p, offset `at` of a message whose question is `q`, and moves its pointers:
// those into the question by how much longer q is than the anchor, those into the image by
// where it landed (section_image.h). at + img.len <= kMaxPointerTarget.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CopySectionImage(const SnapshotView& v, const LName& q,
                                                          const SectionImage& img, uint8_t* p,
                                                          size_t at) {
  CopyBytes(p, v.image_bytes + img.bytes, img.len);
  const uint16_t* r = v.image_relocs + img.reloc_first;
  const uint16_t* const question_end = r + img.reloc_question;
  const uint16_t* const end = r + img.reloc_count;
  const auto into_question = static_cast<uint16_t>(q.len - img.anchor_len);
  for (; r < question_end; ++r) MovePointer(p + *r, into_question);
  const auto into_image = static_cast<uint16_t>(at - (dns::kHeaderSize + 4 + img.anchor_len));
  for (; r < end; ++r) MovePointer(p + *r, into_image);
}

// How the resolution of a question ended. The caller turns it into the rcode and flags.
enum class ResolveState : uint8_t {
  kAnswer,    // NOERROR with data (or a CNAME chain that left the zone)
  kNoData,    // NOERROR, no data of the type: the zone's SOA in the authority section
  kNxDomain,  // no such name: the SOA in the authority section
  kReferral,  // below a zone cut: its NS in the authority section, glue in the additional
  kNotAuth,   // the question is in no zone served here: REFUSED (with EDE 20)
  kServFail,  // a resource's all-down rule said SERVFAIL: nothing of the chain is kept
};

// How the resolution of a question ended: its state and what the header says about it, in one
// byte (it passes through several inlined calls on every query; a byte costs nothing to make).
class Resolution {
 public:
  // kAnswer, authoritative, fits, no TC: the common case is 0.
  constexpr Resolution() = default;
  constexpr explicit Resolution(ResolveState s, bool fits = true)
      : bits_(static_cast<uint8_t>(static_cast<uint8_t>(s) | (fits ? 0 : kDoesNotFit) |
                                   (s == ResolveState::kNotAuth || s == ResolveState::kServFail
                                        ? kNotAuthoritative
                                        : 0))) {}
  static constexpr Resolution DoesNotFit() { return Resolution(ResolveState::kAnswer, false); }
  // A referral: AA only when data of ours (a CNAME chain) is already in the answer.
  static constexpr Resolution Referral(bool after_cname, bool fits, bool glue_left_out) {
    Resolution r(ResolveState::kReferral, fits);
    r.bits_ |= (after_cname ? 0 : kNotAuthoritative) | (glue_left_out ? kTc : 0);
    return r;
  }

  ResolveState state() const { return static_cast<ResolveState>(bits_ & kStateMask); }
  bool authoritative() const { return (bits_ & kNotAuthoritative) == 0; }
  // false: the sections did not fit; they go out empty, with TC.
  bool fits() const { return (bits_ & kDoesNotFit) == 0; }
  // TC: the sections did not fit, or a referral lost glue (the sections are kept).
  bool tc() const { return (bits_ & (kDoesNotFit | kTc)) != 0; }

 private:
  static constexpr uint8_t kStateMask = 7;
  static constexpr uint8_t kNotAuthoritative = 8;
  static constexpr uint8_t kDoesNotFit = 16;
  static constexpr uint8_t kTc = 32;
  uint8_t bits_ = 0;
};

template <bool kTrace>
class Responder;

// A fast writer: answers resource `p` for RRset `rs` under an owner already in the message (a
// pointer to `owner`), with TTL `ttl` (p's own, or less when p is a geo resource's site), or
// hands rs to the general evaluator. *picked is the first record written (the CNAME target for
// CNAME resources), null when the records did not fit.
template <bool kTrace>
using FastWriterFn = PolicyOutcome (*)(Responder<kTrace>& self, uint16_t owner,
                                       const maps::RRset& rs, const ResourcePlan& p, uint32_t ttl,
                                       const uint8_t** picked);

// The writers by writer id (policy_plan.h), defined in fast_writers.cc.
template <bool kTrace>
struct FastWriters {
  static const std::array<FastWriterFn<kTrace>, kWriterIdCount> kTable;
};
template <>
const std::array<FastWriterFn<false>, kWriterIdCount> FastWriters<false>::kTable;
template <>
const std::array<FastWriterFn<true>, kWriterIdCount> FastWriters<true>::kTable;

template <bool kTrace>
class Responder {
 public:
  Responder(const SnapshotView& v, MessageWriter* w, const ClientInfo& client, const Query& query,
            AnswerTrace* trace)
      : v_(v), w_(*w), client_(client), query_(query) {
    if constexpr (kTrace) trace_ = trace;
  }

  uint16_t counts[3] = {0, 0, 0};  // answer, authority, additional
  // The ECS scope of what was answered: the largest of the geo lookups made; 0 when the answer
  // does not depend on the client.
  uint8_t ecs_scope = 0;
  // The geo site answered from (AnswerInfo::site): the last geo lookup's pick, or what the
  // general evaluator answered from.
  uint32_t site = 0;

  // Answers IN-class data for `qname` (the question, at offset 12 in the message). `looked_up`
  // is what the caller found of qname itself, if it looked (QuestionLookup). Always
  // inlined into Answer, its one caller.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Resolution Resolve(const LName& qname, uint16_t qtype,
                                                  QuestionLookup looked_up = {}) {
    Owner owner{static_cast<uint16_t>(dns::kHeaderSize), nullptr};
    const LName* name = &qname;
    LName target;
    uint32_t visited[kMaxCnameChain];
    int chain = 0;
    uint32_t zone = maps::kNone;
    const uint8_t* target_rdata = nullptr;  // the CNAME rdata naming `name` (traces only)
    for (;;) {
      if constexpr (kTrace) Note({.kind = TraceStep::kLookup, .rdata = RdataOffset(target_rdata)});
      bool exact = false;
      // The caller's walk, when it made one, else this one.
      uint32_t ce = looked_up.encloser != kNotLookedUp
                        ? looked_up.encloser
                        : ClosestEncloser(*name, &exact, looked_up.node);
      looked_up = {};  // a CNAME's target is looked up here
      if (ce == maps::kNone || (zone != maps::kNone && v_.nodes[ce].zone != zone)) {
        if (chain > 0) {
          // A CNAME leaving the zone ends the chain, as in Knot.
          if constexpr (kTrace) Note({.kind = TraceStep::kLeftZone});
          return Resolution();
        }
        if constexpr (kTrace) Note({.kind = TraceStep::kNotAuth});
        return Resolution(ResolveState::kNotAuth);
      }
      const maps::Node* node = &v_.nodes[ce];
      zone = node->zone;
      // Below (or at) a zone cut: refer, except DS at the cut, which the parent answers.
      if (node->cut != maps::kNone && !(exact && node->cut == ce && qtype == dns::kTypeDs)) {
        if constexpr (kTrace) Note({.kind = TraceStep::kReferral, .node = node->cut});
        // Data already in the answer is ours; the referral is not.
        const Referral put = PutReferral(node->cut);
        return Resolution::Referral(chain > 0, put != Referral::kDoesNotFit,
                                    put == Referral::kGlueLeftOut);
      }
      if (!exact) {
        if (node->wildcard == maps::kNone) {
          if constexpr (kTrace) Note({.kind = TraceStep::kNxDomain, .zone = node->zone});
          // RFC 6604: the rcode reflects the last name in the chain.
          return Resolution(ResolveState::kNxDomain, PutNegative(node->zone));
        }
        ce = node->wildcard;
        node = &v_.nodes[ce];  // RFC 4592: synthesize from *.<closest encloser>
        if constexpr (kTrace) Note({.kind = TraceStep::kWildcard, .node = ce});
      } else if constexpr (kTrace) {
        Note({.kind = TraceStep::kFound, .node = ce});
      }
      for (int i = 0; i < chain; ++i) {
        if (visited[i] == ce) {  // CNAME loop: each CNAME once, then stop
          if constexpr (kTrace) Note({.kind = TraceStep::kCnameLoop, .node = ce});
          return Resolution();
        }
      }
      // DS at the apex of a child zone whose parent we also serve belongs to the parent
      // (RFC 4035 3.1.4.1): its DS records (kept on this node) or the parent's NODATA.
      const uint32_t neg_zone = (qtype == dns::kTypeDs && node->parent_zone != maps::kNone)
                                    ? node->parent_zone
                                    : node->zone;
      const maps::RRset* rs = nullptr;
      if (qtype == dns::kTypeAny) {
        // RFC 8482 section 4.1: one RRset (the lowest type, as Knot does).
        if (node->rrset_count != 0) rs = &v_.rrsets[node->rrset_first];
      } else {
        rs = FindRRset(*node, qtype);
      }
      if (rs != nullptr) return AnswerRRset(owner, ce, *rs, neg_zone);
      if (!(node->flags & maps::kNodeHasCname) || chain >= kMaxCnameChain) {
        return NoData(ce, neg_zone);
      }
      rs = FindRRset(*node, dns::kTypeCname);
      const uint8_t* cname_rd = v_.rdata + rs->rdata_offset;
      if constexpr (kTrace) {
        Note({.kind = TraceStep::kCname, .node = ce, .rrset = RRsetIndex(rs)});
      }
      if (ABSL_PREDICT_FALSE(rs->resource != maps::kNone)) {
        // A CNAME resource's rdata is a name: never a fast writer's.
        if constexpr (kTrace) NotePolicy(*rs, 0);
        const PolicyOutcome o = PutSelected(owner, *rs, &cname_rd);
        if (o == PolicyOutcome::kServFail) return ServFail();
        if (o == PolicyOutcome::kNoData) return NoData(ce, node->zone);
        if (cname_rd == nullptr) return Resolution::DoesNotFit();
      } else if (!PutRRset(owner, *rs, Section::kAnswer, rs->ttl)) {
        return Resolution::DoesNotFit();
      }
      visited[chain++] = ce;
      at_question_ = false;  // the next name is the CNAME's target, not the question
      IndexName(cname_rd + 2, &target);
      target_rdata = cname_rd;
      name = &target;
      owner = last_name_off_ < 0x3FFF ? Owner{last_name_off_, nullptr} : Owner{0, cname_rd + 2};
    }
  }

  // --- What section_images.cc uses at load time: the slow path's sections, for a question that
  // is the anchor itself. True when all of it was written.
  bool WriteNegativeSlow(uint32_t zone) { return PutNegativeSlow(zone); }
  bool WriteReferralSlow(uint32_t cut) { return PutReferralSlow(cut) == Referral::kFits; }

  // --- What the fast writers use (fast_writers.h) ---------------------------------------------

  const SnapshotView& view() const { return v_; }
  MessageWriter& writer() { return w_; }
  // The addresses geo resources steer by: the packet source, and the ECS address when the
  // option is present with a source prefix length above 0.
  GeoClient geo_client() const {
    GeoClient g;
    g.source = client_.addr;
    g.source_family = client_.family == 4 ? maps::kFamilyIpv4 : maps::kFamilyIpv6;
    if (query_.has_ecs && query_.ecs_source > 0) {
      g.ecs = query_.ecs_addr;
      g.ecs_family = query_.ecs_family_lo;  // ParseEcs accepted only 1 and 2
      g.ecs_source = query_.ecs_source;
    }
    return g;
  }
  void Note(const TraceStep& s) {
    if constexpr (kTrace) trace_->Add(s);
  }

  // The general evaluator's answer for the resource behind `rs`, written under `owner`. Out of
  // line: its Selection is a 0.5 KiB frame that the fast writers should not pay for.
  ABSL_ATTRIBUTE_NOINLINE PolicyOutcome PutSelected(Owner owner, const maps::RRset& rs,
                                                    const uint8_t** picked) {
    Selection sel;
    const GeoClient geo = geo_client();
    sel.client = &geo;
    PolicyTrace* trace = nullptr;
    if constexpr (kTrace) {
      trace = &trace_->policy;
      Note({.kind = TraceStep::kGeneral,
            .events = static_cast<uint16_t>(trace->n),
            .resource = rs.resource});
    }
    EvaluateResource(v_, v_.health, rs.resource, &sel, trace);
    ecs_scope = std::max(ecs_scope, sel.scope);
    if (sel.site != 0) site = sel.site;
    if (sel.outcome == PolicyOutcome::kServFail) return sel.outcome;
    if (sel.outcome == PolicyOutcome::kNoData || sel.n == 0) return PolicyOutcome::kNoData;
    if (ABSL_PREDICT_TRUE(owner.ptr != 0 && rs.rdata_names == maps::kRdataNoNames)) {
      // Addresses under a known owner: one size check, then fixed-size copies (as for plain
      // RRsets).
      size_t need = 0;
      for (uint16_t i = 0; i < sel.n; ++i) need += 12 + Load16(sel.rd[i]);
      uint8_t* p = w_.Reserve(need);
      if (p == nullptr) {
        *picked = nullptr;
        return PolicyOutcome::kAnswer;
      }
      const RecordHead head(owner.ptr, rs.type, sel.ttl);
      for (uint16_t i = 0; i < sel.n; ++i) p = head.Write(p, sel.rd[i]);
      counts[0] += sel.n;
      *picked = sel.rd[0];
      return PolicyOutcome::kAnswer;
    }
    const uint64_t fixed = FixedFields(rs.type, sel.ttl);
    const size_t start = w_.pos();
    for (uint16_t i = 0; i < sel.n; ++i) {
      if (!PutRR(owner, rs, sel.rd[i], fixed)) {
        w_.Rewind(start);
        *picked = nullptr;
        return PolicyOutcome::kAnswer;
      }
    }
    counts[0] += sel.n;
    *picked = sel.rd[0];
    return PolicyOutcome::kAnswer;
  }

 private:
  // The node's RRset `rs` answers the question (node `ce`).
  ABSL_ATTRIBUTE_ALWAYS_INLINE Resolution AnswerRRset(Owner owner, uint32_t ce,
                                                      const maps::RRset& rs, uint32_t neg_zone) {
    if (ABSL_PREDICT_FALSE(rs.resource != maps::kNone)) {
      const uint8_t* picked = nullptr;
      const PolicyOutcome o = PutDynamic(owner, rs, &picked);
      if (o == PolicyOutcome::kNoData) return NoData(ce, neg_zone);
      if (o == PolicyOutcome::kServFail) return ServFail();
      return Resolution(ResolveState::kAnswer, picked != nullptr);
    }
    if constexpr (kTrace) Note({.kind = TraceStep::kRRset, .node = ce, .rrset = RRsetIndex(&rs)});
    if (!PutRRset(owner, rs, Section::kAnswer, rs.ttl)) return Resolution::DoesNotFit();
    if (rs.additional_count != 0) PutAdditionals(rs);
    return Resolution();
  }

  Resolution NoData(uint32_t node, uint32_t zone) {
    if constexpr (kTrace) Note({.kind = TraceStep::kNoData, .node = node, .zone = zone});
    return Resolution(ResolveState::kNoData, PutNegative(zone));
  }

  static Resolution ServFail() { return Resolution(ResolveState::kServFail); }

  // What the resource behind a policy-driven RRset picks for this query, written by the fast
  // writer the plan chose for it: one indexed jump. The fast writers put records under an owner
  // already in the message; any other goes to the general evaluator.
  ABSL_ATTRIBUTE_ALWAYS_INLINE PolicyOutcome PutDynamic(Owner owner, const maps::RRset& rs,
                                                        const uint8_t** picked) {
    const ResourcePlan& p = v_.plans[rs.resource];
    if (ABSL_PREDICT_FALSE(owner.ptr == 0)) {
      if constexpr (kTrace) {
        NotePolicy(rs, 0);
        Note({.kind = TraceStep::kHandedOver,
              .reason = TraceStep::kReasonOwnerNotInPacket,
              .resource = rs.resource});
      }
      return PutSelected(owner, rs, picked);
    }
    if constexpr (kTrace) NotePolicy(rs, p.writer & v_.writer_mask);
    return FastWriters<kTrace>::kTable[p.writer & v_.writer_mask](*this, owner.ptr, rs, p, p.ttl,
                                                                  picked);
  }

  void NotePolicy(const maps::RRset& rs, uint8_t writer) {
    Note({.kind = TraceStep::kPolicy,
          .writer = writer,
          .rrset = RRsetIndex(&rs),
          .resource = rs.resource});
  }
  uint32_t RRsetIndex(const maps::RRset* rs) const { return static_cast<uint32_t>(rs - v_.rrsets); }
  uint32_t RdataOffset(const uint8_t* rd) const {
    return rd == nullptr ? maps::kNone : static_cast<uint32_t>(rd - v_.rdata);
  }

  // Writes a whole RRset or nothing.
  bool PutRRset(Owner owner, const maps::RRset& rs, Section s, uint32_t ttl) {
    const bool ok = ABSL_PREDICT_TRUE(owner.ptr != 0 && rs.rdata_names == maps::kRdataNoNames)
                        ? PutPlainRRset(owner.ptr, rs, ttl)
                        : PutRRsetByRR(owner, rs, ttl);
    if (ok) counts[static_cast<int>(s)] += rs.rr_count;
    return ok;
  }

  // Additional-section records for `rs`, one RR at a time: what does not fit is left out.
  // Returns whether all of them fit.
  bool PutAdditionals(const maps::RRset& rs) {
    bool all = true;
    for (uint32_t a = rs.additional_first; a < rs.additional_first + rs.additional_count; ++a) {
      const maps::AdditionalRef& ref = v_.additionals[a];
      const maps::Node& n = v_.nodes[ref.node];
      const maps::RRset& ars = v_.rrsets[ref.rrset];
      const uint64_t fixed = FixedFields(ars.type, ars.ttl);
      Owner owner{0, v_.names + n.name_offset};
      const uint8_t* rd = v_.rdata + ars.rdata_offset;
      for (uint16_t i = 0; i < ars.rr_count; ++i) {
        uint16_t rdlen;
        std::memcpy(&rdlen, rd, 2);
        const size_t start = w_.pos();
        Owner before = owner;
        if (PutRR(owner, ars, rd, fixed)) {
          ++counts[2];
        } else {
          w_.Rewind(start);
          owner = before;
          all = false;
        }
        rd += 2 + rdlen;
      }
    }
    return all;
  }

  // Closest encloser of `name`: the deepest existing node that is `name` or an ancestor.
  // Sets *exact when it is `name` itself. `looked_up`: what the lookup of `name` found, if made.
  uint32_t ClosestEncloser(const LName& name, bool* exact, uint32_t looked_up) const {
    if (ABSL_PREDICT_FALSE(v_.buckets == nullptr)) return maps::kNone;
    const uint32_t n = looked_up != kNotLookedUp ? looked_up : FindNode(name.data, name.len);
    *exact = n != maps::kNone;
    return n != maps::kNone ? n : AncestorNode(v_, name);
  }

  bool PutNegative(uint32_t zone) {
    if (at_question_ && v_.zone_images != nullptr) {
      const SectionImage& img = v_.zone_images[zone];
      if (img.len != 0 && PutImage(img)) return true;
    }
    return PutNegativeSlow(zone);
  }
  bool PutNegativeSlow(uint32_t zone) {
    const maps::Zone& z = v_.zones[zone];
    const maps::Node& apex = v_.nodes[z.apex_node];
    return PutRRset(Owner{0, v_.names + apex.name_offset}, v_.rrsets[z.soa_rrset],
                    Section::kAuthority, z.negative_ttl);
  }

  enum class Referral : uint8_t { kFits, kGlueLeftOut, kDoesNotFit };
  // The cut's NS RRset and its glue. Glue that does not fit sets TC (RFC 9471: in-domain glue is
  // required for a usable referral); other additional data is just left out.
  Referral PutReferral(uint32_t cut) {
    if (at_question_ && v_.cut_images != nullptr) {
      const auto it = v_.cut_images->find(cut);
      if (it != v_.cut_images->end() && PutImage(it->second)) return Referral::kFits;
    }
    return PutReferralSlow(cut);
  }
  Referral PutReferralSlow(uint32_t cut) {
    const maps::Node& c = v_.nodes[cut];
    const maps::RRset* ns = FindRRset(c, dns::kTypeNs);
    if (!PutRRset(Owner{0, v_.names + c.name_offset}, *ns, Section::kAuthority, ns->ttl)) {
      return Referral::kDoesNotFit;
    }
    return PutAdditionals(*ns) ? Referral::kFits : Referral::kGlueLeftOut;
  }

  // Copies a precompiled section (section_image.h) and patches its pointers. False, having
  // written nothing, when the slow path must write it: a name of the image would compress
  // further against this question, or the image does not fit (the slow path decides what then).
  bool PutImage(const SectionImage& img) {
    if (!ImageSuitsQuestion(v_, query_.qname, img)) return false;
    const size_t at = w_.pos();
    if (ABSL_PREDICT_FALSE(at + img.len > kMaxPointerTarget)) return false;
    uint8_t* p = w_.Reserve(img.len);
    if (p == nullptr) return false;
    CopySectionImage(v_, query_.qname, img, p, at);
    counts[1] += img.authority;
    counts[2] += img.additional;
    return true;
  }

  // Writes one RR of `rs` (the rdata entry at `rd`; `fixed` from FixedFields). Returns false
  // when it does not fit (the caller rewinds).
  bool PutRR(Owner& owner, const maps::RRset& rs, const uint8_t* rd, uint64_t fixed) {
    const size_t start = w_.pos();
    if (owner.ptr != 0) {
      if (!w_.PutPointer(owner.ptr)) return false;
    } else {
      if (!w_.PutName(owner.name)) return false;
      // Later RRs of the set point at this copy of the owner.
      if (start < 0x3FFF) owner.ptr = static_cast<uint16_t>(start);
    }
    const size_t fixed_at = w_.pos();
    uint8_t* f = w_.Reserve(10);
    if (f == nullptr) return false;
    Store64(f, fixed);  // RDLENGTH is set below, once the rdata is written
    uint16_t rdlen;
    std::memcpy(&rdlen, rd, 2);
    const uint8_t* data = rd + 2;
    switch (rs.rdata_names) {
      case maps::kRdataNoNames:
        if (!w_.Put(data, rdlen)) return false;
        break;
      case maps::kRdataOneName:
        last_name_off_ = static_cast<uint16_t>(std::min<size_t>(w_.pos(), 0xFFFF));
        if (!w_.PutName(data)) return false;
        break;
      case maps::kRdataMx:
        if (!w_.Put(data, 2) || !w_.PutName(data + 2)) return false;
        break;
      case maps::kRdataSoa: {
        size_t mname_len, rname_len;
        if (!w_.PutName(data, &mname_len) || !w_.PutName(data + mname_len, &rname_len) ||
            !w_.Put(data + mname_len + rname_len, 20)) {
          return false;
        }
        break;
      }
    }
    w_.Set16(fixed_at + 8, static_cast<uint16_t>(w_.pos() - fixed_at - 10));
    return true;
  }

  // PutRRset for any RRset: RR by RR, names compressed.
  ABSL_ATTRIBUTE_NOINLINE bool PutRRsetByRR(Owner owner, const maps::RRset& rs, uint32_t ttl) {
    const size_t start = w_.pos();
    const uint64_t fixed = FixedFields(rs.type, ttl);
    const uint8_t* rd = v_.rdata + rs.rdata_offset;
    for (uint16_t i = 0; i < rs.rr_count; ++i) {
      uint16_t rdlen;
      std::memcpy(&rdlen, rd, 2);
      if (!PutRR(owner, rs, rd, fixed)) {
        w_.Rewind(start);
        return false;
      }
      rd += 2 + rdlen;
    }
    return true;
  }

  // The common case: an RRset whose owner is a pointer and whose rdata holds no names (A, AAAA,
  // TXT, ...). Its size is known up front, so it takes one bounds check, and each RR is the
  // same 10 bytes (pointer, TYPE, CLASS, TTL) then RDLENGTH and the rdata. Writes nothing when
  // it does not fit.
  bool PutPlainRRset(uint16_t owner, const maps::RRset& rs, uint32_t ttl) {
    // rdata_length counts each RR's 2-byte length too: 10 more bytes per RR on the wire.
    uint8_t* p = w_.Reserve(size_t{rs.rr_count} * 10 + rs.rdata_length);
    if (p == nullptr) return false;
    const RecordHead head(owner, rs.type, ttl);
    const uint8_t* rd = v_.rdata + rs.rdata_offset;
    for (uint16_t i = 0; i < rs.rr_count; ++i) {
      p = head.Write(p, rd);
      rd += 2 + Load16(rd);
    }
    return true;
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE uint32_t FindNode(const uint8_t* name, size_t len) const {
    return LookupNode(v_, name, len);
  }

  const maps::RRset* FindRRset(const maps::Node& n, uint16_t type) const {
    return FirstRRsetOfType(v_, n, type);
  }

  const SnapshotView& v_;
  MessageWriter& w_;
  const ClientInfo& client_;
  const Query& query_;
  struct NoTrace {};
  // Only Responder<true> keeps the trace: Answer's responder is as small as without one.
  [[no_unique_address]] std::conditional_t<kTrace, AnswerTrace*, NoTrace> trace_;
  uint16_t last_name_off_ = 0;  // where the last single-name rdata was written (CNAME target)
  // Resolving the question itself (no CNAME followed yet): its zone apex and cuts are suffixes
  // of the question, which the section images (section_image.h) point into.
  bool at_question_ = true;
};

}  // namespace sextant::dataplane
