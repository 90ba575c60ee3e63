// The answer engine, in Knot's shape: parse the query (query.h), classify it, let one handler
// answer it (IN data through the Responder, CHAOS identity strings, or an error rcode), then
// write the OPT record and the header once. The response may be written over the query (the
// DPDK path answers in place): everything needed from the query is copied out before writing.
//
// Behaviour follows RFC 1034/1035 with the refinements of RFC 2308 (negative answers), 4592
// (wildcards), 6604 (rcode after CNAME), 6891 (EDNS), 7871 (ECS), 7873 and 9018 (DNS Cookies),
// 8482 (minimal ANY) and 8914 (EDE), and matches Knot DNS where the RFCs leave room; README.md
// lists the deliberate differences.
#include "dataplane/engine/engine.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/engine/answer_lines.h"
#include "dataplane/engine/bytes.h"
#include "dataplane/engine/dns_cookie.h"
#include "dataplane/engine/message_writer.h"
#include "dataplane/engine/query.h"
#include "dataplane/engine/responder.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"

namespace sextant::dataplane {
namespace {

constexpr uint16_t kEdeNotAuthoritative = 20;  // RFC 8914 section 4.21

// What the handler decided; Finish writes it into the OPT record and the header.
struct Reply {
  size_t pos;                                          // end of the sections written
  uint16_t answer = 0, authority = 0, additional = 0;  // section counts
  uint16_t rcode = dns::kNoError;
  bool aa = false;
  bool tc = false;
  bool with_opt;              // the query's OPT record parsed: the response carries one
  bool echo_ecs = true;       // echo the ECS option (not when the option itself was bad)
  bool ede_not_auth = false;  // EDE 20 in the OPT (REFUSED: not authoritative)
  uint8_t ecs_scope = 0;
  uint32_t site = 0;  // AnswerInfo::site
};

// The room a response has: TCP up to 64 KiB; UDP 512 without EDNS, else the smaller of the
// client's and our advertised size, never below 512 (RFC 6891 section 6.2.5).
size_t ResponseLimit(const Query& q, bool tcp, uint16_t our_udp_size, size_t cap) {
  size_t limit;
  if (tcp) {
    limit = kMaxDnsMessage;
  } else if (q.has_opt) {
    limit = std::max<size_t>(kMinUdpSize, std::min(q.udp_size, our_udp_size));
  } else {
    limit = kMinUdpSize;
  }
  return std::min(limit, cap);
}

// The query's header and question (its first qend bytes) at the start of the response; in
// place they are there already.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CopyHead(uint8_t* out, const uint8_t* query, size_t qend) {
  if (out == query) return;
  const uintptr_t o = reinterpret_cast<uintptr_t>(out), i = reinterpret_cast<uintptr_t>(query);
  if (o + qend <= i || i + qend <= o) {
    CopyBytes(out, query, qend);
  } else {
    std::memmove(out, query, qend);  // overlapping, but not in place
  }
}

// The question's node, or kNone, with the hash ParseQname made. Out of line: inlined into
// Answer, the lookup would run short of registers (+11 instructions), and the resolver reuses
// what it found when there is no image.
ABSL_ATTRIBUTE_NOINLINE uint32_t LookupQuestion(const SnapshotView& v, const LName& qname) {
  return LookupNodeHashed(v, qname.data, qname.len, qname.hash);
}

// *info = AnswerInfo{.qtype = qtype}, as two 8-byte stores of values made in registers (field
// by field, it took six stores and the zero they store).
inline void SetQtypeOnly(AnswerInfo* info, uint16_t qtype) {
  static_assert(sizeof(AnswerInfo) == 16 && offsetof(AnswerInfo, qtype) == 6 &&
                std::is_trivially_copyable_v<AnswerInfo>);
  // All bytes zero (false, 0, padding) but the qtype's two, in host order.
  uint64_t words[2] = {uint64_t{qtype} << 48, 0};
  if constexpr (std::endian::native == std::endian::big) words[0] = qtype;
  std::memcpy(info, words, sizeof(words));
}

// What an image answer keeps of its query: the question's end, the OPT record and the flags.
struct ImageQuery {
  size_t qend;
  uint16_t qtype;
  bool has_opt;
  bool do_bit;
  bool rd;
};

// Writes the answer to `q` with the image bytes[0, len) of `count` records after the question
// (which must fit: the callers checked); returns its length.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t WriteImageAnswer(const SnapshotView& v,
                                                            const ImageQuery& q,
                                                            const uint8_t* query, uint8_t* out,
                                                            AnswerInfo* info, const uint8_t* bytes,
                                                            size_t len, uint16_t count) {
  const size_t end = q.qend + len + (q.has_opt ? dns::kOptFixedSize : 0);
  CopyHead(out, query, q.qend);
  uint8_t* p = out + q.qend;
  if (ABSL_PREDICT_TRUE(len <= kAnswerImageInline)) {
    CopyInlineImage(p, bytes, len);
  } else {
    CopyBytes(p, bytes, len);
  }
  if (q.has_opt) {
    p += len;
    Store64(p, v.answer_opt_head);
    // The DO byte, the other flags byte and RDLENGTH 0, in one store of a value made in a
    // register (from a byte array on the stack, the store waited for the array's byte stores).
    uint32_t tail = q.do_bit ? dns::kOptFlagDo : 0;
    if constexpr (std::endian::native == std::endian::big) tail <<= 24;
    Store32(p + dns::kOptFlags, tail);
  }
  // Both flag bytes in one store (the second, RA, Z, AD, CD and rcode, is 0).
  dns::Put16(
      out + dns::kOffFlags1,
      static_cast<uint16_t>((dns::kFlag1Qr | dns::kFlag1Aa | (q.rd ? dns::kFlag1Rd : 0)) << 8));
  // QDCOUNT 1, ANCOUNT, NSCOUNT 0, ARCOUNT 1 with the OPT: four big-endian words in one.
  uint64_t counts = uint64_t{1} << 48 | uint64_t{count} << 32 | (q.has_opt ? 1 : 0);
  if constexpr (std::endian::native == std::endian::little) counts = __builtin_bswap64(counts);
  Store64(out + dns::kOffQdcount, counts);
  if (info != nullptr) SetQtypeOnly(info, q.qtype);
  return end;
}

// The answer to `q` with the image bytes[0, len) of `count` records after the question, as
// AnswerFromImage describes; 0 when it does not fit.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t PutImageAnswer(
    const SnapshotView& v, const Query& q, const uint8_t* query, const ClientInfo& client,
    uint8_t* out, size_t cap, AnswerInfo* info, const uint8_t* bytes, size_t len, uint16_t count) {
  const size_t qend = q.question_end;
  const size_t opt_size = q.has_opt ? dns::kOptFixedSize : 0;
  const size_t end = qend + len + opt_size;
  // What fits the resolver's writer (its limit less the OPT's room), and PutOpt's own test. Every
  // limit is at least 512 (cap < kMinUdpSize was refused on entry): most answers fit without
  // working the limit out.
  const uint16_t our_udp_size = v.edns_udp_size;
  const bool fits =
      end + 6 <= kMinUdpSize ||
      (end <= ResponseLimit(q, client.tcp, our_udp_size, cap) && (!q.has_opt || end + 6 <= cap));
  if (len == 0 || !fits) return 0;
  return WriteImageAnswer(v, ImageQuery{qend, q.qtype, q.has_opt, q.do_bit, q.rd}, query, out, info,
                          bytes, len, count);
}

// The commonest query of all, answered from its answer line before (and without) the general
// parse: a standard query (QR 0, opcode QUERY) with one question for A or AAAA in class IN,
// nothing after it but, optionally, an OPT record of version 0 with no option (no NSID, ECS or
// COOKIE), a name of 8 to 32 bytes with a line, and at least 32 bytes of message from the name
// on. The bytes are AnswerFromImage's; 0 for anything else, which the general path answers.
//
// What it leaves out is the general parse's work, not its checks: the name's end is its first
// zero byte, and the name is not walked label by label, because a line holds a well-formed
// lowered name, and lowering maps no byte to 63 or below: when the question's first bytes up to
// that zero equal a line's name once lowered, they have the same label lengths, so they are the
// same well-formed name, ending there.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t AnswerFromLine(const SnapshotView& v,
                                                          const uint8_t* query, size_t len,
                                                          uint8_t* out, AnswerInfo* info,
                                                          LineMiss* miss) {
  // The line first, from the name, the type and the message's length: a question without one
  // (a name that does not exist, a type it lacks) leaves here after the fewest instructions,
  // with the lowered name and its hash for the general path (LineMiss). The header's flags and
  // counts, the class and the OPT record are checked once a line holds the name.
  constexpr size_t kName = dns::kHeaderSize;
  if (len < kName + 32) return 0;
  const uint8_t* name = query + kName;
  const size_t n = static_cast<size_t>(std::countr_zero(ZeroBytes32(name))) + 1;  // 33: none
  const size_t qend = kName + n + 4;
  // Nothing after the question but, with ARCOUNT 1, an OPT record without options: a query with
  // options (ECS, a cookie, NSID) leaves here, before the hash.
  uint64_t counts = Load64(query + dns::kOffQdcount);
  if constexpr (std::endian::native == std::endian::little) counts = __builtin_bswap64(counts);
  const bool has_opt = (counts & 1) != 0;
  if (n < 8 || n > 32 || len != qend + (has_opt ? dns::kOptFixedSize : 0)) return 0;
  const uint16_t qtype = dns::Get16(name + n);
  const int slot = AnswerImageSlot(qtype);
  if (slot < 0) return 0;
  // The name lowered and hashed in registers, as CopyLowerHashed would (maps::NameHash), and
  // compared with the line's lowered name as it is.
  uint64_t w[4];
  const uint64_t hash = LowerHashedWords(name, n, w);
  const AnswerLine* line = FindAnswerLineBy(v, hash, slot, [&](const AnswerLine& l) {
    if (l.name_len != n || l.slot != slot) return false;
    if (n > 16) {
      return ((Load64(l.bytes) ^ w[0]) | (Load64(l.bytes + 8) ^ w[1]) |
              (Load64(l.bytes + n - 16) ^ w[2]) | (Load64(l.bytes + n - 8) ^ w[3])) == 0;
    }
    return ((Load64(l.bytes) ^ w[0]) | (Load64(l.bytes + n - 8) ^ w[1])) == 0;
  });
  if (line == nullptr) {
    miss->hash = hash;
    miss->len = static_cast<uint8_t>(n);
    StoreLoweredWords(miss->lowered, n, w);
    return 0;
  }
  // QR 0 and opcode QUERY (the flag byte's top five bits); QDCOUNT 1, ANCOUNT 0, NSCOUNT 0 and
  // ARCOUNT 0 or 1 (big-endian words; the low bit apart); class IN.
  if ((query[dns::kOffFlags1] & 0xF8) != 0 || (counts & ~uint64_t{1}) != uint64_t{1} << 48 ||
      dns::Get16(name + n + 2) != dns::kClassIn) {
    return 0;
  }
  bool do_bit = false;
  if (has_opt) {
    // Owner the root, TYPE OPT, version 0 (byte 6), RDLENGTH 0 (bytes 9 and 10); the UDP size,
    // the extended rcode and the flags other than DO are not the answer's business.
    const uint8_t* o = query + qend;
    if (o[0] != 0 || dns::Get16(o + 1) != dns::kTypeOpt || o[6] != 0 || o[9] != 0 || o[10] != 0) {
      return 0;
    }
    do_bit = (o[dns::kOptFlags] & dns::kOptFlagDo) != 0;
  }
  const size_t end = qend + line->image_len + (has_opt ? dns::kOptFixedSize : 0);
  if (line->image_len == 0 || end + 6 > kMinUdpSize) return 0;  // PutImageAnswer's first test
  const bool rd = (query[dns::kOffFlags1] & dns::kFlag1Rd) != 0;
  return WriteImageAnswer(v, ImageQuery{qend, qtype, has_opt, do_bit, rd}, query, out, info,
                          line->image(), line->image_len, line->count);
}

// A name that does not exist, answered from a precompiled image as Resolve would: below a zone
// cut, the cut's referral (NS and glue; no AA; section_image.h); under a wildcard, A or AAAA
// synthesized from it (the wildcard's answer image: the owner is the question either way);
// else, in a zone of ours, NXDOMAIN with the zone's SOA (section_image.h). The bytes are
// Resolve's (PutReferral, AnswerRRset, PutNegative) and PutOpt's, within AnswerFromImage's
// conditions and PutImageAnswer's size test. Returns the response length, else 0 with
// looked_up->encloser set for the resolver. Out of line: inlined, it cost Answer's other paths
// registers.
ABSL_ATTRIBUTE_NOINLINE size_t AnswerAbsentFromImage(const SnapshotView& v, const Query& q,
                                                     const uint8_t* query, const ClientInfo& client,
                                                     uint8_t* out, size_t cap, AnswerInfo* info,
                                                     int slot, QuestionLookup* looked_up) {
  if (v.zone_images == nullptr || q.want_nsid || q.has_ecs) return 0;
  const uint32_t ce = AncestorNode(v, q.qname);
  looked_up->encloser = ce;
  if (ce == maps::kNone) return 0;
  const maps::Node& node = v.nodes[ce];
  const SectionImage* img;
  uint16_t flags;  // both flag bytes: QR, opcode QUERY (0), AA, RD as asked; the rcode
  if (node.cut != maps::kNone) {
    if (v.cut_images == nullptr) return 0;
    const auto it = v.cut_images->find(node.cut);
    if (it == v.cut_images->end()) return 0;
    img = &it->second;
    flags = dns::kFlag1Qr << 8 | dns::kNoError;
  } else if (node.wildcard == maps::kNone) {
    img = &v.zone_images[node.zone];
    flags = (dns::kFlag1Qr | dns::kFlag1Aa) << 8 | dns::kNxDomain;
  } else {
    if (slot < 0 || node.wildcard >= v.answer_image_nodes) return 0;
    const AnswerImage& a = v.answer_images[node.wildcard].slot[slot];
    return PutImageAnswer(v, q, query, client, out, cap, info,
                          AnswerImageBytes(a, v.answer_image_bytes), a.len, a.count);
  }
  const size_t qend = q.question_end;
  const size_t end = qend + img->len + (q.has_opt ? dns::kOptFixedSize : 0);
  if (img->len == 0 || end + 6 > kMinUdpSize || !ImageSuitsQuestion(v, q.qname, *img)) return 0;
  CopyHead(out, query, qend);
  uint8_t* p = out + qend;
  CopySectionImage(v, q.qname, *img, p, qend);
  if (q.has_opt) {
    p += img->len;
    Store64(p, v.answer_opt_head);
    uint32_t tail = q.do_bit ? dns::kOptFlagDo : 0;
    if constexpr (std::endian::native == std::endian::big) tail <<= 24;
    Store32(p + dns::kOptFlags, tail);
  }
  if (q.rd) flags |= dns::kFlag1Rd << 8;
  dns::Put16(out + dns::kOffFlags1, flags);
  // QDCOUNT 1, ANCOUNT 0, NSCOUNT, ARCOUNT (with the OPT): four big-endian words in one.
  uint64_t counts = uint64_t{1} << 48 | uint64_t{img->authority} << 16 |
                    (img->additional + (q.has_opt ? 1u : 0u));
  if constexpr (std::endian::native == std::endian::little) counts = __builtin_bswap64(counts);
  Store64(out + dns::kOffQdcount, counts);
  if (info != nullptr) {
    SetQtypeOnly(info, q.qtype);
    info->rcode = flags & dns::kRcodeMask;
  }
  return end;
}

// The common query, answered from its name's answer image (answer_images.h): a well-formed
// query for A or AAAA in class IN or ANY, no COOKIE (the caller checked), no other EDNS option
// (NSID, ECS) and EDNS version 0 if any. Returns the response length; 0 when the resolver must
// answer, *looked_up then being what its lookups found (QuestionLookup). A name that does
// not exist is answered from a section image when it can be (AnswerAbsentFromImage).
// The bytes are the resolver's: the same header and question, the records PutPlainRRset
// writes, the OPT record PutOpt writes when the query has none of those options.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t AnswerFromImage(const SnapshotView& v, const Query& q,
                                                           const uint8_t* query,
                                                           const ClientInfo& client, uint8_t* out,
                                                           size_t cap, AnswerInfo* info,
                                                           QuestionLookup* looked_up) {
  if (v.answer_images == nullptr || !q.plain || q.edns_version != 0) return 0;
  const int slot = AnswerImageSlot(q.qtype);
  // The answer lines first (one line, where the name table reads three): a miss there is not
  // an answer, the name table decides, with the same hash.
  if (ABSL_PREDICT_TRUE(v.answer_lines != nullptr) && slot >= 0 && !q.want_nsid && !q.has_ecs &&
      !q.line_missed) {
    const AnswerLine* line = FindAnswerLine(v, q.qname.data, q.qname.len, q.qname.hash, slot);
    if (line != nullptr) {
      return PutImageAnswer(v, q, query, client, out, cap, info, line->image(), line->image_len,
                            line->count);
    }
  }
  const uint32_t node = LookupQuestion(v, q.qname);
  looked_up->node = node;
  if (node == maps::kNone) {
    return AnswerAbsentFromImage(v, q, query, client, out, cap, info, slot, looked_up);
  }
  if (slot < 0 || node >= v.answer_image_nodes || q.want_nsid || q.has_ecs) return 0;
  const AnswerImage& img = v.answer_images[node].slot[slot];
  return PutImageAnswer(v, q, query, client, out, cap, info,
                        AnswerImageBytes(img, v.answer_image_bytes), img.len, img.count);
}

enum class Handler : uint8_t { kIn, kChaos, kError };

// Which handler answers the query; for errors, the rcode (and what the OPT keeps) in *r.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Handler Classify(ParseVerdict verdict, const Query& q,
                                                     const SnapshotView& v, bool tcp, Reply* r) {
  // The common case first, in one test: a well-formed standard query for data in class IN (or
  // ANY, answered as IN) with EDNS version 0 or none, and zones to answer from.
  if (ABSL_PREDICT_TRUE(verdict == ParseVerdict::kOk && q.plain && q.edns_version == 0 &&
                        v.zones != nullptr && v.zone_count != 0)) {
    return Handler::kIn;
  }
  r->rcode = dns::kFormErr;
  if (verdict == ParseVerdict::kFormErrBare || verdict == ParseVerdict::kFormErrQuestion) {
    r->with_opt = false;  // the additional section could not be trusted
  } else if (verdict == ParseVerdict::kFormErrEdns) {
    r->echo_ecs = false;
  } else if (q.has_opt && q.edns_version > 0) {
    r->rcode = dns::kBadVers;  // RFC 6891 section 6.1.3
  } else if (!q.have_question) {
    // FORMERR
  } else if (q.opcode != dns::kOpQuery || q.qtype == 0 || (q.qtype == dns::kTypeAxfr && !tcp)) {
    // Opcodes other than QUERY, including NOTIFY and UPDATE (Knot says NOTAUTH there): we
    // implement neither. QTYPE 0, and AXFR over UDP.
    r->rcode = dns::kNotImp;
  } else if (q.qtype == dns::kTypeAxfr || q.qtype == dns::kTypeIxfr) {
    r->rcode = dns::kNotAuth;  // zone transfers are not offered
  } else if (q.qclass == dns::kClassCh) {
    r->rcode = dns::kNoError;
    return Handler::kChaos;
  } else if (q.qclass != dns::kClassIn && q.qclass != dns::kClassAny) {
    r->rcode = dns::kRefused;  // qclass ANY is answered as IN, as Knot does
  } else {
    // The only case left (every other one is IN data): no zones at all.
    r->rcode = dns::kRefused;
    r->ede_not_auth = true;
  }
  return Handler::kError;
}

// What a query's COOKIE option changes: the rcode (0: none; FORMERR or BADCOOKIE), and whether
// the response carries a COOKIE (the bytes in the caller's buffer) and the server cookie was
// valid. Small enough to come back in a register.
struct CookieVerdict {
  uint16_t rcode = 0;
  bool answer = false;
  bool valid = false;
};

// A query with a COOKIE option (RFC 7873 section 5.2): malformed -> FORMERR; else checked and
// answered with a server cookie (into out), and with cookies.require a UDP query without a valid
// server cookie gets BADCOOKIE instead of its answer (section 5.2.3, 5.2.4). Cookies disabled,
// or no secret published yet: the option is ignored, as a server without cookies would.
// Out of line, and nothing of the caller's passed by address but the cookie buffer: the common
// query has no cookie, and its Reply stays in registers.
ABSL_ATTRIBUTE_NOINLINE CookieVerdict ApplyCookie(const SnapshotView& v, const Query& q,
                                                  const ClientInfo& client, uint16_t rcode,
                                                  uint8_t* out) {
  if (!v.cookies_enabled) return {};
  if (q.cookie_len == kCookieMalformed) return {.rcode = dns::kFormErr};
  maps::CookieKeys keys;
  if (v.cookie_secrets == nullptr || !maps::ReadCookieKeys(*v.cookie_secrets, &keys)) return {};
  CookieCheck ck;
  CheckCookie(q.cookie, q.cookie_len, client.addr, client.family, client.now, keys, &ck);
  std::memcpy(out, ck.out, sizeof(ck.out));
  const bool refuse = !ck.valid && v.cookies_require && !client.tcp && rcode != dns::kFormErr &&
                      rcode != dns::kBadVers;
  return {
      .rcode = refuse ? uint16_t{dns::kBadCookie} : uint16_t{0}, .answer = true, .valid = ck.valid};
}

// IN-class data: the Responder resolves and writes the sections.
template <bool kTrace>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void AnswerIn(const SnapshotView& v, const Query& q,
                                                  const ClientInfo& client, uint8_t* out,
                                                  size_t limit, size_t opt_size, Reply* r,
                                                  QuestionLookup looked_up, AnswerTrace* trace) {
  MessageWriter w(out, limit > opt_size ? limit - opt_size : 0, r->pos, q.qname);
  Responder<kTrace> responder(v, &w, client, q, trace);
  const Resolution res = responder.Resolve(q.qname, q.qtype, looked_up);
  const ResolveState state = res.state();
  if (!res.fits() || state == ResolveState::kServFail) {
    // Did not fit: an empty answer with TC (as Knot does), and the client retries over TCP. A
    // resource's all-down rule said SERVFAIL: nothing from the chain so far is kept.
    w.Rewind(r->pos);
    if constexpr (kTrace) {
      if (!res.fits()) trace->Add({.kind = TraceStep::kTruncated});
    }
  } else {
    r->answer = responder.counts[0];
    r->authority = responder.counts[1];
    r->additional = responder.counts[2];
  }
  r->pos = w.pos();
  r->site = responder.site;
  static constexpr uint16_t kRcodeOf[] = {dns::kNoError, dns::kNoError, dns::kNxDomain,
                                          dns::kNoError, dns::kRefused, dns::kServFail};
  r->rcode = kRcodeOf[static_cast<int>(state)];
  r->ede_not_auth = state == ResolveState::kNotAuth;
  r->aa = res.authoritative();
  r->tc = res.tc();
  r->ecs_scope = responder.ecs_scope;
}

bool NameIs(const LName& n, const char* wire, size_t len) {
  return n.len == len && std::memcmp(n.data, wire, len) == 0;
}

// What the CHAOS handler wrote.
struct ChaosAnswer {
  size_t pos;
  uint16_t rcode = dns::kNoError;
  uint16_t answer = 0;
  bool tc = false;
};

// version.bind / version.server, id.server / hostname.bind (TXT, CH): answered only when
// configured; TTL 0 and no AA, as Knot and BIND do. Out of line: a rare query.
ABSL_ATTRIBUTE_NOINLINE ChaosAnswer AnswerChaos(const SnapshotView& v, const Query& q, uint8_t* out,
                                                size_t pos, size_t limit, size_t opt_size) {
  static constexpr char kVersionBind[] = "\7version\4bind";
  static constexpr char kVersionServer[] = "\7version\6server";
  static constexpr char kIdServer[] = "\2id\6server";
  static constexpr char kHostnameBind[] = "\10hostname\4bind";
  const maps::StringRef* s = nullptr;
  if (v.settings != nullptr && q.qtype == dns::kTypeTxt) {
    if (NameIs(q.qname, kVersionBind, sizeof(kVersionBind)) ||
        NameIs(q.qname, kVersionServer, sizeof(kVersionServer))) {
      s = &v.settings->chaos_version;
    } else if (NameIs(q.qname, kIdServer, sizeof(kIdServer)) ||
               NameIs(q.qname, kHostnameBind, sizeof(kHostnameBind))) {
      s = &v.settings->chaos_identity;
    }
  }
  if (s == nullptr || s->offset == maps::kNone || s->length == 0) {
    return {.pos = pos, .rcode = dns::kRefused};
  }
  const size_t txt = std::min<uint32_t>(s->length, 255);
  const size_t need = 2 + 10 + 1 + txt;
  if (pos + need + opt_size > limit) return {.pos = pos, .tc = true};
  uint8_t* p = out + pos;
  dns::Put16(p, 0xC000 | dns::kHeaderSize);
  dns::Put16(p + 2, dns::kTypeTxt);
  dns::Put16(p + 4, dns::kClassCh);
  dns::Put32(p + 6, 0);
  dns::Put16(p + 10, static_cast<uint16_t>(1 + txt));
  p[12] = static_cast<uint8_t>(txt);
  std::memcpy(p + 13, v.strings + s->offset, txt);
  return {.pos = pos + need, .answer = 1};
}

// The OPT record at p: our UDP size, the upper rcode bits, DO copied (RFC 3225), then NSID
// (nsid_len bytes; 0 = none), ECS, COOKIE and EDE as asked. Returns its size.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t PutOpt(uint8_t* p, const SnapshotView& v, const Query& q,
                                                  uint16_t udp_size, uint32_t nsid_len,
                                                  const Reply& r, const uint8_t* cookie) {
  p[0] = 0;  // root owner
  dns::Put16(p + dns::kOptType, dns::kTypeOpt);
  dns::Put16(p + dns::kOptUdpSize, udp_size);
  p[dns::kOptExtendedRcode] = static_cast<uint8_t>(r.rcode >> 4);  // upper 8 bits
  p[dns::kOptVersion] = 0;
  p[dns::kOptFlags] = q.do_bit ? dns::kOptFlagDo : 0;
  p[dns::kOptFlags + 1] = 0;
  size_t o = dns::kOptFixedSize;
  if (nsid_len > 0) {
    dns::Put16(p + o, dns::kOptNsid);
    dns::Put16(p + o + 2, static_cast<uint16_t>(nsid_len));
    std::memcpy(p + o + 4, v.strings + v.settings->nsid.offset, nsid_len);
    o += 4 + nsid_len;
  }
  if (r.echo_ecs && q.has_ecs) {
    // RFC 7871 section 7.2.1: same family, source prefix and address; the scope is the
    // matched geo map prefix when a geo resource used the ECS address (geo_lookup.h), else 0.
    dns::Put16(p + o, dns::kOptEcs);
    dns::Put16(p + o + 2, static_cast<uint16_t>(4 + q.ecs_addr_len));
    p[o + 4] = q.ecs_family_hi;
    p[o + 5] = q.ecs_family_lo;
    p[o + 6] = q.ecs_source;
    p[o + 7] = r.ecs_scope;
    std::memcpy(p + o + 8, q.ecs_addr, q.ecs_addr_len);
    o += 8 + q.ecs_addr_len;
  }
  if (ABSL_PREDICT_FALSE(cookie != nullptr)) {
    dns::Put16(p + o, dns::kOptCookie);
    dns::Put16(p + o + 2, kCookieAnswerSize);
    std::memcpy(p + o + 4, cookie, kCookieAnswerSize);
    o += 4 + kCookieAnswerSize;
  }
  if (r.ede_not_auth) {
    dns::Put16(p + o, dns::kOptEde);
    dns::Put16(p + o + 2, 2);
    dns::Put16(p + o + 4, kEdeNotAuthoritative);
    o += 6;
  }
  dns::Put16(p + dns::kOptRdlength, static_cast<uint16_t>(o - dns::kOptFixedSize));
  return o;
}

// The whole message once parsed: the query's header and question (copied unless answering in
// place), the handler's sections, then the OPT record and the header, written once. kCookie: the
// query has a COOKIE option (an instance of its own, out of line, so that the common query runs
// none of the cookie code and keeps its registers). `looked_up`: as for Responder::Resolve.
template <bool kTrace, bool kCookie>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t AnswerParsed(const SnapshotView& v, const Query& q,
                                                        ParseVerdict verdict, const uint8_t* query,
                                                        const ClientInfo& client, uint8_t* out,
                                                        size_t cap, AnswerInfo* info,
                                                        QuestionLookup looked_up,
                                                        AnswerTrace* trace) {
  // Header + question go first; when answering in place they are already there. The header
  // fields are all set at the end (nothing reads them before).
  const bool echo_question = q.have_question && verdict != ParseVerdict::kFormErrBare;
  const size_t qend = echo_question ? q.question_end : dns::kHeaderSize;
  if (qend > cap) return 0;
  CopyHead(out, query, qend);

  // Not v.edns_udp_size: measured, the resolver's path then spilled more than it saved (NXDOMAIN
  // +6 instructions, perf/README.md).
  const uint16_t our_udp_size = v.settings ? v.settings->edns_udp_size : kDefaultUdpSize;
  const size_t limit = ResponseLimit(q, client.tcp, our_udp_size, cap);
  // The OPT record's size, without EDE: EDE is only added to answers with empty sections
  // (REFUSED), so it needs no room reserved.
  uint32_t nsid_len = 0;
  size_t opt_size = 0;
  if (q.has_opt) {
    if (q.want_nsid && v.settings) nsid_len = v.settings->nsid.length;
    opt_size = dns::kOptFixedSize + (nsid_len > 0 ? 4 + nsid_len : 0) +
               (q.has_ecs ? 8 + q.ecs_addr_len : 0);
  }

  Reply r{.pos = qend, .with_opt = q.has_opt};
  Handler handler = Classify(verdict, q, v, client.tcp, &r);
  uint8_t cookie[kCookieAnswerSize];
  CookieVerdict cv;
  if (kCookie && r.with_opt) {
    cv = ApplyCookie(v, q, client, r.rcode, cookie);
    if (cv.rcode != 0) {
      r.rcode = cv.rcode;
      r.echo_ecs = r.echo_ecs && cv.rcode != dns::kFormErr;
      r.ede_not_auth = false;
      handler = Handler::kError;
    }
    if (cv.answer) opt_size += 4 + kCookieAnswerSize;
  }
  switch (handler) {
    case Handler::kIn:
      AnswerIn<kTrace>(v, q, client, out, limit, opt_size, &r, looked_up, trace);
      break;
    case Handler::kChaos: {
      const ChaosAnswer c = AnswerChaos(v, q, out, r.pos, limit, opt_size);
      r.pos = c.pos;
      r.rcode = c.rcode;
      r.answer = c.answer;
      r.tc = c.tc;
      break;
    }
    case Handler::kError:
      break;
  }

  uint16_t arcount = r.additional;
  size_t pos = r.pos;
  if (r.with_opt && pos + opt_size + 6 <= cap) {
    pos += PutOpt(out + pos, v, q, our_udp_size, nsid_len, r, cv.answer ? cookie : nullptr);
    ++arcount;
  }
  const bool aa = r.aa && r.rcode != dns::kRefused;
  out[dns::kOffFlags1] = static_cast<uint8_t>(
      dns::kFlag1Qr | (q.opcode << dns::kOpcodeShift) | (q.rd ? dns::kFlag1Rd : 0) |
      (aa ? dns::kFlag1Aa : 0) | (r.tc ? dns::kFlag1Tc : 0));
  // RA, Z, AD and CD clear (as Knot).
  out[dns::kOffFlags2] = static_cast<uint8_t>(r.rcode & dns::kRcodeMask);
  dns::Put16(out + dns::kOffQdcount, echo_question ? 1 : 0);
  dns::Put16(out + dns::kOffAncount, r.answer);
  dns::Put16(out + dns::kOffNscount, r.authority);
  dns::Put16(out + dns::kOffArcount, arcount);
  if (info != nullptr) {
    info->rcode = r.rcode;
    info->truncated = r.tc;
    info->qtype = q.qtype;
    info->site = r.site;
    info->cookie_seen = cv.answer;
    info->cookie_ok = cv.valid;
  }
  return pos;
}

template <bool kTrace>
ABSL_ATTRIBUTE_NOINLINE size_t AnswerParsedWithCookie(const SnapshotView& v, const Query& q,
                                                      ParseVerdict verdict, const uint8_t* query,
                                                      const ClientInfo& client, uint8_t* out,
                                                      size_t cap, AnswerInfo* info,
                                                      AnswerTrace* trace) {
  return AnswerParsed<kTrace, true>(v, q, verdict, query, client, out, cap, info, QuestionLookup{},
                                    trace);
}

template <bool kTrace>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t AnswerMessage(const SnapshotView& v,
                                                         const uint8_t* query, size_t len,
                                                         const ClientInfo& client, uint8_t* out,
                                                         size_t cap, AnswerInfo* info,
                                                         AnswerTrace* trace, const LineMiss& miss) {
  if (ABSL_PREDICT_FALSE(len < dns::kHeaderSize || cap < kMinUdpSize)) return 0;
  if (ABSL_PREDICT_FALSE(query[dns::kOffFlags1] & dns::kFlag1Qr)) return 0;  // never a response
  Query q;
  const ParseVerdict verdict = Parse(query, len, &q, miss);
  if (ABSL_PREDICT_FALSE(verdict == ParseVerdict::kDrop)) return 0;
  if (ABSL_PREDICT_FALSE(q.cookie_len != 0)) {
    return AnswerParsedWithCookie<kTrace>(v, q, verdict, query, client, out, cap, info, trace);
  }
  QuestionLookup looked_up;
  // Explain resolves every query, to trace it; the bytes are the same.
  if (!kTrace && ABSL_PREDICT_TRUE(verdict == ParseVerdict::kOk)) {
    const size_t n = AnswerFromImage(v, q, query, client, out, cap, info, &looked_up);
    if (n != 0) return n;
  }
  return AnswerParsed<kTrace, false>(v, q, verdict, query, client, out, cap, info, looked_up,
                                     trace);
}

}  // namespace

Engine::Engine(const maps::SnapshotReader& snap, EngineUse use)
    : plan_(MakePolicyPlan(snap.section<maps::Resource>(maps::kResources),
                           snap.section<maps::Member>(maps::kMembers), snap.bytes(maps::kRdata))),
      v_(SnapshotView::Of(snap)) {
  v_.plans = plan_.resources.data();
  v_.alias = plan_.alias.data();
  images_ =
      BuildSectionImages(v_, static_cast<uint32_t>(snap.section<maps::Node>(maps::kNodes).size()));
  images_.Attach(&v_);
  if (use == EngineUse::kExplain) return;
  answers_ =
      BuildAnswerImages(v_, static_cast<uint32_t>(snap.section<maps::Node>(maps::kNodes).size()));
  answers_.Attach(&v_);
  lines_ = BuildAnswerLines(v_, answers_);
  lines_.Attach(&v_);
}

size_t Engine::Answer(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                      size_t cap, AnswerInfo* info) const {
  // The commonest query first, before any general parse.
  LineMiss miss;
  if (ABSL_PREDICT_TRUE(v_.answer_lines != nullptr) && cap >= kMinUdpSize) {
    const size_t n = AnswerFromLine(v_, query, len, out, info, &miss);
    if (n != 0) return n;
  }
  return AnswerMessage<false>(v_, query, len, client, out, cap, info, nullptr, miss);
}

size_t Engine::AnswerFromLineOnly(const uint8_t* query, size_t len, uint8_t* out,
                                  AnswerInfo* info) const {
  LineMiss miss;
  return v_.answer_lines != nullptr ? AnswerFromLine(v_, query, len, out, info, &miss) : 0;
}

size_t Engine::Explain(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                       size_t cap, AnswerInfo* info, AnswerTrace* trace) const {
  return AnswerMessage<true>(v_, query, len, client, out, cap, info, trace, LineMiss{});
}

}  // namespace sextant::dataplane
