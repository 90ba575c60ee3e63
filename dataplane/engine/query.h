// Query parsing for the answer engine: header, question (lowered, with label offsets) and the
// EDNS OPT record with its NSID, ECS and COOKIE options (RFC 1035 section 4.1, RFC 6891, RFC
// 7871, RFC 7873), into
// a Query on the stack. Inline: Answer calls it once per query, and a call would cost about as
// much as the common case's parse.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/engine/bytes.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"

namespace sextant::dataplane {

inline constexpr int kMaxLabels = 128;

// The name src[0, n), 8 <= n <= 32, lowered into words still in registers, and its
// maps::NameHash: w[0], w[1] its first 16 bytes and w[2], w[3] its last 16 when n > 16, else
// w[0] its first 8 and w[1] its last 8 (the halves overlap when n is not 16 or 32).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t LowerHashedWords(const uint8_t* src, size_t n,
                                                              uint64_t w[4]) {
  if (n > 16) {
    const Bytes16 h = Lower16(Load128(src));
    const Bytes16 t = Lower16(Load128(src + n - 16));
    std::memcpy(w, &h, 16);
    std::memcpy(w + 2, &t, 16);
    return maps::name_hash::Hash17To32(w[0], w[1], w[2], w[3], n);
  }
  w[0] = Lower8(Load64(src));
  w[1] = Lower8(Load64(src + n - 8));
  return maps::name_hash::Hash8To16(w[0], w[1], n);
}

// The name LowerHashedWords made, stored at dst[0, n).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void StoreLoweredWords(uint8_t* dst, size_t n,
                                                           const uint64_t w[4]) {
  if (n > 16) {
    std::memcpy(dst, w, 16);
    std::memcpy(dst + n - 16, w + 2, 16);
  } else {
    Store64(dst, w[0]);
    Store64(dst + n - 8, w[1]);
  }
}

// CopyLower(dst, src, n), returning maps::NameHash(dst, n). The question's name is hashed right
// after it is lowered; loading the copy back for the hash made the hash's first loads wait: a
// name of 17 to 31 bytes is stored as two overlapping 16-byte blocks, and an 8-byte load across
// both cannot take its bytes from the stores in flight (store-to-load forwarding), so it waits
// for both to reach the cache. Names of 8 to 32 bytes (nearly every question) are hashed from the
// lowered words still in registers.
inline uint64_t CopyLowerHashed(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n >= 8 && n <= 32) {
    uint64_t w[4];
    const uint64_t hash = LowerHashedWords(src, n, w);
    StoreLoweredWords(dst, n, w);
    return hash;
  }
  CopyLower(dst, src, n);
  return maps::NameHash(dst, n);
}

// What Engine::Answer's first try (AnswerFromLine) learnt about a question it left to the general
// path: the name as it took it (up to its first zero byte), lowered, with its hash
// (maps::NameHash), and that no answer line holds that name for the question's type. `len` 0:
// nothing learnt. The parse uses it when the name it walks has that very length.
struct LineMiss {
  uint64_t hash = 0;
  uint8_t len = 0;
  uint8_t lowered[32];  // [0, len)
};

// A lowered, uncompressed wire name with its label offsets.
struct LName {
  uint8_t data[256];
  uint8_t len = 0;
  uint8_t labels = 0;
  uint8_t off[kMaxLabels];
  // maps::NameHash(data, len), set by ParseQname (the question's name) only.
  uint64_t hash = 0;
};

// Lowers and indexes an uncompressed wire name known to be well formed (from the snapshot).
inline void IndexName(const uint8_t* src, LName* n) {
  size_t i = 0;
  int labels = 0;
  for (; src[i] != 0; i += 1 + src[i]) n->off[labels++] = static_cast<uint8_t>(i);
  n->labels = static_cast<uint8_t>(labels);
  n->len = static_cast<uint8_t>(i + 1);
  CopyLower(n->data, src, i + 1);
}

// Laid out so that the fields with defaults are a few adjacent words: Answer constructs one per
// query, and GCC merges adjacent constant stores (9 stores in the order by meaning, 6 in this
// one; perf/README.md).
struct Query {
  uint8_t opcode = 0;
  bool rd = false;
  bool have_question = false;
  // A standard query for data in class IN (or ANY, answered as IN): opcode QUERY, a question,
  // QTYPE neither 0 nor a zone transfer. Set by Parse, for Answer's first test.
  bool plain = false;
  uint16_t qtype = 0, qclass = 0;
  size_t question_end = dns::kHeaderSize;  // end of the question in the query (0 = none parsed)
  // EDNS
  bool has_opt = false;
  bool do_bit = false;
  uint16_t udp_size = 0;
  uint8_t edns_version = 0;
  bool want_nsid = false;
  bool has_ecs = false;
  // The first try found no answer line for the question (LineMiss): none is read again.
  bool line_missed = false;
  // The first COOKIE option (RFC 7873 section 5.2: any later one is ignored), copied out of the
  // query (the response may overwrite it): 0 = none, kCookieMalformed = a length other than 8
  // or 16..40, else its length (client cookie, then the server cookie when sent).
  uint8_t cookie_len = 0;
  uint8_t ecs_family_hi = 0, ecs_family_lo = 0, ecs_source = 0, ecs_addr_len = 0;
  uint8_t ecs_addr[16];
  uint8_t cookie[40];
  LName qname;
};

inline constexpr uint8_t kCookieMalformed = 0xff;

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
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseQname(const uint8_t* p, size_t len, size_t* pos,
                                                    LName* n, const LineMiss& miss, bool* missed) {
  const size_t start = *pos;
  if (ABSL_PREDICT_FALSE(start >= len)) return false;
  // Each label must leave room after it for at least the root label, inside the message and
  // within 255 octets. Then the next length byte is always in the message, and there are at
  // most 127 labels (two octets at least each), so off[] cannot fill.
  // Offsets from the name's start, so that the loop stores them as they are.
  const uint8_t* name = p + start;
  const size_t room = std::min(len - 1 - start, size_t{254});
  size_t i = 0;
  int labels = 0;
  for (uint8_t l; (l = name[i]) != 0;) {
    if (ABSL_PREDICT_FALSE(l > 63)) return false;
    n->off[labels++] = static_cast<uint8_t>(i);
    i += size_t{l} + 1;  // l widened first: `1 + l` cost a zero-extension per label
    if (ABSL_PREDICT_FALSE(i > room)) return false;
  }
  if (miss.len == i + 1) {  // the first try lowered and hashed this very name
    std::memcpy(n->data, miss.lowered, sizeof(miss.lowered));
    n->hash = miss.hash;
    *missed = true;
  } else {
    n->hash = CopyLowerHashed(n->data, name, i + 1);
  }
  n->len = static_cast<uint8_t>(i + 1);
  n->labels = static_cast<uint8_t>(labels);
  *pos = start + i + 1;
  return true;
}

// Skips a possibly compressed name in a record (we never follow pointers here: the pointer's
// two bytes end the name).
inline bool SkipName(const uint8_t* p, size_t len, size_t* pos) {
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
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseEcs(const uint8_t* o, uint16_t olen, Query* q) {
  if (olen < 4) return false;
  uint16_t family = dns::Get16(o);
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

// RFC 7873 section 4: an 8-byte client cookie, then optionally an 8 to 32-byte server cookie.
// Out of line: rare, and its copy would otherwise count against the inlining budget of Answer.
ABSL_ATTRIBUTE_NOINLINE inline void ParseCookie(const uint8_t* o, uint16_t olen, Query* q) {
  if (olen != 8 && (olen < 16 || olen > 40)) {
    q->cookie_len = kCookieMalformed;
    return;
  }
  q->cookie_len = static_cast<uint8_t>(olen);
  std::memcpy(q->cookie, o, olen);
}

// The OPT record whose fixed part (TYPE on) is at p[at], rdata p[rdata, rdata + rdlen), all
// inside the message. Returns false when its options are malformed; *ecs_bad for a bad ECS. A
// malformed COOKIE is the engine's to judge (Query::cookie_len): only with cookies enabled.
// Inlined into Parse's common case, where a call would cost about as much as the rest.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ParseOpt(const uint8_t* p, size_t at, size_t rdata,
                                                  uint16_t rdlen, Query* q, bool* ecs_bad) {
  q->has_opt = true;
  q->udp_size = dns::Get16(p + at + 2);
  q->edns_version = p[at + 5];
  q->do_bit = p[at + 6] & 0x80;
  const size_t end = rdata + rdlen;
  for (size_t o = rdata; o < end;) {
    if (o + 4 > end) return false;
    const uint16_t code = dns::Get16(p + o), olen = dns::Get16(p + o + 2);
    if (o + 4 + olen > end) return false;
    if (code == dns::kOptNsid) {
      q->want_nsid = true;
    } else if (code == dns::kOptEcs) {
      if (q->has_ecs || !ParseEcs(p + o + 4, olen, q)) *ecs_bad = true;
    } else if (code == dns::kOptCookie && q->cookie_len == 0) {
      ParseCookie(p + o + 4, olen, q);
    }
    o += 4 + olen;
  }
  return true;
}

// Always inlined into Answer, its one caller: a call would cost about as much as the common
// case's parse. `miss`: what the first try learnt (LineMiss), or nothing.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline ParseVerdict Parse(const uint8_t* p, size_t len, Query* q,
                                                       const LineMiss& miss = {}) {
  q->opcode = (p[dns::kOffFlags1] >> 3) & 0xF;
  q->rd = p[dns::kOffFlags1] & dns::kFlag1Rd;
  const uint16_t qdcount = dns::Get16(p + dns::kOffQdcount);
  size_t pos = dns::kHeaderSize;
  if (qdcount > 1) return ParseVerdict::kFormErrBare;
  if (qdcount == 1) {
    if (!ParseQname(p, len, &pos, &q->qname, miss, &q->line_missed) || pos + 4 > len) {
      return ParseVerdict::kFormErrBare;
    }
    const uint16_t qtype = dns::Get16(p + pos), qclass = dns::Get16(p + pos + 2);
    q->qtype = qtype;
    q->qclass = qclass;
    // Without branches (& and |, not && and ||): every query computes all of it.
    static_assert(dns::kTypeAxfr == dns::kTypeIxfr + 1);
    q->plain = (q->opcode == dns::kOpQuery) & (qtype != 0) &
               (static_cast<uint16_t>(qtype - dns::kTypeIxfr) > 1) &
               ((qclass == dns::kClassIn) | (qclass == dns::kClassAny));
    pos += 4;
    q->have_question = true;
  }
  q->question_end = pos;
  bool ecs_bad = false;
  // ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 (six bytes: one 32-bit and one 16-bit compare).
  static constexpr uint8_t kOneAdditional[6] = {0, 0, 0, 0, 0, 1};
  if (std::memcmp(p + dns::kOffAncount, kOneAdditional, 6) == 0 && pos + 11 <= len && p[pos] == 0 &&
      dns::Get16(p + pos + 1) == dns::kTypeOpt) {
    // The usual shape, without the general loop below: the question, then one OPT record
    // owned by the root. What the loop would check, in the same order.
    const uint16_t rdlen = dns::Get16(p + pos + 9);
    if (pos + 11 + rdlen > len) return ParseVerdict::kFormErrQuestion;
    if (!ParseOpt(p, pos + 1, pos + 11, rdlen, q, &ecs_bad)) {
      return ParseVerdict::kFormErrQuestion;
    }
    pos += 11 + rdlen;
  } else {
    const uint16_t an = dns::Get16(p + dns::kOffAncount), ns = dns::Get16(p + dns::kOffNscount),
                   ar = dns::Get16(p + dns::kOffArcount);
    const uint32_t total = uint32_t{an} + ns + ar;
    for (uint32_t r = 0; r < total; ++r) {
      if (!SkipName(p, len, &pos) || pos + 10 > len) return ParseVerdict::kFormErrQuestion;
      const uint16_t type = dns::Get16(p + pos);
      const uint16_t rdlen = dns::Get16(p + pos + 8);
      const size_t rdata = pos + 10;
      if (rdata + rdlen > len) return ParseVerdict::kFormErrQuestion;
      if (type == dns::kTypeOpt) {
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

}  // namespace sextant::dataplane
