// The answer engine. Flow per query: parse (header, question, EDNS) into a small struct on the
// stack, decide the response kind with at most a few hash lookups, then write the response
// sections from precompiled snapshot pieces. The response may be written over the query (the
// DPDK path answers in place): everything needed from the query is copied out before writing.
//
// Behaviour follows RFC 1034/1035 with the refinements of RFC 2308 (negative answers), 4592
// (wildcards), 6604 (rcode after CNAME), 6891 (EDNS), 7871 (ECS), 8482 (minimal ANY) and 8914
// (EDE), and matches Knot DNS where the RFCs leave room; README.md lists the deliberate
// differences.
#include "dataplane/engine.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "absl/base/optimization.h"
#include "dataplane/dns_wire.h"

namespace sextant::dataplane {

using maps::kNone;
using namespace wire;  // NOLINT: the wire constants read better unqualified here

SnapshotView SnapshotView::Of(const maps::SnapshotReader& r) {
  SnapshotView v;
  v.settings = &r.settings();
  v.zones = r.section<maps::Zone>(maps::kZones).data();
  v.zone_count = static_cast<uint32_t>(r.section<maps::Zone>(maps::kZones).size());
  auto b = r.section<maps::Bucket>(maps::kBuckets);
  v.buckets = b.empty() ? nullptr : b.data();
  v.bucket_mask = b.empty() ? 0 : static_cast<uint32_t>(b.size() - 1);
  v.nodes = r.section<maps::Node>(maps::kNodes).data();
  v.rrsets = r.section<maps::RRset>(maps::kRRsets).data();
  v.rdata = r.bytes(maps::kRdata).data();
  v.names = r.bytes(maps::kNames).data();
  v.additionals = r.section<maps::AdditionalRef>(maps::kAdditionals).data();
  v.strings = r.bytes(maps::kStrings).data();
  v.generation = r.generation();
  return v;
}

namespace {

constexpr int kMaxLabels = 128;
constexpr int kMaxCnameChain = 16;
constexpr int kMaxCompress = 32;
constexpr uint16_t kEdeNotAuthoritative = 20;  // RFC 8914 section 4.21

// A lowered, uncompressed wire name with its label offsets.
struct LName {
  uint8_t data[256];
  uint8_t len = 0;
  uint8_t labels = 0;
  uint8_t off[kMaxLabels];
};

// Lowers and indexes an uncompressed wire name known to be well formed (from the snapshot).
void IndexName(const uint8_t* src, LName* n) {
  size_t i = 0;
  n->labels = 0;
  while (src[i] != 0) {
    n->off[n->labels++] = static_cast<uint8_t>(i);
    uint8_t l = src[i];
    n->data[i] = l;
    for (size_t k = 1; k <= l; ++k) n->data[i + k] = Lower(src[i + k]);
    i += 1 + l;
  }
  n->data[i] = 0;
  n->len = static_cast<uint8_t>(i + 1);
}

struct Query {
  uint16_t id;
  uint8_t opcode;
  bool rd;
  uint16_t qdcount;
  size_t question_end = kHeaderSize;  // end of the question in the query (0 = none parsed)
  bool have_question = false;
  uint16_t qtype = 0, qclass = 0;
  LName qname;
  // EDNS
  bool has_opt = false;
  uint16_t udp_size = 0;
  uint8_t edns_version = 0;
  bool do_bit = false;
  bool want_nsid = false;
  bool has_ecs = false;
  uint8_t ecs_family_hi = 0, ecs_family_lo = 0, ecs_source = 0, ecs_addr_len = 0;
  uint8_t ecs_addr[16];
};

enum class ParseVerdict {
  kOk,
  kDrop,
  kFormErrBare,      // FORMERR, no question, no OPT (question itself unusable)
  kFormErrQuestion,  // FORMERR, question echoed, no OPT (records after it are broken)
  kFormErrEdns,      // FORMERR, question echoed, OPT kept (bad ECS: the OPT itself parsed)
};

// Parses a question name: no compression allowed (RFC 1035 4.1.2 has one name; a pointer there
// is malformed), labels <= 63, total <= 255.
bool ParseQname(const uint8_t* p, size_t len, size_t* pos, LName* n) {
  size_t i = *pos, o = 0;
  n->labels = 0;
  for (;;) {
    if (ABSL_PREDICT_FALSE(i >= len)) return false;
    uint8_t l = p[i];
    if (l == 0) break;
    if (ABSL_PREDICT_FALSE(l > 63 || i + 1 + l > len || o + 1 + l > 254 ||
                           n->labels >= kMaxLabels - 1)) {
      return false;
    }
    n->off[n->labels++] = static_cast<uint8_t>(o);
    n->data[o] = l;
    for (size_t k = 1; k <= l; ++k) n->data[o + k] = Lower(p[i + k]);
    o += 1 + l;
    i += 1 + l;
  }
  n->data[o] = 0;
  n->len = static_cast<uint8_t>(o + 1);
  *pos = i + 1;
  return true;
}

// Skips a possibly compressed name in a record (we never follow pointers here: the pointer's
// two bytes end the name).
bool SkipName(const uint8_t* p, size_t len, size_t* pos) {
  size_t i = *pos;
  for (int hops = 0; hops < 128; ++hops) {
    if (i >= len) return false;
    uint8_t l = p[i];
    if (l == 0) {
      *pos = i + 1;
      return true;
    }
    if ((l & 0xC0) == 0xC0) {
      if (i + 2 > len) return false;
      *pos = i + 2;
      return true;
    }
    if (l > 63) return false;
    i += 1 + l;
  }
  return false;
}

// RFC 7871 section 6: FAMILY 1/2, SOURCE PREFIX within the family, ADDRESS exactly
// ceil(prefix/8) octets with the bits beyond the prefix zero, SCOPE 0 in queries.
bool ParseEcs(const uint8_t* o, uint16_t olen, Query* q) {
  if (olen < 4) return false;
  uint16_t family = Get16(o);
  uint8_t source = o[2], scope = o[3];
  size_t max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
  if (max_bits == 0 || source > max_bits || scope != 0) return false;
  size_t alen = (source + 7) / 8;
  if (olen != 4 + alen) return false;
  if (alen > 0 && (source % 8) != 0) {
    uint8_t mask = static_cast<uint8_t>(0xFF >> (source % 8));
    if (o[4 + alen - 1] & mask) return false;
  }
  q->has_ecs = true;
  q->ecs_family_hi = o[0];
  q->ecs_family_lo = o[1];
  q->ecs_source = source;
  q->ecs_addr_len = static_cast<uint8_t>(alen);
  std::memcpy(q->ecs_addr, o + 4, alen);
  return true;
}

ParseVerdict Parse(const uint8_t* p, size_t len, Query* q) {
  q->id = Get16(p + kOffId);
  q->opcode = (p[kOffFlags1] >> 3) & 0xF;
  q->rd = p[kOffFlags1] & kFlag1Rd;
  q->qdcount = Get16(p + kOffQdcount);
  size_t pos = kHeaderSize;
  if (q->qdcount > 1) return ParseVerdict::kFormErrBare;
  if (q->qdcount == 1) {
    if (!ParseQname(p, len, &pos, &q->qname) || pos + 4 > len) return ParseVerdict::kFormErrBare;
    q->qtype = Get16(p + pos);
    q->qclass = Get16(p + pos + 2);
    pos += 4;
    q->have_question = true;
  }
  q->question_end = pos;
  const uint16_t an = Get16(p + kOffAncount), ns = Get16(p + kOffNscount),
                 ar = Get16(p + kOffArcount);
  bool ecs_bad = false;
  const uint32_t total = uint32_t{an} + ns + ar;
  for (uint32_t r = 0; r < total; ++r) {
    const size_t rr_start = pos;
    if (!SkipName(p, len, &pos) || pos + 10 > len) return ParseVerdict::kFormErrQuestion;
    const uint16_t type = Get16(p + pos);
    const uint16_t rdlen = Get16(p + pos + 8);
    const size_t rdata = pos + 10;
    if (rdata + rdlen > len) return ParseVerdict::kFormErrQuestion;
    if (type == kTypeOpt) {
      // One OPT, in the additional section only (RFC 6891 section 6.1.1). Its owner should be
      // the root; like Knot we accept any owner rather than fail an otherwise good query.
      if (r < uint32_t{an} + ns || q->has_opt) return ParseVerdict::kFormErrQuestion;
      (void)rr_start;
      q->has_opt = true;
      q->udp_size = Get16(p + pos + 2);
      q->edns_version = p[pos + 5];
      q->do_bit = p[pos + 6] & 0x80;
      size_t o = rdata;
      while (o < rdata + rdlen) {
        if (o + 4 > rdata + rdlen) return ParseVerdict::kFormErrQuestion;
        const uint16_t code = Get16(p + o), olen = Get16(p + o + 2);
        if (o + 4 + olen > rdata + rdlen) return ParseVerdict::kFormErrQuestion;
        if (code == kOptNsid) {
          q->want_nsid = true;
        } else if (code == kOptEcs) {
          if (q->has_ecs || !ParseEcs(p + o + 4, olen, q)) ecs_bad = true;
        }
        o += 4 + olen;
      }
    }
    pos = rdata + rdlen;
  }
  if (pos != len) return ParseVerdict::kFormErrQuestion;  // trailing garbage
  if (ecs_bad) return ParseVerdict::kFormErrEdns;
  return ParseVerdict::kOk;
}

// Writes the response. `limit` excludes the room reserved for the OPT record.
class Writer {
 public:
  Writer(uint8_t* buf, size_t limit, size_t pos) : b_(buf), limit_(limit), pos_(pos) {}

  size_t pos() const { return pos_; }
  void Rewind(size_t pos) {
    pos_ = pos;
    while (ncomp_ > 0 && comp_[ncomp_ - 1] >= pos) --ncomp_;
  }
  uint8_t* buf() { return b_; }
  void AddCompressionTarget(uint16_t off) {
    if (ncomp_ < kMaxCompress) comp_[ncomp_++] = off;
  }

  bool Put(const void* p, size_t n) {
    if (ABSL_PREDICT_FALSE(pos_ + n > limit_)) return false;
    std::memcpy(b_ + pos_, p, n);
    pos_ += n;
    return true;
  }
  bool PutPointer(uint16_t target) {
    if (ABSL_PREDICT_FALSE(pos_ + 2 > limit_)) return false;
    Put16(b_ + pos_, static_cast<uint16_t>(0xC000 | target));
    pos_ += 2;
    return true;
  }

  // Writes an uncompressed wire name (any case), compressed against the names already written
  // (RFC 1035 4.1.4): the longest matching suffix becomes a pointer.
  bool PutName(const uint8_t* name) {
    uint16_t nl[kMaxLabels];
    int n = 0;
    for (size_t i = 0; name[i] != 0; i += 1 + name[i]) nl[n++] = static_cast<uint16_t>(i);
    int best = 0;
    uint16_t target = 0;
    uint16_t pl[kMaxLabels];
    for (int e = 0; e < ncomp_; ++e) {
      int m = PacketLabels(comp_[e], pl);
      int k = 0;
      while (k < n && k < m && LabelEq(name + nl[n - 1 - k], b_ + pl[m - 1 - k])) ++k;
      if (k > best) {
        best = k;
        target = pl[m - k];
        if (best == n) break;
      }
    }
    const size_t start = pos_;
    const size_t literal = n - best == 0 ? 0 : nl[n - best - 1] + 1 + name[nl[n - best - 1]];
    if (ABSL_PREDICT_FALSE(pos_ + literal + (best > 0 ? 2 : 1) > limit_)) return false;
    std::memcpy(b_ + pos_, name, literal);
    pos_ += literal;
    if (best > 0) {
      Put16(b_ + pos_, static_cast<uint16_t>(0xC000 | target));
      pos_ += 2;
    } else {
      b_[pos_++] = 0;
    }
    if (literal > 0 && start < 0x3FFF) AddCompressionTarget(static_cast<uint16_t>(start));
    return true;
  }

 private:
  // Label positions of the (possibly compressed) name we wrote at `off`.
  int PacketLabels(uint16_t off, uint16_t* pos) const {
    int n = 0;
    size_t i = off;
    for (int hops = 0; hops < 64 && n < kMaxLabels; ++hops) {
      uint8_t l = b_[i];
      if (l == 0) return n;
      if ((l & 0xC0) == 0xC0) {
        i = (l & 0x3F) << 8 | b_[i + 1];
        continue;
      }
      pos[n++] = static_cast<uint16_t>(i);
      i += 1 + l;
    }
    return n;
  }
  static bool LabelEq(const uint8_t* a, const uint8_t* b) {
    if (a[0] != b[0]) return false;
    for (size_t i = 1; i <= a[0]; ++i) {
      if (Lower(a[i]) != Lower(b[i])) return false;
    }
    return true;
  }

  uint8_t* b_;
  size_t limit_;
  size_t pos_;
  uint16_t comp_[kMaxCompress];
  int ncomp_ = 0;
};

// An owner name: a pointer to a name already in the packet, or a snapshot name to compress.
struct Owner {
  uint16_t ptr = 0;               // nonzero: write a pointer to this offset
  const uint8_t* name = nullptr;  // else this uncompressed name
};

enum class Section { kAnswer, kAuthority, kAdditional };

class Responder {
 public:
  Responder(const SnapshotView& v, Writer* w) : v_(v), w_(*w) {}

  uint16_t counts[3] = {0, 0, 0};
  bool tc = false;
  bool aa = false;
  uint16_t rcode = kNoError;
  bool refused_not_auth = false;  // add EDE 20 to the OPT
  uint16_t last_name_off = 0;     // where the last single-name rdata was written (CNAME target)

  // Writes one RR of `rs` (the rdata entry at `rd`). Returns false when it does not fit (the
  // caller rewinds).
  bool PutRR(Owner& owner, const maps::RRset& rs, const uint8_t* rd, uint32_t ttl,
             uint16_t rclass) {
    const size_t start = w_.pos();
    if (owner.ptr != 0) {
      if (!w_.PutPointer(owner.ptr)) return false;
    } else {
      if (!w_.PutName(owner.name)) return false;
      // Later RRs of the set point at this copy of the owner.
      if (start < 0x3FFF) owner.ptr = static_cast<uint16_t>(start);
    }
    uint8_t fixed[10];
    Put16(fixed, rs.type);
    Put16(fixed + 2, rclass);
    Put32(fixed + 4, ttl);
    Put16(fixed + 8, 0);
    const size_t fixed_at = w_.pos();
    if (!w_.Put(fixed, 10)) return false;
    uint16_t rdlen;
    std::memcpy(&rdlen, rd, 2);
    const uint8_t* data = rd + 2;
    switch (rs.rdata_names) {
      case maps::kRdataNoNames:
        if (!w_.Put(data, rdlen)) return false;
        break;
      case maps::kRdataOneName:
        last_name_off = static_cast<uint16_t>(std::min<size_t>(w_.pos(), 0xFFFF));
        if (!w_.PutName(data)) return false;
        break;
      case maps::kRdataMx:
        if (!w_.Put(data, 2) || !w_.PutName(data + 2)) return false;
        break;
      case maps::kRdataSoa: {
        const uint8_t* p = data;
        if (!w_.PutName(p)) return false;
        while (*p != 0) p += 1 + *p;
        ++p;
        if (!w_.PutName(p)) return false;
        while (*p != 0) p += 1 + *p;
        ++p;
        if (!w_.Put(p, 20)) return false;
        break;
      }
    }
    Put16(w_.buf() + fixed_at + 8, static_cast<uint16_t>(w_.pos() - fixed_at - 10));
    return true;
  }

  // Writes a whole RRset or nothing.
  bool PutRRset(Owner owner, const maps::RRset& rs, Section s, uint32_t ttl) {
    const size_t start = w_.pos();
    const uint8_t* rd = v_.rdata + rs.rdata_offset;
    for (uint16_t i = 0; i < rs.rr_count; ++i) {
      uint16_t rdlen;
      std::memcpy(&rdlen, rd, 2);
      if (!PutRR(owner, rs, rd, ttl, kClassIn)) {
        w_.Rewind(start);
        return false;
      }
      rd += 2 + rdlen;
    }
    counts[static_cast<int>(s)] += rs.rr_count;
    return true;
  }

  // Additional-section records for `rs`, one RR at a time: what does not fit is left out, and
  // only missing glue sets TC (RFC 9471: in-domain glue is required for a usable referral).
  void PutAdditionals(const maps::RRset& rs, bool glue) {
    for (uint32_t a = rs.additional_first; a < rs.additional_first + rs.additional_count; ++a) {
      const maps::AdditionalRef& ref = v_.additionals[a];
      const maps::Node& n = v_.nodes[ref.node];
      const maps::RRset& ars = v_.rrsets[ref.rrset];
      Owner owner{0, v_.names + n.name_offset};
      const uint8_t* rd = v_.rdata + ars.rdata_offset;
      for (uint16_t i = 0; i < ars.rr_count; ++i) {
        uint16_t rdlen;
        std::memcpy(&rdlen, rd, 2);
        const size_t start = w_.pos();
        Owner before = owner;
        if (PutRR(owner, ars, rd, ars.ttl, kClassIn)) {
          ++counts[2];
        } else {
          w_.Rewind(start);
          owner = before;
          if (glue) tc = true;
        }
        rd += 2 + rdlen;
      }
    }
  }

  uint32_t FindNode(const uint8_t* name, size_t len) const {
    if (ABSL_PREDICT_FALSE(v_.buckets == nullptr)) return kNone;
    const uint64_t h = XXH3_64bits(name, len);
    const uint32_t hi = static_cast<uint32_t>(h >> 32);
    uint32_t b = static_cast<uint32_t>(h) & v_.bucket_mask;
    for (;;) {
      const maps::Bucket& bk = v_.buckets[b];
      if (bk.node == kNone) return kNone;
      if (bk.hash_hi == hi) {
        const maps::Node& n = v_.nodes[bk.node];
        if (n.name_length == len && std::memcmp(v_.names + n.name_offset, name, len) == 0) {
          return bk.node;
        }
      }
      b = (b + 1) & v_.bucket_mask;
    }
  }

  const maps::RRset* FindRRset(const maps::Node& n, uint16_t type) const {
    const maps::RRset* rs = v_.rrsets + n.rrset_first;
    for (uint16_t i = 0; i < n.rrset_count; ++i) {
      if (rs[i].type == type) return &rs[i];
    }
    return nullptr;
  }

  // Closest encloser of `name`: the deepest existing node that is `name` or an ancestor.
  // Sets *exact when it is `name` itself.
  uint32_t ClosestEncloser(const LName& name, bool* exact) const {
    for (int i = 0; i <= name.labels; ++i) {
      const size_t off = i < name.labels ? name.off[i] : name.len - 1;
      uint32_t n = FindNode(name.data + off, name.len - off);
      if (n != kNone) {
        *exact = i == 0;
        return n;
      }
    }
    return kNone;
  }

  bool PutNegative(uint32_t zone) {
    const maps::Zone& z = v_.zones[zone];
    const maps::Node& apex = v_.nodes[z.apex_node];
    return PutRRset(Owner{0, v_.names + apex.name_offset}, v_.rrsets[z.soa_rrset],
                    Section::kAuthority, z.negative_ttl);
  }

  bool PutReferral(uint32_t cut) {
    const maps::Node& c = v_.nodes[cut];
    const maps::RRset* ns = FindRRset(c, kTypeNs);
    if (!PutRRset(Owner{0, v_.names + c.name_offset}, *ns, Section::kAuthority, ns->ttl)) {
      return false;
    }
    PutAdditionals(*ns, /*glue=*/true);
    return true;
  }

  // Answers IN-class data for `qname` (owner `owner` in the packet). Returns false when the
  // answer did not fit (caller truncates).
  bool Resolve(const LName& qname, uint16_t qtype) {
    Owner owner{static_cast<uint16_t>(kHeaderSize), nullptr};
    const LName* name = &qname;
    LName target;
    uint32_t visited[kMaxCnameChain];
    int chain = 0;
    uint32_t zone = kNone;
    for (;;) {
      bool exact = false;
      uint32_t ce = ClosestEncloser(*name, &exact);
      if (ce == kNone || (zone != kNone && v_.nodes[ce].zone != zone)) {
        if (chain == 0) {
          rcode = kRefused;
          refused_not_auth = true;
        }
        return true;  // a CNAME leaving the zone ends the chain, as in Knot
      }
      const maps::Node* node = &v_.nodes[ce];
      if (zone == kNone) {
        zone = node->zone;
      } else if (node->zone != zone) {
        return true;
      }
      // Below (or at) a zone cut: refer, except DS at the cut, which the parent answers.
      if (node->cut != kNone && !(exact && node->cut == ce && qtype == kTypeDs)) {
        aa = chain > 0;  // data already in the answer is ours; the referral is not
        return PutReferral(node->cut);
      }
      aa = true;
      if (!exact) {
        if (node->wildcard == kNone) {
          rcode = kNxDomain;  // RFC 6604: the rcode reflects the last name in the chain
          return PutNegative(node->zone);
        }
        ce = node->wildcard;
        node = &v_.nodes[ce];  // RFC 4592: synthesize from *.<closest encloser>
      }
      for (int i = 0; i < chain; ++i) {
        if (visited[i] == ce) return true;  // CNAME loop: each CNAME once, then stop
      }
      const maps::RRset* rs = nullptr;
      if (qtype == kTypeAny) {
        // RFC 8482 section 4.1: one RRset (the lowest type, as Knot does).
        if (node->rrset_count == 0) return PutNegative(node->zone);
        rs = &v_.rrsets[node->rrset_first];
        if (!PutRRset(owner, *rs, Section::kAnswer, rs->ttl)) return false;
        PutAdditionals(*rs, false);
        return true;
      }
      rs = FindRRset(*node, qtype);
      if (rs != nullptr) {
        if (!PutRRset(owner, *rs, Section::kAnswer, rs->ttl)) return false;
        PutAdditionals(*rs, false);
        return true;
      }
      if (!(node->flags & maps::kNodeHasCname) || chain >= kMaxCnameChain) {
        return PutNegative(node->zone);
      }
      rs = FindRRset(*node, kTypeCname);
      if (!PutRRset(owner, *rs, Section::kAnswer, rs->ttl)) return false;
      visited[chain++] = ce;
      IndexName(v_.rdata + rs->rdata_offset + 2, &target);
      name = &target;
      owner = last_name_off < 0x3FFF ? Owner{last_name_off, nullptr}
                                     : Owner{0, v_.rdata + rs->rdata_offset + 2};
    }
  }

 private:
  const SnapshotView& v_;
  Writer& w_;
};

bool NameIs(const LName& n, const char* wire, size_t len) {
  return n.len == len && std::memcmp(n.data, wire, len) == 0;
}

size_t PutOpt(uint8_t* out, size_t pos, const SnapshotView& v, const Query& q, uint16_t rcode,
              bool ede_not_auth, bool echo_ecs) {
  uint8_t* p = out + pos;
  p[0] = 0;  // root owner
  Put16(p + 1, kTypeOpt);
  Put16(p + 3, v.settings ? v.settings->edns_udp_size : 1232);
  p[5] = static_cast<uint8_t>(rcode >> 4);  // extended rcode, upper 8 bits
  p[6] = 0;                                 // version 0
  p[7] = q.do_bit ? 0x80 : 0;               // RFC 3225: DO copied
  p[8] = 0;
  size_t o = 11;
  if (q.want_nsid && v.settings && v.settings->nsid.length > 0) {
    Put16(p + o, kOptNsid);
    Put16(p + o + 2, static_cast<uint16_t>(v.settings->nsid.length));
    std::memcpy(p + o + 4, v.strings + v.settings->nsid.offset, v.settings->nsid.length);
    o += 4 + v.settings->nsid.length;
  }
  if (echo_ecs && q.has_ecs) {
    // RFC 7871 section 7.2.1: same family, source prefix and address; scope 0 because no answer
    // depends on the client yet.
    Put16(p + o, kOptEcs);
    Put16(p + o + 2, static_cast<uint16_t>(4 + q.ecs_addr_len));
    p[o + 4] = q.ecs_family_hi;
    p[o + 5] = q.ecs_family_lo;
    p[o + 6] = q.ecs_source;
    p[o + 7] = 0;
    std::memcpy(p + o + 8, q.ecs_addr, q.ecs_addr_len);
    o += 8 + q.ecs_addr_len;
  }
  if (ede_not_auth) {
    Put16(p + o, kOptEde);
    Put16(p + o + 2, 2);
    Put16(p + o + 4, kEdeNotAuthoritative);
    o += 6;
  }
  Put16(p + 9, static_cast<uint16_t>(o - 11));
  return o;
}

size_t OptSize(const SnapshotView& v, const Query& q) {
  size_t n = 11;
  if (q.want_nsid && v.settings && v.settings->nsid.length > 0) n += 4 + v.settings->nsid.length;
  if (q.has_ecs) n += 8 + q.ecs_addr_len;
  // EDE is only added to answers with empty sections (REFUSED), so it needs no reservation.
  return n;
}

}  // namespace

size_t Engine::Answer(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                      size_t cap, AnswerInfo* info) const {
  if (ABSL_PREDICT_FALSE(len < kHeaderSize || cap < kMinUdpSize)) return 0;
  if (ABSL_PREDICT_FALSE(query[kOffFlags1] & kFlag1Qr)) return 0;  // never answer a response
  Query q;
  const ParseVerdict verdict = Parse(query, len, &q);
  if (ABSL_PREDICT_FALSE(verdict == ParseVerdict::kDrop)) return 0;

  // Header + question go first (memmove: out may be the query buffer itself).
  const bool echo_question = q.have_question && verdict != ParseVerdict::kFormErrBare;
  const size_t qend = echo_question ? q.question_end : kHeaderSize;
  if (qend > cap) return 0;
  std::memmove(out, query, qend);
  Put16(out + kOffQdcount, echo_question ? 1 : 0);
  Put16(out + kOffAncount, 0);
  Put16(out + kOffNscount, 0);
  Put16(out + kOffArcount, 0);
  out[kOffFlags1] = static_cast<uint8_t>(kFlag1Qr | (q.opcode << 3) | (q.rd ? kFlag1Rd : 0));
  out[kOffFlags2] = 0;  // RA, Z, AD and CD clear (Knot clears CD too)

  // Response size: TCP up to 64 KiB; UDP 512 without EDNS, else the smaller of the client's and
  // our advertised size, never below 512 (RFC 6891 section 6.2.5).
  size_t limit;
  if (client.tcp) {
    limit = kMaxDnsMessage;
  } else if (q.has_opt) {
    const uint16_t ours = v_.settings ? v_.settings->edns_udp_size : 1232;
    limit = std::max<size_t>(kMinUdpSize, std::min(q.udp_size, ours));
  } else {
    limit = kMinUdpSize;
  }
  limit = std::min(limit, cap);

  uint16_t rcode = kNoError;
  bool with_opt = q.has_opt;
  bool echo_ecs = true;
  size_t pos = qend;
  uint16_t counts[3] = {0, 0, 0};
  bool aa = false, tc = false, ede = false;

  if (verdict == ParseVerdict::kFormErrBare || verdict == ParseVerdict::kFormErrQuestion) {
    rcode = kFormErr;
    with_opt = false;  // the additional section could not be trusted
  } else if (verdict == ParseVerdict::kFormErrEdns) {
    rcode = kFormErr;
    echo_ecs = false;
  } else if (q.has_opt && q.edns_version > 0) {
    rcode = kBadVers;  // RFC 6891 section 6.1.3
  } else if (!q.have_question) {
    rcode = kFormErr;
  } else if (q.opcode != kOpQuery) {
    // Including NOTIFY and UPDATE (Knot says NOTAUTH there): we implement neither.
    rcode = kNotImp;
  } else if (q.qtype == 0 || (q.qtype == kTypeAxfr && !client.tcp)) {
    rcode = kNotImp;
  } else if (q.qtype == kTypeAxfr || q.qtype == kTypeIxfr) {
    rcode = kNotAuth;  // zone transfers are not offered
  } else if (q.qclass == kClassCh) {
    // version.bind / version.server, id.server / hostname.bind (TXT, CH): answered only when
    // configured; TTL 0 and no AA, as Knot and BIND do.
    static constexpr char kVersionBind[] = "\7version\4bind";
    static constexpr char kVersionServer[] = "\7version\6server";
    static constexpr char kIdServer[] = "\2id\6server";
    static constexpr char kHostnameBind[] = "\10hostname\4bind";
    const maps::StringRef* s = nullptr;
    if (v_.settings != nullptr && q.qtype == kTypeTxt) {
      if (NameIs(q.qname, kVersionBind, sizeof(kVersionBind)) ||
          NameIs(q.qname, kVersionServer, sizeof(kVersionServer))) {
        s = &v_.settings->chaos_version;
      } else if (NameIs(q.qname, kIdServer, sizeof(kIdServer)) ||
                 NameIs(q.qname, kHostnameBind, sizeof(kHostnameBind))) {
        s = &v_.settings->chaos_identity;
      }
    }
    if (s == nullptr || s->offset == kNone || s->length == 0) {
      rcode = kRefused;
    } else {
      const size_t txt = std::min<uint32_t>(s->length, 255);
      const size_t need = 2 + 10 + 1 + txt;
      if (pos + need + (with_opt ? OptSize(v_, q) : 0) <= limit) {
        Put16(out + pos, 0xC000 | kHeaderSize);
        Put16(out + pos + 2, kTypeTxt);
        Put16(out + pos + 4, kClassCh);
        Put32(out + pos + 6, 0);
        Put16(out + pos + 10, static_cast<uint16_t>(1 + txt));
        out[pos + 12] = static_cast<uint8_t>(txt);
        std::memcpy(out + pos + 13, v_.strings + s->offset, txt);
        pos += need;
        counts[0] = 1;
      } else {
        tc = true;
      }
    }
  } else if (q.qclass != kClassIn && q.qclass != kClassAny) {
    rcode = kRefused;  // qclass ANY is answered as IN, as Knot does
  } else if (v_.zones == nullptr || v_.zone_count == 0) {
    rcode = kRefused;
    ede = true;
  } else {
    const size_t reserve = with_opt ? OptSize(v_, q) : 0;
    Writer w(out, limit > reserve ? limit - reserve : 0, pos);
    w.AddCompressionTarget(kHeaderSize);
    Responder r(v_, &w);
    if (!r.Resolve(q.qname, q.qtype)) {
      // Did not fit: empty answer with TC (as Knot does); the client retries over TCP.
      r.tc = true;
      w.Rewind(qend);
      r.counts[0] = r.counts[1] = r.counts[2] = 0;
    }
    pos = w.pos();
    std::memcpy(counts, r.counts, sizeof(counts));
    rcode = r.rcode;
    aa = r.aa && rcode != kRefused;
    tc = r.tc;
    ede = r.refused_not_auth;
  }

  uint16_t arcount = counts[2];
  if (with_opt && pos + OptSize(v_, q) + 6 <= cap) {
    pos += PutOpt(out, pos, v_, q, rcode, ede, echo_ecs);
    ++arcount;
  }
  out[kOffFlags1] |= (aa ? kFlag1Aa : 0) | (tc ? kFlag1Tc : 0);
  out[kOffFlags2] = static_cast<uint8_t>(rcode & 0xF);
  Put16(out + kOffAncount, counts[0]);
  Put16(out + kOffNscount, counts[1]);
  Put16(out + kOffArcount, arcount);
  if (info != nullptr) {
    info->rcode = rcode;
    info->truncated = tc;
  }
  return pos;
}

}  // namespace sextant::dataplane
