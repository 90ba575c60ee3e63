// The answer engine. Flow per query: parse (header, question, EDNS) into a small struct on the
// stack, decide the response kind with at most a few hash lookups, then write the response
// sections from precompiled snapshot pieces. The response may be written over the query (the
// DPDK path answers in place): everything needed from the query is copied out before writing.
//
// Behaviour follows RFC 1034/1035 with the refinements of RFC 2308 (negative answers), 4592
// (wildcards), 6604 (rcode after CNAME), 6891 (EDNS), 7871 (ECS), 8482 (minimal ANY) and 8914
// (EDE), and matches Knot DNS where the RFCs leave room; README.md lists the deliberate
// differences.
#include "dataplane/engine/engine.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <type_traits>
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/engine/geo.h"
#include "dataplane/engine/policy.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"

namespace sextant::dataplane {

using maps::kNone;
using namespace maps::dns;  // NOLINT: the wire constants read better unqualified here

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
  v.resources = r.section<maps::Resource>(maps::kResources).data();
  v.members = r.section<maps::Member>(maps::kMembers).data();
  v.geo_maps = r.section<maps::GeoMap>(maps::kGeoMaps).data();
  v.geo_v4 = r.section<uint32_t>(maps::kGeoPrefixesV4).data();
  v.geo_v6 = r.section<uint32_t>(maps::kGeoPrefixesV6).data();
  v.geo_lists = r.section<maps::DcList>(maps::kGeoDcLists).data();
  v.generation = r.generation();
  return v;
}

namespace {

constexpr int kMaxLabels = 128;
constexpr int kMaxCnameChain = 16;
constexpr int kMaxCompress = 32;
constexpr size_t kMaxPointerTarget = 0x3FFF;   // 14 bits of offset (RFC 1035 4.1.4)
constexpr uint16_t kEdeNotAuthoritative = 20;  // RFC 8914 section 4.21

// --- Short copies and compares ---------------------------------------------------------------
// What this path copies and compares is short: names, labels, 4- and 16-byte rdata, the
// question. A libc call costs more than such a copy, so these work inline, 8 or 16 bytes at a
// time, and end with one overlapping step instead of a byte loop. They never touch a byte
// outside [p, p + n), so they are safe at the end of a section or of the packet.

// 16 bytes as one value (GCC/Clang vector extension: SSE2 on x86-64, NEON on arm64).
using Bytes16 = uint8_t __attribute__((vector_size(16)));

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// Host-order 16 bits (the rdata length prefix in the snapshot).
inline uint16_t Load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline Bytes16 Load128(const uint8_t* p) {
  Bytes16 v;
  std::memcpy(&v, p, 16);
  return v;
}
inline void Store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline void Store32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void Store128(uint8_t* p, Bytes16 v) { std::memcpy(p, &v, 16); }

// The n bytes p[0, n), 1 <= n <= 8, folded into one word for comparing. Bytes may appear twice
// (the two halves overlap for n < 8); both sides of a comparison fold the same way.
inline uint64_t Fold(const uint8_t* p, size_t n) {
  if (n >= 4) return Load32(p) | uint64_t{Load32(p + n - 4)} << 32;
  return p[0] | uint64_t{p[n / 2]} << 8 | uint64_t{p[n - 1]} << 16;
}

// Lower() on 8 bytes at once: sets 0x20 in the bytes within 'A'..'Z'. Per byte, the top bit of
// low7 + (0x80 - 'A') says low7 >= 'A' and that of low7 + (0x7F - 'Z') says low7 > 'Z' (neither
// sum carries into the next byte); the first without the second, in an ASCII byte, is a
// capital. Label length bytes (<= 63) are never letters, so whole wire names can go through.
inline uint64_t Lower8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t low7 = x & (0x7F * kOnes);
  const uint64_t ge_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t gt_z = low7 + (0x7F - 'Z') * kOnes;
  return x | ((ge_a ^ gt_z) & ~x & (0x80 * kOnes)) >> 2;
}
// The same on 16 bytes: b - 'A' < 26 (wrapping, unsigned) holds exactly for capitals.
inline Bytes16 Lower16(Bytes16 b) {
  const Bytes16 upper = reinterpret_cast<Bytes16>(b - 'A' < 26);  // 0xFF where true
  return b | (upper & 0x20);
}

// Copies n bytes; dst and src do not overlap.
inline void CopyBytes(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n >= 16) {
    for (size_t i = 0; i + 16 < n; i += 16) Store128(dst + i, Load128(src + i));
    Store128(dst + n - 16, Load128(src + n - 16));
  } else if (n >= 8) {
    const uint64_t head = Load64(src), tail = Load64(src + n - 8);
    Store64(dst, head);
    Store64(dst + n - 8, tail);
  } else if (n >= 4) {
    const uint32_t head = Load32(src), tail = Load32(src + n - 4);
    Store32(dst, head);
    Store32(dst + n - 4, tail);
  } else if (n > 0) {
    const uint8_t b0 = src[0], b1 = src[n / 2], b2 = src[n - 1];
    dst[0] = b0;
    dst[n / 2] = b1;
    dst[n - 1] = b2;
  }
}

// Copies n >= 1 bytes, lowering ASCII letters; dst and src do not overlap.
inline void CopyLower(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n >= 16) {
    for (size_t i = 0; i + 16 < n; i += 16) Store128(dst + i, Lower16(Load128(src + i)));
    Store128(dst + n - 16, Lower16(Load128(src + n - 16)));
  } else if (n >= 8) {
    const uint64_t head = Lower8(Load64(src)), tail = Lower8(Load64(src + n - 8));
    Store64(dst, head);
    Store64(dst + n - 8, tail);
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = Lower(src[i]);
  }
}

// Whether a[0, n) == b[0, n), n >= 1.
inline bool BytesEqual(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n < 8) return Fold(a, n) == Fold(b, n);
  const auto diff8 = [a, b](size_t i) { return Load64(a + i) ^ Load64(b + i); };
  if (n <= 16) return (diff8(0) | diff8(n - 8)) == 0;
  uint64_t diff = 0;
  for (size_t i = 0; i + 16 < n; i += 16) diff |= diff8(i) | diff8(i + 8);
  return (diff | diff8(n - 16) | diff8(n - 8)) == 0;
}

// Whether a[0, n) (any case) equals the lowered bytes b[0, n), ASCII case-insensitively; n >= 1.
inline bool BytesEqualLowered(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n < 8) return Lower8(Fold(a, n)) == Fold(b, n);
  for (size_t i = 0; i + 8 < n; i += 8) {
    if (Lower8(Load64(a + i)) != Load64(b + i)) return false;
  }
  return Lower8(Load64(a + n - 8)) == Load64(b + n - 8);
}

// --- Parsing ---------------------------------------------------------------------------------

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
  int labels = 0;
  for (; src[i] != 0; i += 1 + src[i]) n->off[labels++] = static_cast<uint8_t>(i);
  n->labels = static_cast<uint8_t>(labels);
  n->len = static_cast<uint8_t>(i + 1);
  CopyLower(n->data, src, i + 1);
}

struct Query {
  uint8_t opcode;
  bool rd;
  size_t question_end = kHeaderSize;  // end of the question in the query (0 = none parsed)
  bool have_question = false;
  uint16_t qtype = 0, qclass = 0;
  // A standard query for data in class IN (or ANY, answered as IN): opcode QUERY, a question,
  // QTYPE neither 0 nor a zone transfer. Set by Parse, for Answer's first test.
  bool plain = false;
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
// is malformed), labels <= 63, total <= 255. One pass over the length bytes checks the shape and
// records the label offsets, then the bytes are copied and lowered 16 at a time.
bool ParseQname(const uint8_t* p, size_t len, size_t* pos, LName* n) {
  const size_t start = *pos;
  if (ABSL_PREDICT_FALSE(start >= len)) return false;
  // Each label must leave room after it for at least the root label, inside the message and
  // within 255 octets. Then the next length byte is always in the message, and there are at
  // most 127 labels (two octets at least each), so off[] cannot fill.
  const size_t label_end = std::min(len - 1, start + 254);
  size_t i = start;
  int labels = 0;
  for (uint8_t l; (l = p[i]) != 0; i += 1 + l) {
    if (ABSL_PREDICT_FALSE(l > 63 || i + 1 + l > label_end)) return false;
    n->off[labels++] = static_cast<uint8_t>(i - start);
  }
  const size_t name_len = i + 1 - start;
  CopyLower(n->data, p + start, name_len);
  n->len = static_cast<uint8_t>(name_len);
  n->labels = static_cast<uint8_t>(labels);
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
  // Zero-padded, so that geo lookups need not mask it (maps::LookupPadded): the bits past
  // `source` in its last byte are zero already (checked above).
  std::memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
  std::memcpy(q->ecs_addr, o + 4, alen);
  return true;
}

// The OPT record whose fixed part (TYPE on) is at p[at], rdata p[rdata, rdata + rdlen), all
// inside the message. Returns false when its options are malformed; *ecs_bad for a bad ECS.
// Inlined into Parse's common case, where a call would cost about as much as the rest.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseOpt(const uint8_t* p, size_t at, size_t rdata,
                                                  uint16_t rdlen, Query* q, bool* ecs_bad) {
  q->has_opt = true;
  q->udp_size = Get16(p + at + 2);
  q->edns_version = p[at + 5];
  q->do_bit = p[at + 6] & 0x80;
  const size_t end = rdata + rdlen;
  for (size_t o = rdata; o < end;) {
    if (o + 4 > end) return false;
    const uint16_t code = Get16(p + o), olen = Get16(p + o + 2);
    if (o + 4 + olen > end) return false;
    if (code == kOptNsid) {
      q->want_nsid = true;
    } else if (code == kOptEcs) {
      if (q->has_ecs || !ParseEcs(p + o + 4, olen, q)) *ecs_bad = true;
    }
    o += 4 + olen;
  }
  return true;
}

ParseVerdict Parse(const uint8_t* p, size_t len, Query* q) {
  q->opcode = (p[kOffFlags1] >> 3) & 0xF;
  q->rd = p[kOffFlags1] & kFlag1Rd;
  const uint16_t qdcount = Get16(p + kOffQdcount);
  size_t pos = kHeaderSize;
  if (qdcount > 1) return ParseVerdict::kFormErrBare;
  if (qdcount == 1) {
    if (!ParseQname(p, len, &pos, &q->qname) || pos + 4 > len) return ParseVerdict::kFormErrBare;
    const uint16_t qtype = Get16(p + pos), qclass = Get16(p + pos + 2);
    q->qtype = qtype;
    q->qclass = qclass;
    q->plain = q->opcode == kOpQuery && qtype != 0 && qtype != kTypeAxfr && qtype != kTypeIxfr &&
               (qclass == kClassIn || qclass == kClassAny);
    pos += 4;
    q->have_question = true;
  }
  q->question_end = pos;
  const uint16_t an = Get16(p + kOffAncount), ns = Get16(p + kOffNscount),
                 ar = Get16(p + kOffArcount);
  bool ecs_bad = false;
  if (an == 0 && ns == 0 && ar == 1 && pos + 11 <= len && p[pos] == 0 &&
      Get16(p + pos + 1) == kTypeOpt) {
    // The usual shape, without the general loop below: the question, then one OPT record
    // owned by the root. What the loop would check, in the same order.
    const uint16_t rdlen = Get16(p + pos + 9);
    if (pos + 11 + rdlen > len) return ParseVerdict::kFormErrQuestion;
    if (!ParseOpt(p, pos + 1, pos + 11, rdlen, q, &ecs_bad)) {
      return ParseVerdict::kFormErrQuestion;
    }
    pos += 11 + rdlen;
  } else {
    const uint32_t total = uint32_t{an} + ns + ar;
    for (uint32_t r = 0; r < total; ++r) {
      if (!SkipName(p, len, &pos) || pos + 10 > len) return ParseVerdict::kFormErrQuestion;
      const uint16_t type = Get16(p + pos);
      const uint16_t rdlen = Get16(p + pos + 8);
      const size_t rdata = pos + 10;
      if (rdata + rdlen > len) return ParseVerdict::kFormErrQuestion;
      if (type == kTypeOpt) {
        // One OPT, in the additional section only (RFC 6891 section 6.1.1). Its owner should
        // be the root; like Knot we accept any owner rather than fail an otherwise good query.
        if (r < uint32_t{an} + ns || q->has_opt) return ParseVerdict::kFormErrQuestion;
        if (!ParseOpt(p, pos, rdata, rdlen, q, &ecs_bad)) return ParseVerdict::kFormErrQuestion;
      }
      pos = rdata + rdlen;
    }
  }
  if (pos != len) return ParseVerdict::kFormErrQuestion;  // trailing garbage
  if (ecs_bad) return ParseVerdict::kFormErrEdns;
  return ParseVerdict::kOk;
}

// --- Writing ---------------------------------------------------------------------------------

// Writes the response. `limit` excludes the room reserved for the OPT record.
//
// Name compression (RFC 1035 4.1.4): every name written may later be pointed at, whole or by a
// suffix. The names we may point at ("targets": the question, then each name written with at
// least one literal label, starting below 0x3FFF, at most kMaxCompress of them) are kept as a
// tree of suffixes, built as they are written: a node per literal label, whose parent is the
// rest of the name (the next label, or the node a pointer led to). Writing a name walks the tree
// along the name's labels backwards; the deepest node reached is the longest suffix already in
// the packet, and its offset is the pointer. Since every name is compressed as far as the tree
// allows before its own labels join it, a suffix is never in the tree twice, so the result is
// the one of comparing with every target in turn (what RFC 1035 describes), without reading
// them back from the packet each time. The question is the first chain of the tree, and most
// names end like it, so the walk starts with one byte comparison against the question.
//
// A label past offset 0x3FFF is never pointed at (a pointer has 14 bits), but a longer match
// through it still is; names are compared whole, whatever their number of labels.
class Writer {
 public:
  Writer(uint8_t* buf, size_t limit, size_t pos, const LName& qname)
      : b_(buf), limit_(limit), pos_(pos), qname_(qname) {}

  size_t pos() const { return pos_; }
  void Rewind(size_t pos) {
    pos_ = pos;
    if (!names_started_) return;
    while (ncomp_ > 0 && comp_[ncomp_ - 1] >= pos) --ncomp_;
    // Nodes were added in packet order of their targets and each target's labels lie after
    // its start, so the nodes of dropped targets are the last ones; the newest node is always
    // its parent's first child.
    while (nnodes_ > 1 && node_[nnodes_ - 1].pos >= pos) {
      const Node& n = node_[--nnodes_];
      node_[n.parent].first_child = n.next_sibling;
    }
  }

  // Room for n more bytes: where they go, or nullptr when they do not fit. The caller fills
  // them all.
  uint8_t* Reserve(size_t n) {
    if (ABSL_PREDICT_FALSE(pos_ + n > limit_)) return nullptr;
    uint8_t* p = b_ + pos_;
    pos_ += n;
    return p;
  }
  bool Put(const uint8_t* p, size_t n) {
    uint8_t* dst = Reserve(n);
    if (dst == nullptr) return false;
    CopyBytes(dst, p, n);
    return true;
  }
  bool PutPointer(uint16_t target) {
    uint8_t* dst = Reserve(2);
    if (dst == nullptr) return false;
    Put16(dst, static_cast<uint16_t>(0xC000 | target));
    return true;
  }
  void Set16(size_t at, uint16_t v) { Put16(b_ + at, v); }

  // Writes an uncompressed wire name (any case), compressed against the targets: the longest
  // matching suffix (ASCII case-insensitively) becomes a pointer. Sets *name_len to the
  // name's length when given.
  bool PutName(const uint8_t* name, size_t* name_len = nullptr) {
    if (ABSL_PREDICT_FALSE(!names_started_)) StartNames();
    uint8_t nl[kMaxLabels];  // label offsets in `name`
    int n = 0;
    size_t end = 0;  // offset of the root label
    for (; name[end] != 0; end += 1 + name[end]) nl[n++] = static_cast<uint8_t>(end);
    if (name_len != nullptr) *name_len = end + 1;
    // Compared in lowercase: names in rdata keep their case, the tree's keys and the question's
    // copy are lowered.
    uint8_t lower[256];
    CopyLower(lower, name, end + 1);

    int best = 0;         // labels matched
    int best_node = 0;    // their node (0 = the root: nothing matched)
    uint16_t target = 0;  // and its offset
    if (ABSL_PREDICT_TRUE(!tree_full_)) {
      // Most names end like the question (the zone's own names do). That part of the walk is
      // the question's own nodes, node i for its last i labels, so it is found with one
      // comparison of bytes; the walk goes on from there.
      int node = QuestionSuffix(lower, nl, n, end);
      best = best_node = node;
      for (int k = n - 1 - node; k >= 0; --k) {
        node = FindChild(node, lower + nl[k]);
        if (node == 0) break;
        // Labels past 0x3FFF (only in a long TCP answer) are in the tree but cannot be pointed
        // at; a longer match through them still can be.
        if (node_[node].pos <= kMaxPointerTarget) {
          best = n - k;
          best_node = node;
        }
      }
      if (best > 0) target = node_[best_node].pos;
    } else {
      best = MatchByScan(lower, nl, n, &target);
    }

    const size_t start = pos_;
    const size_t literal = best > 0 ? nl[n - best] : end;
    uint8_t* dst = Reserve(literal + (best > 0 ? 2 : 1));
    if (dst == nullptr) return false;
    CopyBytes(dst, name, literal);
    if (best > 0) {
      Put16(dst + literal, static_cast<uint16_t>(0xC000 | target));
    } else {
      dst[literal] = 0;
    }
    if (literal > 0 && start < kMaxPointerTarget && ncomp_ < kMaxCompress) {
      comp_[ncomp_++] = static_cast<uint16_t>(start);
      if (!tree_full_) AddNodes(start, lower, nl, n - best, best_node);
    }
    return true;
  }

 private:
  // Node 0 is the root (the empty suffix); indices fit a byte. A name has at most 127 labels,
  // so the question always fits; a packet whose targets have more labels than this between
  // them (only long names in long answers) goes on with MatchByScan.
  static constexpr int kMaxNodes = 256;
  static_assert(kMaxNodes > kMaxLabels, "the question's labels always fit");
  struct Node {
    uint64_t key;          // LabelKey of its first label
    uint16_t pos;          // offset of this suffix's first label in the packet
    uint8_t parent;        // the suffix without that label
    uint8_t first_child;   // 0 = none (the root is nobody's child)
    uint8_t next_sibling;  // 0 = none
  };

  // A lowered label's first 8 bytes (its length byte first) as one word: two labels of up to 7
  // octets are equal exactly when their keys are; longer ones compare the rest too. So finding
  // a child is one comparison of words per sibling, mostly.
  static uint64_t LabelKey(const uint8_t* label) {
    const size_t n = 1 + label[0];
    return n >= 8 ? Load64(label) : Fold(label, n);
  }

  // The targets, starting with the question. Set up only when a name is first written: a plain
  // answer points at the question and writes no name.
  //
  // The question's labels are nodes 1 to L, node i for its last i labels. Their keys are never
  // needed: a walk starts at the question's node for the longest suffix the name shares with
  // the question (QuestionSuffix), so the question's next label is known not to match there.
  // Key 0 (no label has length 0) keeps FindChild from ever matching them.
  ABSL_ATTRIBUTE_NOINLINE void StartNames() {
    names_started_ = true;
    comp_[0] = kHeaderSize;
    ncomp_ = 1;
    tree_full_ = false;
    for (uint64_t& w : question_labels_) w = 0;
    const int labels = qname_.labels;
    node_[0].first_child = labels > 0 ? 1 : 0;
    for (int i = 1; i <= labels; ++i) {
      const uint8_t off = qname_.off[labels - i];
      node_[i] = Node{.key = 0,
                      .pos = static_cast<uint16_t>(kHeaderSize + off),
                      .parent = static_cast<uint8_t>(i - 1),
                      .first_child = static_cast<uint8_t>(i < labels ? i + 1 : 0),
                      .next_sibling = 0};
      question_labels_[off / 64] |= uint64_t{1} << (off % 64);
    }
    nnodes_ = labels + 1;
  }

  // How many labels the lowered name `lower` (label offsets nl[0, n), root label at `end`)
  // shares at its end with the question. A suffix of the name from one of its labels is a
  // suffix of the question when the question has a label starting as far from its end and the
  // bytes from there on are the same. The first such suffix is the longest.
  int QuestionSuffix(const uint8_t* lower, const uint8_t* nl, int n, size_t end) const {
    for (int k = 0; k < n; ++k) {
      const size_t bytes = end + 1 - nl[k];  // root label included
      if (bytes > qname_.len) continue;
      const size_t at = qname_.len - bytes;
      if ((question_labels_[at / 64] >> (at % 64) & 1) != 0 &&
          BytesEqual(lower + nl[k], qname_.data + at, bytes)) {
        return n - k;
      }
    }
    return 0;
  }

  // Adds the first `count` labels of the name written at `start` (lowered: `lower`, label
  // offsets `nl`), the last one as a child of `parent`.
  void AddNodes(size_t start, const uint8_t* lower, const uint8_t* nl, int count, int parent) {
    if (ABSL_PREDICT_FALSE(nnodes_ + count > kMaxNodes)) {
      tree_full_ = true;
      return;
    }
    for (int k = count - 1; k >= 0; --k) {
      Node& n = node_[nnodes_];
      n.key = LabelKey(lower + nl[k]);
      n.pos = static_cast<uint16_t>(start + nl[k]);
      n.parent = static_cast<uint8_t>(parent);
      n.first_child = 0;
      n.next_sibling = node_[parent].first_child;
      node_[parent].first_child = static_cast<uint8_t>(nnodes_);
      parent = nnodes_++;
    }
  }

  // The child of `parent` whose first label is the lowered `label`, or 0.
  int FindChild(int parent, const uint8_t* label) const {
    const uint64_t key = LabelKey(label);
    for (int c = node_[parent].first_child; c != 0; c = node_[c].next_sibling) {
      if (node_[c].key == key &&
          (label[0] <= 7 || BytesEqualLowered(b_ + node_[c].pos + 8, label + 8, label[0] - 7))) {
        return c;
      }
    }
    return 0;
  }

  // The slow way, once the tree is full: compares the lowered name with each target, reading
  // the target's labels back from the packet. Returns the labels matched and sets *target.
  ABSL_ATTRIBUTE_NOINLINE int MatchByScan(const uint8_t* lower, const uint8_t* nl, int n,
                                          uint16_t* target) const {
    int best = 0;
    uint16_t pl[kMaxLabels];
    for (int e = 0; e < ncomp_; ++e) {
      const int m = PacketLabels(comp_[e], pl);
      int k = 0;
      while (k < n && k < m) {
        const uint8_t* a = b_ + pl[m - 1 - k];
        const uint8_t* b = lower + nl[n - 1 - k];
        if (a[0] != b[0] || !BytesEqualLowered(a + 1, b + 1, a[0])) break;
        ++k;
      }
      while (k > 0 && pl[m - k] > kMaxPointerTarget) --k;
      if (k > best) {
        best = k;
        *target = pl[m - k];
        if (best == n) break;
      }
    }
    return best;
  }
  // Label positions of the (possibly compressed) name we wrote at `off`. A name has at most
  // 127 labels, and pointers only lead backwards to other targets, so 256 steps reach its end.
  int PacketLabels(uint16_t off, uint16_t* pos) const {
    int n = 0;
    size_t i = off;
    for (int steps = 0; steps < 256 && n < kMaxLabels; ++steps) {
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

  uint8_t* b_;
  size_t limit_;
  size_t pos_;
  const LName& qname_;
  bool names_started_ = false;  // the members below are set
  bool tree_full_;
  int ncomp_;
  int nnodes_;
  uint64_t question_labels_[4];  // bit i: a label of the question starts at qname_.data[i]
  uint16_t comp_[kMaxCompress];  // target offsets, in packet order
  Node node_[kMaxNodes];
};

// An owner name: a pointer to a name already in the packet, or a snapshot name to compress.
struct Owner {
  uint16_t ptr = 0;               // nonzero: write a pointer to this offset
  const uint8_t* name = nullptr;  // else this uncompressed name
};

enum class Section { kAnswer, kAuthority, kAdditional };

// TYPE, CLASS and TTL of an RR in wire order: the same for every RR of a set.
inline uint64_t FixedFields(uint16_t type, uint32_t ttl) {
  uint8_t f[8];
  Put16(f, type);
  Put16(f + 2, kClassIn);
  Put32(f + 4, ttl);
  return Load64(f);
}

// The 10 fixed bytes (owner pointer, TYPE, CLASS, TTL) shared by every RR of a set whose owner
// is already in the packet and whose rdata has no names, and the writer of one such RR.
class RecordHead {
 public:
  RecordHead(uint16_t owner, uint16_t type, uint32_t ttl) {
    uint8_t h[10];
    Put16(h, static_cast<uint16_t>(0xC000 | owner));
    Put16(h + 2, type);
    Put16(h + 4, kClassIn);
    Put32(h + 6, ttl);
    head0_ = Load64(h);
    head6_ = Load32(h + 6);
  }
  // Writes the RR for `rd` (`u16 len | rdata`) at p; returns the end.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint8_t* Write(uint8_t* p, const uint8_t* rd) const {
    const uint16_t rdlen = Load16(rd);
    Store64(p, head0_);
    Store32(p + 6, head6_);  // the TTL; bytes 6-7 are written twice, with the same value
    Put16(p + 10, rdlen);
    // A and AAAA: fixed-size copies the compiler does in one or two moves.
    if (rdlen == 4) {
      std::memcpy(p + 12, rd + 2, 4);
    } else if (rdlen == 16) {
      std::memcpy(p + 12, rd + 2, 16);
    } else {
      CopyBytes(p + 12, rd + 2, rdlen);
    }
    return p + 12 + rdlen;
  }

 private:
  uint64_t head0_;
  uint32_t head6_;
};

// The record writer of the policy writers, whose rdata is kLen (4: A, 16: AAAA) bytes under an
// owner already in the packet: the 12 bytes before the rdata (owner pointer, TYPE, CLASS, TTL,
// RDLENGTH) are worked out once per answer, in registers. An A record is then one 16-byte store
// of that head with the address inserted in its last lane; an AAAA record three stores.
template <int kLen>
class FixedRecord {
  static_assert(kLen == 4 || kLen == 16);

 public:
  FixedRecord(uint16_t owner, uint16_t type, uint32_t ttl) {
    uint64_t head0;
    uint32_t head8;
    if constexpr (std::endian::native == std::endian::little) {
      // The wire bytes as little-endian words, by shifts (a byte array would go through memory).
      const uint64_t ttl_be = __builtin_bswap32(ttl);
      head0 = uint64_t{__builtin_bswap16(static_cast<uint16_t>(0xC000 | owner))} |
              uint64_t{__builtin_bswap16(type)} << 16 |
              uint64_t{__builtin_bswap16(kClassIn)} << 32 | (ttl_be & 0xFFFF) << 48;
      head8 = static_cast<uint32_t>(ttl_be >> 16) |
              uint32_t{__builtin_bswap16(static_cast<uint16_t>(kLen))} << 16;
    } else {
      uint8_t h[12];
      Put16(h, static_cast<uint16_t>(0xC000 | owner));
      Put16(h + 2, type);
      Put16(h + 4, kClassIn);
      Put32(h + 6, ttl);
      Put16(h + 10, kLen);
      head0 = Load64(h);
      head8 = Load32(h + 8);
    }
#if defined(__SSE4_1__)
    if constexpr (kLen == 4) {
      rec_ = _mm_set_epi64x(head8, static_cast<int64_t>(head0));
      return;
    }
#endif
    head0_ = head0;
    head8_ = head8;
  }

  // Writes the record whose rdata is at `rdata` (kLen bytes) at p; returns its end.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint8_t* Write(uint8_t* p, const uint8_t* rdata) {
#if defined(__SSE4_1__)
    if constexpr (kLen == 4) {
      uint32_t addr;
      std::memcpy(&addr, rdata, 4);
      rec_ = _mm_insert_epi32(rec_, static_cast<int>(addr), 3);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), rec_);
      return p + 16;
    }
#endif
    Store64(p, head0_);
    Store32(p + 8, head8_);
    std::memcpy(p + 12, rdata, kLen);
    return p + 12 + kLen;
  }

 private:
#if defined(__SSE4_1__)
  __m128i rec_;
#endif
  uint64_t head0_ = 0;
  uint32_t head8_ = 0;
};

// kTimes<k>.v[i] = k * i for i < 16 (as one byte): a byte shuffle by member indices gives their
// scaled offsets.
template <uint32_t k>
struct TimesTable {
  alignas(16) uint8_t v[16];
  constexpr TimesTable() : v() {
    for (uint32_t i = 0; i < 16; ++i) v[i] = static_cast<uint8_t>(k * i);
  }
};
template <uint32_t k>
inline constexpr TimesTable<k> kTimes;
static_assert(9 * 15 < 256);

class Responder {
 public:
  Responder(const SnapshotView& v, Writer* w) : v_(v), w_(*w) {}

  uint16_t counts[3] = {0, 0, 0};
  bool tc = false;
  bool aa = false;
  uint16_t rcode = kNoError;
  bool refused_not_auth = false;  // add EDE 20 to the OPT
  uint16_t last_name_off = 0;     // where the last single-name rdata was written (CNAME target)
  // Geo resources: who asks (set by Answer), and the ECS scope of what was answered (the
  // largest of the geo resources used; 0 when the answer does not depend on the client).
  const ClientInfo* client = nullptr;
  const Query* query = nullptr;
  uint8_t ecs_scope = 0;

  // The addresses geo resources steer by (dataplane/engine/geo.h): the packet source, and the ECS
  // address when the option is present with a source prefix length above 0.
  void FillGeoClient(GeoClient* g) const {
    g->source = client->addr;
    g->source_family = client->family == 4 ? maps::kFamilyIpv4 : maps::kFamilyIpv6;
    if (query->has_ecs && query->ecs_source > 0) {
      g->ecs = query->ecs_addr;
      g->ecs_family = query->ecs_family_lo;  // ParseEcs accepted only 1 and 2
      g->ecs_source = query->ecs_source;
    }
  }

  // Writes a whole RRset or nothing.
  bool PutRRset(Owner owner, const maps::RRset& rs, Section s, uint32_t ttl) {
    const bool ok = ABSL_PREDICT_TRUE(owner.ptr != 0 && rs.rdata_names == maps::kRdataNoNames)
                        ? PutPlainRRset(owner.ptr, rs, ttl)
                        : PutRRsetByRR(owner, rs, ttl);
    if (ok) counts[static_cast<int>(s)] += rs.rr_count;
    return ok;
  }

  // Additional-section records for `rs`, one RR at a time: what does not fit is left out, and
  // only missing glue sets TC (RFC 9471: in-domain glue is required for a usable referral).
  void PutAdditionals(const maps::RRset& rs, bool glue) {
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
          if (glue) tc = true;
        }
        rd += 2 + rdlen;
      }
    }
  }

  // Closest encloser of `name`: the deepest existing node that is `name` or an ancestor.
  // Sets *exact when it is `name` itself.
  uint32_t ClosestEncloser(const LName& name, bool* exact) const {
    if (ABSL_PREDICT_FALSE(v_.buckets == nullptr)) return kNone;
    uint32_t n = FindNode(name.data, name.len);
    *exact = n != kNone;
    // Then the ancestors: suffix i starts at label i (the root label after the last one).
    for (int i = 1; n == kNone && i <= name.labels; ++i) {
      const size_t off = i < name.labels ? name.off[i] : name.len - 1;
      n = FindNode(name.data + off, name.len - off);
    }
    return n;
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
      zone = node->zone;
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
      } else {
        rs = FindRRset(*node, qtype);
      }
      // DS at the apex of a child zone whose parent we also serve belongs to the parent
      // (RFC 4035 3.1.4.1): its DS records (kept on this node) or the parent's NODATA.
      const uint32_t neg_zone =
          (qtype == kTypeDs && node->parent_zone != kNone) ? node->parent_zone : node->zone;
      if (rs != nullptr && ABSL_PREDICT_FALSE(rs->resource != kNone)) {
        const uint8_t* picked = nullptr;
        const PolicyOutcome o = PutDynamic(owner, *rs, &picked);
        if (o == PolicyOutcome::kNoData) return PutNegative(neg_zone);
        return o == PolicyOutcome::kServFail || picked != nullptr;
      }
      if (rs != nullptr) {
        if (!PutRRset(owner, *rs, Section::kAnswer, rs->ttl)) return false;
        if (rs->additional_count != 0) PutAdditionals(*rs, false);
        return true;
      }
      if (!(node->flags & maps::kNodeHasCname) || chain >= kMaxCnameChain) {
        return PutNegative(neg_zone);
      }
      rs = FindRRset(*node, kTypeCname);
      const uint8_t* cname_rd = v_.rdata + rs->rdata_offset;
      if (ABSL_PREDICT_FALSE(rs->resource != kNone)) {
        // A CNAME resource's rdata is a name: never PutDynamic's fast path.
        const PolicyOutcome o = PutSelected(owner, *rs, &cname_rd);
        if (o == PolicyOutcome::kServFail) return true;
        if (o == PolicyOutcome::kNoData) return PutNegative(node->zone);
        if (cname_rd == nullptr) return false;
      } else if (!PutRRset(owner, *rs, Section::kAnswer, rs->ttl)) {
        return false;
      }
      visited[chain++] = ce;
      IndexName(cname_rd + 2, &target);
      name = &target;
      owner = last_name_off < 0x3FFF ? Owner{last_name_off, nullptr} : Owner{0, cname_rd + 2};
    }
  }

  // Writes what the resource behind a policy-driven RRset picks for this query. On kAnswer,
  // *picked is the first record written (the CNAME target for CNAME resources), or null when
  // the records did not fit. SERVFAIL is set here; NODATA is left to the caller.
  // Out of line: inlined, it makes Resolve too big for the compiler to inline into Answer, and
  // every plain answer pays for that. It only dispatches: one indexed tail jump, by the
  // resource's dispatch id (maps::FastDispatchOf, worked out by the compiler), to its writer.
  ABSL_ATTRIBUTE_ALWAYS_INLINE PolicyOutcome PutDynamic(Owner owner, const maps::RRset& rs,
                                                        const uint8_t** picked) {
    const maps::Resource& r = v_.resources[rs.resource];
    // The fast writers put records under an owner already in the packet.
    if (ABSL_PREDICT_FALSE(owner.ptr == 0)) return PutSelected(owner, rs, picked);
    return kWriters[(r.flags >> maps::kFastDispatchShift) & v_.dispatch_mask](*this, owner.ptr, rs,
                                                                              r, r.ttl, picked);
  }

  // PutDynamic through the general evaluator (nesting, degraded states, names in rdata). Out of
  // line: its Selection is a 0.5 KiB frame that the fast path should not pay for.
  ABSL_ATTRIBUTE_NOINLINE PolicyOutcome PutSelected(Owner owner, const maps::RRset& rs,
                                                    const uint8_t** picked) {
    Selection sel;
    GeoClient geo;
    FillGeoClient(&geo);
    sel.client = &geo;
    EvaluateResource(v_, v_.health, rs.resource, &sel, nullptr);
    ecs_scope = std::max(ecs_scope, sel.scope);
    if (sel.outcome == PolicyOutcome::kServFail) {
      rcode = kServFail;
      aa = false;
      return sel.outcome;
    }
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
  // A writer: answers resource r for rs under an owner already in the packet, with TTL `ttl`
  // (r's own, or less when r is a geo resource's site), or hands rs to the general evaluator.
  using WriterFn = PolicyOutcome (*)(Responder& self, uint16_t owner, const maps::RRset& rs,
                                     const maps::Resource& r, uint32_t ttl, const uint8_t** picked);

  // kGeo: the geo resource's lookup, then writer `writer` for the site it picks.
  template <typename H, bool kGeo>
  static constexpr WriterFn WriterFor(int writer) {
    switch (writer) {
      case maps::kWriterFailover:
        return &WriteFast<H, maps::kWriterFailover, kGeo>;
      case maps::kWriterWeighted:
        return &WriteFast<H, maps::kWriterWeighted, kGeo>;
      case maps::kWriterShuffled:
        return &WriteFast<H, maps::kWriterShuffled, kGeo>;
      case maps::kWriterOneA:
        return &WriteOne<H, 4, kGeo>;
      case maps::kWriterOneAaaa:
        return &WriteOne<H, 16, kGeo>;
#if defined(__SSE4_1__)
      case maps::kWriterSampleA:
        return &WriteSample<H, 4, kGeo>;
      case maps::kWriterSampleAaaa:
        return &WriteSample<H, 16, kGeo>;
#else
      case maps::kWriterSampleA:
      case maps::kWriterSampleAaaa:
        return &WriteFast<H, maps::kWriterShuffled, kGeo>;
#endif
      default:
        return &WriteFast<H, maps::kWriterRun, kGeo>;
    }
  }
  // The writers by dispatch id (writer << 2 | health accessor); ids no resource has go to the
  // general evaluator too.
  static constexpr std::array<WriterFn, maps::kFastDispatchCount> MakeWriters() {
    namespace pi = policy_internal;
    std::array<WriterFn, maps::kFastDispatchCount> t{};
    for (WriterFn& f : t) f = &WriteGeneral;
    for (const int w :
         {maps::kWriterRun, maps::kWriterFailover, maps::kWriterWeighted, maps::kWriterShuffled,
          maps::kWriterSampleA, maps::kWriterSampleAaaa, maps::kWriterOneA, maps::kWriterOneAaaa}) {
      t[w << 2 | maps::kFastNoHealth] = WriterFor<pi::NoHealth, false>(w);
      t[w << 2 | maps::kFastHealthRun] = WriterFor<pi::RunHealth, false>(w);
      t[w << 2 | maps::kFastHealthIndexed] = WriterFor<pi::IndexedHealth, false>(w);
      const int g = maps::kWriterGeoSites + w;
      t[g << 2 | maps::kFastNoHealth] = WriterFor<pi::NoHealth, true>(w);
      t[g << 2 | maps::kFastHealthRun] = WriterFor<pi::RunHealth, true>(w);
      t[g << 2 | maps::kFastHealthIndexed] = WriterFor<pi::IndexedHealth, true>(w);
    }
    t[maps::kWriterGeo << 2] = &WriteGeo;
    return t;
  }
  static const std::array<WriterFn, maps::kFastDispatchCount> kWriters;

  static PolicyOutcome WriteGeneral(Responder& self, uint16_t owner, const maps::RRset& rs,
                                    const maps::Resource&, uint32_t, const uint8_t** picked) {
    return self.PutSelected(Owner{owner, nullptr}, rs, picked);
  }

  // A geo resource whose client's first datacenter answers from an all-up run (the usual case):
  // the lookup, then the writer of that site's sub-resource, capped at the geo resource's TTL.
  // Anything else (a site down, nesting below the site, ttl_when_down on the geo resource) goes
  // to the general evaluator.
  static PolicyOutcome WriteGeo(Responder& self, uint16_t owner, const maps::RRset& rs,
                                const maps::Resource& r, uint32_t, const uint8_t** picked) {
    const maps::Member* m = self.GeoSite(r);
    if (m != nullptr && m->health == kNone && r.ttl_when_down == kNone) {
      const maps::Resource& sub = self.v_.resources[m->ref];
      // A site that is itself geo would not cap at r's TTL: the general evaluator does that.
      if (sub.flags & maps::kResourceRdataRun) {
        return kWriters[(sub.flags >> maps::kFastDispatchShift) & self.v_.dispatch_mask](
            self, owner, rs, sub, std::min(sub.ttl, r.ttl), picked);
      }
    }
    return self.PutSelected(Owner{owner, nullptr}, rs, picked);
  }

  // The member of geo or latency resource g (its site: a sub-resource) for this client's first
  // datacenter, or null when g serves none there (the general evaluator then decides). Sets
  // ecs_scope first: if the site declines, the general evaluator makes the same lookup and
  // reports at least this scope, so the maximum is unchanged. Out of line and calling nothing,
  // so it needs no registers saved; the writers that use it keep theirs for the writing.
  // It looks up what GeoLookup would (the ECS address when there is a usable one and g uses
  // it, else the packet's source), straight from the parsed query, with maps::LookupPadded
  // (ParseEcs zero-pads the ECS address, so no masks).
  ABSL_ATTRIBUTE_NOINLINE const maps::Member* GeoSite(const maps::Resource& g) {
    const maps::GeoMap& map = v_.geo_maps[g.count];
    const maps::PrefixTableView t = GeoTable(v_, map);
    maps::LookupResult lr;
    if (query->has_ecs && query->ecs_source > 0 && g.order == maps::kGeoEcsUse) {
      lr = maps::LookupPadded(t, query->ecs_addr, query->ecs_family_lo, query->ecs_source);
      ecs_scope = std::max(ecs_scope, static_cast<uint8_t>(lr.scope));
    } else {
      lr = client->family == 4 ? maps::LookupPadded(t, client->addr, maps::kFamilyIpv4, 32)
                               : maps::LookupPadded(t, client->addr, maps::kFamilyIpv6, 128);
    }
    const maps::DcList& list = v_.geo_lists[map.list_first + lr.list];
    const maps::Member* m = v_.members + g.member_first;
    const uint32_t k = GeoMemberOf(m, g, list.dcs[0]);
    return k < g.member_count ? &m[k] : nullptr;
  }

  // The resource a writer answers: r itself, or (kGeo) the site the lookup picks for this
  // client, answered with at most r's TTL (*ttl); null when r serves no site there.
  template <bool kGeo>
  ABSL_ATTRIBUTE_ALWAYS_INLINE const maps::Resource* Answering(const maps::Resource& r,
                                                               uint32_t* ttl) {
    if constexpr (!kGeo) return &r;
    const maps::Member* site = GeoSite(r);
    if (site == nullptr) return nullptr;
    const maps::Resource* sub = &v_.resources[site->ref];
    *ttl = std::min(sub->ttl, r.ttl);
    return sub;
  }

  // A resource with one member (maps::kWriterOneA/Aaaa): that member when it is up, whatever
  // the kind (static, failover, weighted, multivalue all answer a lone member that is up, with
  // the resource's TTL); else the general evaluator (the all-down rule). kGeo as for WriteFast.
  template <typename H, int kLen, bool kGeo>
  static PolicyOutcome WriteOne(Responder& self, uint16_t owner, const maps::RRset& rs,
                                const maps::Resource& geo_or_r, uint32_t ttl,
                                const uint8_t** picked) {
    namespace pi = policy_internal;
    const maps::Resource* rp = self.Answering<kGeo>(geo_or_r, &ttl);
    if (rp == nullptr) return self.PutSelected(Owner{owner, nullptr}, rs, picked);
    const maps::Resource& r = *rp;
    const H h = pi::HealthOf<H>(self.v_.health, self.v_.members + r.member_first, r);
    if ((h.Bad(0) & pi::kBadBits) != 0) return self.PutSelected(Owner{owner, nullptr}, rs, picked);
    uint8_t* p = self.w_.Reserve(12 + kLen);
    const uint8_t* const rd = self.v_.rdata + r.rdata_first;
    *picked = p == nullptr ? nullptr : rd;
    if (p != nullptr) {
      FixedRecord<kLen>(owner, kLen == 4 ? kTypeA : kTypeAaaa, ttl).Write(p, rd + 2);
      ++self.counts[0];
    }
    return PolicyOutcome::kAnswer;
  }

  // One fast writer: picks (PickFast's rules for that kind) and writes; when the pick declines,
  // a tail call to the general evaluator. One per kind and health accessor, so each holds only
  // its own loops, and it calls nothing that returns to it.
  //
  // kGeo: r is a geo or latency resource whose every site this writer answers (the compiler's
  // GeoDispatchOf): the lookup picks the site, which is answered with at most r's TTL, in the
  // same function (a separate site writer would save and restore its registers again).
  template <typename H, int kWriter, bool kGeo>
  static PolicyOutcome WriteFast(Responder& self, uint16_t owner, const maps::RRset& rs,
                                 const maps::Resource& geo_or_r, uint32_t ttl,
                                 const uint8_t** picked) {
    namespace pi = policy_internal;
    const maps::Resource* rp = self.Answering<kGeo>(geo_or_r, &ttl);
    if (rp == nullptr) return self.PutSelected(Owner{owner, nullptr}, rs, picked);
    const maps::Resource& r = *rp;
    const maps::Member* m = self.v_.members + r.member_first;
    const H h = pi::HealthOf<H>(self.v_.health, m, r);
    FastPick f;
    bool ok;
    if constexpr (kWriter == maps::kWriterFailover) {
      ok = pi::PickFailover(h, r, &f);
    } else if constexpr (kWriter == maps::kWriterWeighted) {
      ok = pi::PickWeighted(h, m, r, &f);
    } else if constexpr (kWriter == maps::kWriterShuffled) {
      f.run = false;
      ok = pi::PickShuffledImpl(h, r, &f);
    } else {
      ok = pi::PickStaticRun(h, r, &f);
    }
    if (!ok) return self.PutSelected(Owner{owner, nullptr}, rs, picked);
    f.ttl = ttl;
    return self.PutPicked(owner, r, f, picked);
  }

  // Multivalue over a run of n <= 16 members, all A (kLen 4) or all AAAA (16), without
  // ttl_when_down (maps::kWriterSampleA/Aaaa): the sample is drawn in a vector register
  // (SampleSmallInline) and written straight from it, when every member drawn is up; else the
  // general evaluator draws again among the up members (so the answer is still a uniform
  // sample of them: see PickFast). kGeo as for WriteFast.
#if defined(__SSE4_1__)
  template <typename H, int kLen, bool kGeo>
  static PolicyOutcome WriteSample(Responder& self, uint16_t owner, const maps::RRset& rs,
                                   const maps::Resource& geo_or_r, uint32_t ttl,
                                   const uint8_t** picked) {
    namespace pi = policy_internal;
    const maps::Resource* rp = self.Answering<kGeo>(geo_or_r, &ttl);
    if (rp == nullptr) return self.PutSelected(Owner{owner, nullptr}, rs, picked);
    const maps::Resource& r = *rp;
    const uint32_t n = r.member_count;
    const uint32_t keep = std::min<uint32_t>(r.count, n);
    const __m128i x = pi::SampleSmallInline(n, keep);
    const H h = pi::HealthOf<H>(self.v_.health, self.v_.members + r.member_first, r);
    // Usually every member is up, which is cheaper to see than which of them were drawn.
    if (!pi::AllUpSmall(h, n)) {
      alignas(16) uint8_t idx[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(idx), x);
      if (!pi::DrawnUp(h, n, keep, x, idx + 16 - keep)) {
        return self.PutSelected(Owner{owner, nullptr}, rs, picked);
      }
    }
    constexpr size_t kRecord = 12 + kLen;
    uint8_t* p = self.w_.Reserve(keep * kRecord);
    if (p == nullptr) {
      *picked = nullptr;
      return PolicyOutcome::kAnswer;
    }
    const uint8_t* const rd = self.v_.rdata + r.rdata_first + 2;  // member 0's address
    // Member k's address is at rd + 2 * kHalf * k (the run's stride is 2 + kLen = 2 * kHalf):
    // one byte shuffle turns the whole sample into those kHalf * k (a byte each: at most 135).
    constexpr uint32_t kHalf = (2 + kLen) / 2;
    const __m128i half =
        _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(kTimes<kHalf>.v)), x);
    // A record written (only CNAME resources, never answered here, need the first).
    *picked = rd - 2 + 2 * static_cast<uint32_t>(_mm_extract_epi8(half, 15));
    // The members drawn are bytes 16 - keep .. 15. Any fixed order of a uniform ordered sample
    // is one too, so they are written from the lowest of those bytes up.
    FixedRecord<kLen> rec(owner, kLen == 4 ? kTypeA : kTypeAaaa, ttl);
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

  // `count` (1..8) records at p, for the members whose half-offsets are the low `count` bytes
  // of `halves`, lowest first. Returns the end.
  template <int kLen>
  ABSL_ATTRIBUTE_ALWAYS_INLINE static uint8_t* WriteDrawn(uint8_t* p, FixedRecord<kLen>& rec,
                                                          const uint8_t* rd, uint64_t halves,
                                                          uint32_t count) {
    for (uint32_t i = 0; i < count; ++i, halves >>= 8) p = rec.Write(p, rd + 2 * (halves & 0xFF));
    return p;
  }
#endif

  // PutDynamic for what PickFast chose: the members' records straight from the resource's rdata
  // run (every one the same size, so one size check covers them), under a known owner.
  ABSL_ATTRIBUTE_ALWAYS_INLINE PolicyOutcome PutPicked(uint16_t owner, const maps::Resource& r,
                                                       const FastPick& f, const uint8_t** picked) {
    const size_t stride = r.rdata_stride;
    uint8_t* p = w_.Reserve(f.n * (10 + stride));
    if (p == nullptr) {
      *picked = nullptr;
      return PolicyOutcome::kAnswer;
    }
    const uint8_t* const first = v_.rdata + r.rdata_first;
    // Every record of a run has the same length: A and AAAA get loops with that length fixed
    // (FixedRecord), so the loop needs no length test.
    if (stride == 2 + 4) {
      *picked = WritePicked(p, FixedRecord<4>(owner, r.type, f.ttl), first, 2 + 4, f);
    } else if (stride == 2 + 16) {
      *picked = WritePicked(p, FixedRecord<16>(owner, r.type, f.ttl), first, 2 + 16, f);
    } else {  // not made by the compiler (A and AAAA only), but a valid snapshot
      *picked = WritePicked(p, RecordHead(owner, r.type, f.ttl), first, stride, f);
    }
    counts[0] += f.n;
    return PolicyOutcome::kAnswer;
  }

  // PutPicked's records at p, from the run at `first` (each member `u16 len | rdata`, `stride`
  // bytes apart), with `rec` (FixedRecord, or RecordHead for any length). Returns the first
  // record's rdata.
  template <typename Rec>
  ABSL_ATTRIBUTE_ALWAYS_INLINE static const uint8_t* WritePicked(uint8_t* p, Rec rec,
                                                                 const uint8_t* first,
                                                                 size_t stride, const FastPick& f) {
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
        last_name_off = static_cast<uint16_t>(std::min<size_t>(w_.pos(), 0xFFFF));
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

  // The node named `name` (lowered, `len` bytes), or kNone. Inlined into both of its callers:
  // on an exact hit the call itself costs more than the rest of the lookup but the hash.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint32_t FindNode(const uint8_t* name, size_t len) const {
    return maps::NameTableFind(
        v_.buckets, v_.bucket_mask, v_.nodes, v_.names, name, len,
        [](const uint8_t* a, const uint8_t* b, size_t n) { return BytesEqual(a, b, n); });
  }

  const maps::RRset* FindRRset(const maps::Node& n, uint16_t type) const {
    const maps::RRset* rs = v_.rrsets + n.rrset_first;
    for (uint16_t i = 0; i < n.rrset_count; ++i) {
      if (rs[i].type == type) return &rs[i];
    }
    return nullptr;
  }

  const SnapshotView& v_;
  Writer& w_;
};

constexpr std::array<Responder::WriterFn, maps::kFastDispatchCount> Responder::kWriters =
    Responder::MakeWriters();

bool NameIs(const LName& n, const char* wire, size_t len) {
  return n.len == len && std::memcmp(n.data, wire, len) == 0;
}

// The OPT record at p: our UDP size, the upper rcode bits, DO copied (RFC 3225), then NSID
// (nsid_len bytes; 0 = none), ECS and EDE as asked. Returns its size.
size_t PutOpt(uint8_t* p, const SnapshotView& v, const Query& q, uint16_t udp_size,
              uint32_t nsid_len, uint16_t rcode, bool ede_not_auth, bool echo_ecs,
              uint8_t ecs_scope) {
  p[0] = 0;  // root owner
  Put16(p + 1, kTypeOpt);
  Put16(p + 3, udp_size);
  p[5] = static_cast<uint8_t>(rcode >> 4);  // extended rcode, upper 8 bits
  p[6] = 0;                                 // version 0
  p[7] = q.do_bit ? 0x80 : 0;
  p[8] = 0;
  size_t o = 11;
  if (nsid_len > 0) {
    Put16(p + o, kOptNsid);
    Put16(p + o + 2, static_cast<uint16_t>(nsid_len));
    std::memcpy(p + o + 4, v.strings + v.settings->nsid.offset, nsid_len);
    o += 4 + nsid_len;
  }
  if (echo_ecs && q.has_ecs) {
    // RFC 7871 section 7.2.1: same family, source prefix and address; the scope is the
    // matched geo map prefix when a geo resource used the ECS address (dataplane/engine/geo.h),
    // else 0.
    Put16(p + o, kOptEcs);
    Put16(p + o + 2, static_cast<uint16_t>(4 + q.ecs_addr_len));
    p[o + 4] = q.ecs_family_hi;
    p[o + 5] = q.ecs_family_lo;
    p[o + 6] = q.ecs_source;
    p[o + 7] = ecs_scope;
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

}  // namespace

size_t Engine::Answer(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                      size_t cap, AnswerInfo* info) const {
  if (ABSL_PREDICT_FALSE(len < kHeaderSize || cap < kMinUdpSize)) return 0;
  if (ABSL_PREDICT_FALSE(query[kOffFlags1] & kFlag1Qr)) return 0;  // never answer a response
  Query q;
  const ParseVerdict verdict = Parse(query, len, &q);
  if (ABSL_PREDICT_FALSE(verdict == ParseVerdict::kDrop)) return 0;

  // Header + question go first; when answering in place they are already there. The header
  // fields are all set at the end (nothing reads them before).
  const bool echo_question = q.have_question && verdict != ParseVerdict::kFormErrBare;
  const size_t qend = echo_question ? q.question_end : kHeaderSize;
  if (qend > cap) return 0;
  if (out != query) {
    const uintptr_t o = reinterpret_cast<uintptr_t>(out), i = reinterpret_cast<uintptr_t>(query);
    if (o + qend <= i || i + qend <= o) {
      CopyBytes(out, query, qend);
    } else {
      std::memmove(out, query, qend);  // overlapping, but not in place
    }
  }

  // Response size: TCP up to 64 KiB; UDP 512 without EDNS, else the smaller of the client's and
  // our advertised size, never below 512 (RFC 6891 section 6.2.5).
  const uint16_t our_udp_size = v_.settings ? v_.settings->edns_udp_size : 1232;
  size_t limit;
  if (client.tcp) {
    limit = kMaxDnsMessage;
  } else if (q.has_opt) {
    limit = std::max<size_t>(kMinUdpSize, std::min(q.udp_size, our_udp_size));
  } else {
    limit = kMinUdpSize;
  }
  limit = std::min(limit, cap);

  // The OPT record's size, without EDE: EDE is only added to answers with empty sections
  // (REFUSED), so it needs no room reserved.
  uint32_t nsid_len = 0;
  size_t opt_size = 0;
  if (q.has_opt) {
    if (q.want_nsid && v_.settings) nsid_len = v_.settings->nsid.length;
    opt_size = 11 + (nsid_len > 0 ? 4 + nsid_len : 0) + (q.has_ecs ? 8 + q.ecs_addr_len : 0);
  }

  uint16_t rcode = kNoError;
  bool with_opt = q.has_opt;
  bool echo_ecs = true;
  size_t pos = qend;
  uint16_t counts[3] = {0, 0, 0};
  bool aa = false, tc = false, ede = false;
  uint8_t ecs_scope = 0;

  // The common case first, in one test: a well-formed standard query for data in class IN (or
  // ANY, answered as IN) with EDNS version 0 or none, and zones to answer from. Everything else
  // goes through the special cases below, in order.
  const bool resolve = verdict == ParseVerdict::kOk && q.plain && q.edns_version == 0 &&
                       v_.zones != nullptr && v_.zone_count != 0;
  if (ABSL_PREDICT_TRUE(resolve)) {
    Writer w(out, limit > opt_size ? limit - opt_size : 0, pos, q.qname);
    Responder r(v_, &w);
    r.client = &client;
    r.query = &q;
    if (!r.Resolve(q.qname, q.qtype)) {
      // Did not fit: empty answer with TC (as Knot does); the client retries over TCP.
      r.tc = true;
      w.Rewind(qend);
      r.counts[0] = r.counts[1] = r.counts[2] = 0;
    } else if (ABSL_PREDICT_FALSE(r.rcode == kServFail)) {
      // A resource's all-down rule said SERVFAIL: nothing from the chain so far is kept.
      w.Rewind(qend);
      r.counts[0] = r.counts[1] = r.counts[2] = 0;
    }
    pos = w.pos();
    std::memcpy(counts, r.counts, sizeof(counts));
    rcode = r.rcode;
    aa = r.aa && rcode != kRefused;
    tc = r.tc;
    ede = r.refused_not_auth;
    ecs_scope = r.ecs_scope;
  } else if (verdict == ParseVerdict::kFormErrBare || verdict == ParseVerdict::kFormErrQuestion) {
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
      if (pos + need + opt_size <= limit) {
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
  } else {
    // The only case left (every other one resolves above): no zones at all.
    rcode = kRefused;
    ede = true;
  }

  uint16_t arcount = counts[2];
  if (with_opt && pos + opt_size + 6 <= cap) {
    pos += PutOpt(out + pos, v_, q, our_udp_size, nsid_len, rcode, ede, echo_ecs, ecs_scope);
    ++arcount;
  }
  out[kOffFlags1] = static_cast<uint8_t>(kFlag1Qr | (q.opcode << 3) | (q.rd ? kFlag1Rd : 0) |
                                         (aa ? kFlag1Aa : 0) | (tc ? kFlag1Tc : 0));
  out[kOffFlags2] = static_cast<uint8_t>(rcode & 0xF);  // RA, Z, AD and CD clear (as Knot)
  Put16(out + kOffQdcount, echo_question ? 1 : 0);
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
