// The answer engine, rule by rule. Zones are built through the real control plane
// (BuildTestSnapshot), queries with MakeQuery or by hand, and every response is decoded by the
// small decoder below into presentation-form records ("www.diff.test. 300 IN A 198.18.1.1") so
// that the tables read like dig output. The expected answers follow Knot DNS 3.2
// (tests/integration/KNOT_BEHAVIOUR.md) except where the engine deliberately differs (FORMERR for
// malformed questions, validated and echoed ECS).
//
// Every query in this file goes through Ask(), which also checks, for every response:
//   * the same query answered in place (output buffer == input buffer, the DPDK path) gives
//     byte-identical output;
//   * the message decodes cleanly: counts match, no trailing bytes, every compression pointer
//     points backwards;
//   * names are compressed optimally (each name is written as the longest suffix already in the
//     message, RFC 1035 4.1.4);
//   * AnswerInfo agrees with the header.
#include "dataplane/engine/engine.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Pair;

using Bytes = std::vector<uint8_t>;

// Types and classes by name, for the tables.
constexpr uint16_t kA = 1, kNs = 2, kCname = 5, kSoa = 6, kPtr = 12, kMx = 15, kTxt = 16,
                   kAaaa = 28, kSrv = 33, kDs = 43, kIxfr = 251, kAxfr = 252, kAny = 255;
constexpr uint16_t kIn = 1, kCh = 3, kHs = 4, kClassNone = 254, kClassAny = 255;
constexpr uint16_t kNoError = 0, kFormErr = 1, kNxDomain = 3, kNotImp = 4, kRefused = 5,
                   kNotAuth = 9, kBadVers = 16;
constexpr bool kAa = true, kNoAa = false;

// Raw bytes from small integers: B({0, 1, 24, 0}).
std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Zones

// Mirrors tests/integration/data/diff.test.zone (the zone the Knot probes used), trimmed to what
// the rules below need.
std::string DiffZone() {
  std::string z = R"($ORIGIN diff.test.
$TTL 3600
@       3600 IN SOA ns1.diff.test. hostmaster.diff.test. 2024010101 7200 3600 1209600 300
@            IN NS    ns1
@            IN NS    ns2
@            IN MX    10 mail
@            IN MX    20 mail2.diff.test.
@            IN MX    30 mx.example.invalid.
@            IN TXT   "v=spf1 -all"
ns1          IN A     198.18.0.1
ns1          IN AAAA  2001:db8::1
ns2     7200 IN A     198.18.0.2
ns2     7200 IN AAAA  2001:db8::2
www      300 IN A     198.18.1.1
www      300 IN A     198.18.1.2
www          IN AAAA  2001:db8:1::1
www      600 IN TXT   "hello world"
MiXeD        IN A     198.18.4.1
mail         IN A     198.18.1.25
mail         IN AAAA  2001:db8:1::25
mail2        IN A     198.18.1.26
onlya        IN A     198.18.5.1
_sip._tcp    IN SRV   10 5 5060 sipsrv
_sip._tcp    IN SRV   20 5 5061 sipsrv2.example.invalid.
sipsrv       IN A     198.18.1.50
sipsrv       IN AAAA  2001:db8:1::50
ptr          IN PTR   www.diff.test.
chain1       IN CNAME chain2
chain2   120 IN CNAME chain3
chain3       IN CNAME www
upper        IN CNAME WWW
tother       IN CNAME host.other.test.
tout         IN CNAME target.example.invalid.
loopa        IN CNAME loopb
loopb        IN CNAME loopa
self         IN CNAME self
dangling     IN CNAME nothere.diff.test.
towild       IN CNAME foo.wild.diff.test.
toent        IN CNAME ent.diff.test.
tosub        IN CNAME www.sub.diff.test.
*.wild       IN A     198.18.2.1
*.wild       IN TXT   "wildcard"
exists.wild  IN A     198.18.2.99
*.wcname     IN CNAME www.diff.test.
*.wcout      IN CNAME target.example.invalid.
x.ent        IN A     198.18.3.1
*.a.went     IN A     198.18.3.2
*.a.went     IN MX    10 mail.diff.test.
sub          IN NS    ns.sub.diff.test.
sub          IN NS    ns.outside.example.invalid.
ns.sub       IN A     198.18.6.1
ns.sub       IN AAAA  2001:db8:6::1
www.sub      IN A     198.18.6.80
deep.below.sub IN TXT "occluded"
secure       IN NS    ns.secure
secure       IN DS    12345 13 2 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D
ns.secure    IN A     198.18.7.1
)";
  // A referral too big for 512 bytes: 13 NS with A + AAAA glue each.
  for (int i = 1; i <= 13; ++i) {
    absl::StrAppendFormat(&z, "bigref IN NS nameserver%02d.bigref\n", i);
  }
  for (int i = 1; i <= 13; ++i) {
    absl::StrAppendFormat(&z, "nameserver%02d.bigref IN A 198.18.8.%d\n", i, i);
    absl::StrAppendFormat(&z, "nameserver%02d.bigref IN AAAA 2001:db8:8::%x\n", i, i);
  }
  // An MX RRset whose targets' addresses do not all fit in 512 bytes.
  for (int i = 1; i <= 13; ++i) {
    absl::StrAppendFormat(&z, "manymx IN MX 10 mx%02d.manymx\n", i);
    absl::StrAppendFormat(&z, "mx%02d.manymx IN A 198.18.12.%d\n", i, i);
    absl::StrAppendFormat(&z, "mx%02d.manymx IN AAAA 2001:db8:12::%x\n", i, i);
  }
  // RRsets over 512 bytes (40 A = 671 bytes) and over 1232 bytes (100 A).
  for (int i = 1; i <= 40; ++i) absl::StrAppendFormat(&z, "big IN A 198.18.9.%d\n", i);
  for (int i = 1; i <= 100; ++i) absl::StrAppendFormat(&z, "huge IN A 198.18.10.%d\n", i);
  return z;
}

// A second zone served by the same snapshot; negative TTL = min(600, 120) = 120.
constexpr char kOtherZone[] = R"($ORIGIN other.test.
$TTL 600
@     IN SOA ns1.other.test. hostmaster.other.test. 1 7200 3600 1209600 120
@     IN NS  ns1
ns1   IN A   198.18.20.1
host  IN A   198.18.20.2
back  IN CNAME www.diff.test.
)";

// SOA TTL below MINIMUM: negative TTL = min(60, 300) = 60.
constexpr char kShortZone[] = R"($ORIGIN short.test.
@     60 IN SOA ns1.short.test. hostmaster.short.test. 1 7200 3600 1209600 300
@     60 IN NS  ns1
ns1   60 IN A   198.18.30.1
)";

// A snapshot and the engine reading it (the engine keeps pointers into the snapshot).
struct Server {
  std::unique_ptr<maps::SnapshotReader> snapshot;
  std::unique_ptr<Engine> engine;
};

Server MakeServer(const std::string& server_yaml = "") {
  auto snap = sxt::BuildTestSnapshot(
      {{"diff.test.", DiffZone()}, {"other.test.", kOtherZone}, {"short.test.", kShortZone}},
      server_yaml);
  if (!snap.ok()) {
    // Nothing below can run without it; say why once and stop.
    std::fprintf(stderr, "BuildTestSnapshot failed: %s\n", snap.status().ToString().c_str());
    std::abort();
  }
  Server s;
  s.snapshot = std::move(snap).value();
  s.engine = std::make_unique<Engine>(*s.snapshot);
  return s;
}

// The default configuration (no server section), built once.
const Engine& DefaultEngine() {
  static const Server* s = new Server(MakeServer());
  return *s->engine;
}

// ---------------------------------------------------------------------------------------------
// A small response decoder

struct Response {
  size_t size = 0;
  std::string error;  // empty when the message decoded cleanly
  uint16_t id = 0;
  uint8_t flags1 = 0, flags2 = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string qname;  // as sent back, case kept
  uint16_t qtype = 0, qclass = 0;
  std::vector<std::string> answer, authority, additional;  // presentation form; OPT apart
  bool has_opt = false;
  uint16_t opt_udp_size = 0;
  uint8_t opt_ext_rcode = 0, opt_version = 0;
  bool opt_do = false;
  std::vector<std::pair<uint16_t, std::string>> opt_options;
  // Bytes the names take in the message, and what they would take with optimal compression.
  size_t name_bytes = 0, optimal_name_bytes = 0;

  bool qr() const { return flags1 & 0x80; }
  int opcode() const { return (flags1 >> 3) & 0xF; }
  bool aa() const { return flags1 & 0x04; }
  bool tc() const { return flags1 & 0x02; }
  bool rd() const { return flags1 & 0x01; }
  bool ra() const { return flags2 & 0x80; }
  bool z() const { return flags2 & 0x40; }
  bool ad() const { return flags2 & 0x20; }
  bool cd() const { return flags2 & 0x10; }
  uint16_t rcode() const { return flags2 & 0xF; }  // header rcode only
  uint16_t ext_rcode() const { return static_cast<uint16_t>(opt_ext_rcode << 4 | rcode()); }
  std::optional<std::string> option(uint16_t code) const {
    for (const auto& [c, data] : opt_options) {
      if (c == code) return data;
    }
    return std::nullopt;
  }
};

std::string TypeName(uint16_t t) {
  switch (t) {
    case kA:
      return "A";
    case kNs:
      return "NS";
    case kCname:
      return "CNAME";
    case kSoa:
      return "SOA";
    case kPtr:
      return "PTR";
    case kMx:
      return "MX";
    case kTxt:
      return "TXT";
    case kAaaa:
      return "AAAA";
    case kSrv:
      return "SRV";
    case kDs:
      return "DS";
    case kAny:
      return "ANY";
    default:
      return absl::StrCat("TYPE", t);
  }
}

std::string ClassName(uint16_t c) {
  switch (c) {
    case kIn:
      return "IN";
    case kCh:
      return "CH";
    default:
      return absl::StrCat("CLASS", c);
  }
}

class Decoder {
 public:
  Decoder(const uint8_t* m, size_t len) : m_(m), len_(len) {}

  Response Run() {
    r_.size = len_;
    if (len_ < 12) {
      r_.error = "shorter than a header";
      return r_;
    }
    r_.id = Get16(0);
    r_.flags1 = m_[2];
    r_.flags2 = m_[3];
    r_.qdcount = Get16(4);
    r_.ancount = Get16(6);
    r_.nscount = Get16(8);
    r_.arcount = Get16(10);
    size_t pos = 12;
    if (r_.qdcount > 1) return Fail("qdcount > 1");
    if (r_.qdcount == 1) {
      std::vector<std::string> labels;
      if (!TakeName(&pos, /*compressible=*/true, &labels)) return r_;
      r_.qname = Text(labels);
      if (pos + 4 > len_) return Fail("question truncated");
      r_.qtype = Get16(pos);
      r_.qclass = Get16(pos + 2);
      pos += 4;
    }
    std::vector<std::string>* sections[3] = {&r_.answer, &r_.authority, &r_.additional};
    const uint16_t counts[3] = {r_.ancount, r_.nscount, r_.arcount};
    for (int s = 0; s < 3; ++s) {
      for (uint16_t i = 0; i < counts[s]; ++i) {
        std::vector<std::string> owner;
        if (!TakeName(&pos, true, &owner)) return r_;
        if (pos + 10 > len_) return Fail("record header truncated");
        const uint16_t type = Get16(pos), rclass = Get16(pos + 2);
        const uint32_t ttl = Get32(pos + 4);
        const uint16_t rdlen = Get16(pos + 8);
        pos += 10;
        if (pos + rdlen > len_) return Fail("rdata runs past the end");
        const size_t end = pos + rdlen;
        if (type == 41) {
          if (s != 2) return Fail("OPT outside the additional section");
          if (r_.has_opt) return Fail("two OPT records");
          if (!owner.empty()) return Fail("OPT owner is not the root");
          r_.has_opt = true;
          r_.opt_udp_size = rclass;
          r_.opt_ext_rcode = static_cast<uint8_t>(ttl >> 24);
          r_.opt_version = static_cast<uint8_t>(ttl >> 16);
          r_.opt_do = ttl & 0x8000;
          while (pos < end) {
            if (pos + 4 > end) return Fail("OPT option header truncated");
            const uint16_t code = Get16(pos), olen = Get16(pos + 2);
            if (pos + 4 + olen > end) return Fail("OPT option overruns the rdata");
            r_.opt_options.emplace_back(
                code, std::string(reinterpret_cast<const char*>(m_ + pos + 4), olen));
            pos += 4 + olen;
          }
          continue;
        }
        std::string rdata;
        if (!Rdata(type, &pos, end, &rdata)) return r_;
        if (pos != end) return Fail(absl::StrCat(TypeName(type), " rdata length mismatch"));
        sections[s]->push_back(absl::StrCat(Text(owner), " ", ttl, " ", ClassName(rclass), " ",
                                            TypeName(type), rdata.empty() ? "" : " ", rdata));
      }
    }
    if (pos != len_) return Fail(absl::StrCat(len_ - pos, " trailing bytes"));
    return r_;
  }

 private:
  uint16_t Get16(size_t p) const { return static_cast<uint16_t>(m_[p] << 8 | m_[p + 1]); }
  uint32_t Get32(size_t p) const { return uint32_t{Get16(p)} << 16 | Get16(p + 2); }

  Response Fail(const std::string& what) {
    if (r_.error.empty()) r_.error = what;
    return r_;
  }
  bool Error(const std::string& what) {
    Fail(what);
    return false;
  }

  static std::string Text(const std::vector<std::string>& labels) {
    return labels.empty() ? "." : absl::StrCat(absl::StrJoin(labels, "."), ".");
  }
  static std::string Key(const std::vector<std::string>& labels, size_t from) {
    std::vector<std::string> rest(labels.begin() + from, labels.end());
    return absl::AsciiStrToLower(absl::StrJoin(rest, "."));
  }

  // Reads the name at *pos, following compression pointers; each pointer must point before
  // itself. Counts its wire bytes and its cost with optimal compression: the longest suffix
  // already written in a compressible position becomes a pointer.
  bool TakeName(size_t* pos, bool compressible, std::vector<std::string>* labels) {
    labels->clear();
    size_t i = *pos, end = 0;
    bool jumped = false;
    for (int hops = 0;; ++hops) {
      if (hops > 255) return Error("pointer loop");
      if (i >= len_) return Error("name runs past the end");
      const uint8_t l = m_[i];
      if ((l & 0xC0) == 0xC0) {
        if (i + 2 > len_) return Error("pointer truncated");
        const size_t target = (l & 0x3F) << 8 | m_[i + 1];
        if (target >= i)
          return Error(absl::StrCat("pointer at ", i, " points forward to ", target));
        if (!jumped) end = i + 2;
        jumped = true;
        i = target;
        continue;
      }
      if (l > 63) return Error("bad label type");
      if (l == 0) {
        if (!jumped) end = i + 1;
        break;
      }
      if (i + 1 + l > len_) return Error("label runs past the end");
      labels->emplace_back(reinterpret_cast<const char*>(m_ + i + 1), l);
      i += 1 + l;
    }
    r_.name_bytes += end - *pos;
    *pos = end;
    size_t optimal = 1;  // the root label
    size_t literal = 0;
    for (size_t k = 0; k < labels->size(); ++k) {
      if (compressible && written_.count(Key(*labels, k))) {
        optimal = literal + 2;
        break;
      }
      literal += 1 + (*labels)[k].size();
      optimal = literal + 1;
    }
    r_.optimal_name_bytes += optimal;
    if (compressible) {
      for (size_t k = 0; k < labels->size(); ++k) written_.insert(Key(*labels, k));
    }
    return true;
  }

  bool Rdata(uint16_t type, size_t* pos, size_t end, std::string* out) {
    const size_t len = end - *pos;
    std::vector<std::string> n1, n2;
    switch (type) {
      case kA: {
        if (len != 4) return Error("A rdata is not 4 bytes");
        *out = absl::StrFormat("%d.%d.%d.%d", m_[*pos], m_[*pos + 1], m_[*pos + 2], m_[*pos + 3]);
        *pos += 4;
        return true;
      }
      case kAaaa: {
        if (len != 16) return Error("AAAA rdata is not 16 bytes");
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, m_ + *pos, buf, sizeof(buf));
        *out = buf;
        *pos += 16;
        return true;
      }
      case kNs:
      case kCname:
      case kPtr:
        if (!TakeName(pos, true, &n1)) return false;
        *out = Text(n1);
        return true;
      case kMx:
        if (len < 3) return Error("MX rdata too short");
        *out = absl::StrCat(Get16(*pos), " ");
        *pos += 2;
        if (!TakeName(pos, true, &n1)) return false;
        absl::StrAppend(out, Text(n1));
        return true;
      case kSoa:
        if (!TakeName(pos, true, &n1) || !TakeName(pos, true, &n2)) return false;
        if (*pos + 20 > end) return Error("SOA rdata too short");
        *out = absl::StrCat(Text(n1), " ", Text(n2), " ", Get32(*pos), " ", Get32(*pos + 4), " ",
                            Get32(*pos + 8), " ", Get32(*pos + 12), " ", Get32(*pos + 16));
        *pos += 20;
        return true;
      case kSrv:
        // RFC 2782: the target is never compressed.
        if (len < 7) return Error("SRV rdata too short");
        *out = absl::StrCat(Get16(*pos), " ", Get16(*pos + 2), " ", Get16(*pos + 4), " ");
        *pos += 6;
        if (!TakeName(pos, false, &n1)) return false;
        absl::StrAppend(out, Text(n1));
        return true;
      case kTxt: {
        std::vector<std::string> strings;
        while (*pos < end) {
          const uint8_t l = m_[*pos];
          if (*pos + 1 + l > end) return Error("TXT string overruns the rdata");
          strings.push_back(absl::StrCat(
              "\"", std::string(reinterpret_cast<const char*>(m_ + *pos + 1), l), "\""));
          *pos += 1 + l;
        }
        *out = absl::StrJoin(strings, " ");
        return true;
      }
      case kDs: {
        if (len < 4) return Error("DS rdata too short");
        *out = absl::StrCat(Get16(*pos), " ", m_[*pos + 2], " ", m_[*pos + 3], " ");
        for (size_t k = *pos + 4; k < end; ++k) absl::StrAppendFormat(out, "%02X", m_[k]);
        *pos = end;
        return true;
      }
      default: {
        *out = absl::StrCat("\\# ", len, len ? " " : "");
        for (size_t k = *pos; k < end; ++k) absl::StrAppendFormat(out, "%02x", m_[k]);
        *pos = end;
        return true;
      }
    }
  }

  const uint8_t* m_;
  size_t len_;
  Response r_;
  std::set<std::string> written_;  // lowered suffixes of the compressible names so far
};

// ---------------------------------------------------------------------------------------------
// Asking

constexpr ClientInfo kUdp{};
constexpr ClientInfo kTcp{.tcp = true};

struct Raw {
  size_t len = 0;
  Bytes bytes;
  AnswerInfo info;
};

// Answers `query` into a separate 65535-byte buffer, and again in place (the DPDK path), and
// expects both to give the same bytes.
Raw AnswerRaw(const Engine& e, const Bytes& query, const ClientInfo& client) {
  Raw raw;
  raw.bytes.assign(kMaxDnsMessage, 0xAA);
  raw.len =
      e.Answer(query.data(), query.size(), client, raw.bytes.data(), raw.bytes.size(), &raw.info);
  raw.bytes.resize(raw.len);

  Bytes in_place(kMaxDnsMessage, 0x55);
  std::copy(query.begin(), query.end(), in_place.begin());
  AnswerInfo info;
  const size_t n =
      e.Answer(in_place.data(), query.size(), client, in_place.data(), in_place.size(), &info);
  in_place.resize(n);
  EXPECT_EQ(in_place, raw.bytes) << "answering in place gives different bytes";
  if (raw.len > 0) {
    EXPECT_EQ(info.rcode, raw.info.rcode);
    EXPECT_EQ(info.truncated, raw.info.truncated);
  }
  return raw;
}

Response Ask(const Engine& e, const Bytes& query, const ClientInfo& client = kUdp) {
  const Raw raw = AnswerRaw(e, query, client);
  if (raw.len == 0) {
    ADD_FAILURE() << "query was dropped";
    return {};
  }
  Response r = Decoder(raw.bytes.data(), raw.len).Run();
  EXPECT_EQ(r.error, "") << "response does not decode cleanly";
  if (r.size < 0x3FFF) {
    EXPECT_EQ(r.name_bytes, r.optimal_name_bytes) << "names are not compressed optimally";
  }
  EXPECT_TRUE(r.qr());
  EXPECT_EQ(raw.info.rcode, r.ext_rcode()) << "AnswerInfo.rcode";
  EXPECT_EQ(raw.info.truncated, r.tc()) << "AnswerInfo.truncated";
  const size_t limit = client.tcp ? kMaxDnsMessage : std::max<size_t>(512, r.opt_udp_size);
  EXPECT_LE(r.size, limit);
  return r;
}

Response Ask(const Engine& e, const std::string& name, uint16_t qtype,
             const sxt::QueryOptions& o = {}, const ClientInfo& client = kUdp) {
  return Ask(e, sxt::MakeQuery(name, qtype, o), client);
}

sxt::QueryOptions Edns(int size = 1232) {
  sxt::QueryOptions o;
  o.edns_size = size;
  return o;
}

// One query and the whole expected response, dig-style: the status is the rcode and the AA and
// TC flags ("NXDOMAIN aa"), and each record is prefixed with its section ("an", "ns", "ar").
struct Row {
  std::string rule;    // what the row shows
  std::string query;   // "name TYPE", class IN, no EDNS
  std::string status;  // "NOERROR aa"
  std::vector<std::string> records;
};

uint16_t TypeCode(const std::string& name) {
  for (uint16_t t : {kA, kNs, kCname, kSoa, kPtr, kMx, kTxt, kAaaa, kSrv, kDs, kAny}) {
    if (TypeName(t) == name) return t;
  }
  uint32_t t = 0;
  if (absl::StartsWith(name, "TYPE") && absl::SimpleAtoi(name.substr(4), &t)) {
    return static_cast<uint16_t>(t);
  }
  ADD_FAILURE() << "unknown type " << name;
  return 0;
}

std::string RcodeName(uint16_t rcode) {
  switch (rcode) {
    case kNoError:
      return "NOERROR";
    case kFormErr:
      return "FORMERR";
    case kNxDomain:
      return "NXDOMAIN";
    case kNotImp:
      return "NOTIMP";
    case kRefused:
      return "REFUSED";
    case kNotAuth:
      return "NOTAUTH";
    case kBadVers:
      return "BADVERS";
    default:
      return absl::StrCat("RCODE", rcode);
  }
}

std::string Status(const Response& r) {
  return absl::StrCat(RcodeName(r.ext_rcode()), r.aa() ? " aa" : "", r.tc() ? " tc" : "");
}

std::vector<std::string> Records(const Response& r) {
  std::vector<std::string> all;
  for (const std::string& rr : r.answer) all.push_back("an " + rr);
  for (const std::string& rr : r.authority) all.push_back("ns " + rr);
  for (const std::string& rr : r.additional) all.push_back("ar " + rr);
  return all;
}

void ExpectRows(const Engine& e, const std::vector<Row>& rows, const ClientInfo& client = kUdp) {
  for (const Row& row : rows) {
    SCOPED_TRACE(absl::StrCat(row.rule, " (", row.query, ")"));
    const std::vector<std::string> q = absl::StrSplit(row.query, ' ');
    ASSERT_EQ(q.size(), 2u);
    const Response r = Ask(e, q[0], TypeCode(q[1]), {}, client);
    EXPECT_EQ(Status(r), row.status);
    EXPECT_THAT(Records(r), ElementsAreArray(row.records));
    EXPECT_EQ(r.qname, q[0] + ".");
    EXPECT_FALSE(r.has_opt);
  }
}

// Records the tables use more than once.
const std::string kDiffSoa =
    "diff.test. 300 IN SOA ns1.diff.test. hostmaster.diff.test. 2024010101 7200 3600 1209600 300";
const std::string kNsDiffSoa = "ns " + kDiffSoa;
const std::vector<std::string> kWwwA = {"an www.diff.test. 300 IN A 198.18.1.1",
                                        "an www.diff.test. 300 IN A 198.18.1.2"};
const std::vector<std::string> kSubReferral = {
    "ns sub.diff.test. 3600 IN NS ns.sub.diff.test.",
    "ns sub.diff.test. 3600 IN NS ns.outside.example.invalid.",
    "ar ns.sub.diff.test. 3600 IN A 198.18.6.1", "ar ns.sub.diff.test. 3600 IN AAAA 2001:db8:6::1"};
const std::vector<std::string> kApexNs = {
    "an diff.test. 3600 IN NS ns1.diff.test.", "an diff.test. 3600 IN NS ns2.diff.test.",
    "ar ns1.diff.test. 3600 IN A 198.18.0.1",  "ar ns1.diff.test. 3600 IN AAAA 2001:db8::1",
    "ar ns2.diff.test. 7200 IN A 198.18.0.2",  "ar ns2.diff.test. 7200 IN AAAA 2001:db8::2"};

std::vector<std::string> Concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// ---------------------------------------------------------------------------------------------
// Authoritative data

TEST(Engine, SetsAaOnlyOnAuthoritativeAnswers) {
  struct Case {
    std::string qname;
    uint16_t qtype, qclass;
    bool aa;
  } cases[] = {
      {"www.diff.test", kA, kIn, kAa},        // data
      {"onlya.diff.test", kAaaa, kIn, kAa},   // NODATA
      {"nx.diff.test", kA, kIn, kAa},         // NXDOMAIN
      {"www.sub.diff.test", kA, kIn, kNoAa},  // referral
      {"tosub.diff.test", kA, kIn, kAa},      // CNAME, then referral: the CNAME is ours
      {"www.example.com", kA, kIn, kNoAa},    // REFUSED
      {"version.bind", kTxt, kCh, kNoAa},     // CHAOS
      {"www.diff.test", kA, kClassAny, kAa},  // qclass ANY answered as IN
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.qname);
    sxt::QueryOptions o;
    o.qclass = c.qclass;
    EXPECT_EQ(Ask(DefaultEngine(), c.qname, c.qtype, o).aa(), c.aa);
  }
}

TEST(Engine, AnswersExactMatches) {
  ExpectRows(
      DefaultEngine(),
      {
          {"A RRset, both RRs", "www.diff.test A", "NOERROR aa", kWwwA},
          {"AAAA with the $TTL default",
           "www.diff.test AAAA",
           "NOERROR aa",
           {"an www.diff.test. 3600 IN AAAA 2001:db8:1::1"}},
          {"TXT with its own TTL",
           "www.diff.test TXT",
           "NOERROR aa",
           {"an www.diff.test. 600 IN TXT \"hello world\""}},
          {"apex SOA, nothing in authority",
           "diff.test SOA",
           "NOERROR aa",
           {"an diff.test. 3600 IN SOA ns1.diff.test. hostmaster.diff.test. 2024010101 7200 3600 "
            "1209600 300"}},
          {"PTR",
           "ptr.diff.test PTR",
           "NOERROR aa",
           {"an ptr.diff.test. 3600 IN PTR www.diff.test."}},
          {"literal * owner",
           "*.wild.diff.test A",
           "NOERROR aa",
           {"an *.wild.diff.test. 3600 IN A 198.18.2.1"}},
          {"a name in another zone of the snapshot",
           "host.other.test A",
           "NOERROR aa",
           {"an host.other.test. 600 IN A 198.18.20.2"}},
      });
}

TEST(Engine, KeepsQueryCaseInQuestionAndOwners) {
  const Response r = Ask(DefaultEngine(), "WwW.DiFf.TeSt", kA);
  EXPECT_EQ(r.qname, "WwW.DiFf.TeSt.");
  EXPECT_THAT(r.answer, ElementsAre("WwW.DiFf.TeSt. 300 IN A 198.18.1.1",
                                    "WwW.DiFf.TeSt. 300 IN A 198.18.1.2"));

  // The SOA owner of a negative answer is compressed to the question, so it carries its case.
  const Response nx = Ask(DefaultEngine(), "nx.DiFf.TeSt", kA);
  EXPECT_EQ(nx.rcode(), kNxDomain);
  EXPECT_EQ(nx.qname, "nx.DiFf.TeSt.");
  ASSERT_EQ(nx.authority.size(), 1u);
  EXPECT_THAT(nx.authority[0], ::testing::StartsWith("DiFf.TeSt. 300 IN SOA "));
  EXPECT_EQ(absl::AsciiStrToLower(nx.authority[0]), absl::AsciiStrToLower(kDiffSoa));
}

TEST(Engine, MatchesNamesCaseInsensitively) {
  ExpectRows(
      DefaultEngine(),
      {
          {"upper-case query",
           "WWW.DIFF.TEST A",
           "NOERROR aa",
           {"an WWW.DIFF.TEST. 300 IN A 198.18.1.1", "an WWW.DIFF.TEST. 300 IN A 198.18.1.2"}},
          {"mixed-case owner in the file (MiXeD)",
           "mixed.diff.test A",
           "NOERROR aa",
           {"an mixed.diff.test. 3600 IN A 198.18.4.1"}},
          {"both", "MIXED.DIFF.TEST A", "NOERROR aa", {"an MIXED.DIFF.TEST. 3600 IN A 198.18.4.1"}},
          {"wildcard",
           "q.WILD.diff.test A",
           "NOERROR aa",
           {"an q.WILD.diff.test. 3600 IN A 198.18.2.1"}},
      });
}

// ---------------------------------------------------------------------------------------------
// CNAME (RFC 1034 4.3.2, RFC 6604), as Knot does it

TEST(Engine, FollowsCnamesAsKnotDoes) {
  ExpectRows(
      DefaultEngine(),
      {
          {"chain in zone, each RR with its own TTL", "chain1.diff.test A", "NOERROR aa",
           Concat({{"an chain1.diff.test. 3600 IN CNAME chain2.diff.test.",
                    "an chain2.diff.test. 120 IN CNAME chain3.diff.test.",
                    "an chain3.diff.test. 3600 IN CNAME www.diff.test."},
                   kWwwA})},
          {"chain for another type",
           "chain1.diff.test TXT",
           "NOERROR aa",
           {"an chain1.diff.test. 3600 IN CNAME chain2.diff.test.",
            "an chain2.diff.test. 120 IN CNAME chain3.diff.test.",
            "an chain3.diff.test. 3600 IN CNAME www.diff.test.",
            "an www.diff.test. 600 IN TXT \"hello world\""}},
          {"qtype CNAME is not followed",
           "chain1.diff.test CNAME",
           "NOERROR aa",
           {"an chain1.diff.test. 3600 IN CNAME chain2.diff.test."}},
          {"target case kept: the next owner points at the CNAME rdata",
           "upper.diff.test A",
           "NOERROR aa",
           {"an upper.diff.test. 3600 IN CNAME WWW.diff.test.",
            "an WWW.diff.test. 300 IN A 198.18.1.1", "an WWW.diff.test. 300 IN A 198.18.1.2"}},
          {"to another zone of the same snapshot: not followed",
           "tother.diff.test A",
           "NOERROR aa",
           {"an tother.diff.test. 3600 IN CNAME host.other.test."}},
          {"and back: not followed either",
           "back.other.test A",
           "NOERROR aa",
           {"an back.other.test. 600 IN CNAME www.diff.test."}},
          {"out-of-zone target",
           "tout.diff.test A",
           "NOERROR aa",
           {"an tout.diff.test. 3600 IN CNAME target.example.invalid."}},
          {"loop: each CNAME once",
           "loopa.diff.test A",
           "NOERROR aa",
           {"an loopa.diff.test. 3600 IN CNAME loopb.diff.test.",
            "an loopb.diff.test. 3600 IN CNAME loopa.diff.test."}},
          {"CNAME to itself",
           "self.diff.test A",
           "NOERROR aa",
           {"an self.diff.test. 3600 IN CNAME self.diff.test."}},
          {"dangling: NXDOMAIN for the target (RFC 6604), SOA",
           "dangling.diff.test A",
           "NXDOMAIN aa",
           {"an dangling.diff.test. 3600 IN CNAME nothere.diff.test.", kNsDiffSoa}},
          {"to an empty non-terminal: NODATA for the target",
           "toent.diff.test A",
           "NOERROR aa",
           {"an toent.diff.test. 3600 IN CNAME ent.diff.test.", kNsDiffSoa}},
          {"to a wildcard-matched name: synthesized",
           "towild.diff.test A",
           "NOERROR aa",
           {"an towild.diff.test. 3600 IN CNAME foo.wild.diff.test.",
            "an foo.wild.diff.test. 3600 IN A 198.18.2.1"}},
          {"to below a cut: referral, AA kept for the CNAME", "tosub.diff.test A", "NOERROR aa",
           Concat({{"an tosub.diff.test. 3600 IN CNAME www.sub.diff.test."}, kSubReferral})},
          {"wildcard CNAME: owner is the qname, chain followed", "abc.wcname.diff.test A",
           "NOERROR aa",
           Concat({{"an abc.wcname.diff.test. 3600 IN CNAME www.diff.test."}, kWwwA})},
          {"wildcard CNAME out of zone",
           "abc.wcout.diff.test A",
           "NOERROR aa",
           {"an abc.wcout.diff.test. 3600 IN CNAME target.example.invalid."}},
      });
}

// ---------------------------------------------------------------------------------------------
// Wildcards (RFC 4592) and empty non-terminals

TEST(Engine, WildcardSynthesizesOwnerFromQname) {
  ExpectRows(DefaultEngine(),
             {
                 {"one label below",
                  "q.wild.diff.test A",
                  "NOERROR aa",
                  {"an q.wild.diff.test. 3600 IN A 198.18.2.1"}},
                 {"deep match, three labels below",
                  "a.b.c.wild.diff.test A",
                  "NOERROR aa",
                  {"an a.b.c.wild.diff.test. 3600 IN A 198.18.2.1"}},
                 {"other type at the wildcard",
                  "q.wild.diff.test TXT",
                  "NOERROR aa",
                  {"an q.wild.diff.test. 3600 IN TXT \"wildcard\""}},
                 {"empty non-terminal as closest encloser",
                  "q.a.went.diff.test A",
                  "NOERROR aa",
                  {"an q.a.went.diff.test. 3600 IN A 198.18.3.2"}},
                 {"synthesized MX gets in-zone addresses",
                  "z.q.a.went.diff.test MX",
                  "NOERROR aa",
                  {"an z.q.a.went.diff.test. 3600 IN MX 10 mail.diff.test.",
                   "ar mail.diff.test. 3600 IN A 198.18.1.25",
                   "ar mail.diff.test. 3600 IN AAAA 2001:db8:1::25"}},
                 {"wildcard NODATA", "foo.wild.diff.test AAAA", "NOERROR aa", {kNsDiffSoa}},
                 {"an existing name blocks the wildcard below it",
                  "x.exists.wild.diff.test A",
                  "NXDOMAIN aa",
                  {kNsDiffSoa}},
                 {"an existing name is not completed from the wildcard",
                  "exists.wild.diff.test TXT",
                  "NOERROR aa",
                  {kNsDiffSoa}},
                 {"literal * gets the wildcard's own data",
                  "*.wild.diff.test TXT",
                  "NOERROR aa",
                  {"an *.wild.diff.test. 3600 IN TXT \"wildcard\""}},
                 {"below the wildcard node itself: no *.*.wild",
                  "x.*.wild.diff.test A",
                  "NXDOMAIN aa",
                  {kNsDiffSoa}},
             });
}

TEST(Engine, EmptyNonTerminalsAreNodata) {
  ExpectRows(
      DefaultEngine(),
      {
          {"ENT above data", "ent.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"parent of a wildcard", "wild.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"ENT two labels above a wildcard", "went.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"ENT that is a wildcard's parent", "a.went.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"below an ENT without wildcard", "nope.ent.diff.test A", "NXDOMAIN aa", {kNsDiffSoa}},
          {"below an ENT whose wildcard is deeper",
           "zz.went.diff.test A",
           "NXDOMAIN aa",
           {kNsDiffSoa}},
      });
}

// ---------------------------------------------------------------------------------------------
// Referrals: AA clear, every NS in authority, glue only for in-bailiwick names

TEST(Engine, RefersBelowZoneCuts) {
  ExpectRows(
      DefaultEngine(),
      {
          {"at the cut", "sub.diff.test A", "NOERROR", kSubReferral},
          {"occluded A below the cut", "www.sub.diff.test A", "NOERROR", kSubReferral},
          {"occluded TXT two labels below", "deep.below.sub.diff.test TXT", "NOERROR",
           kSubReferral},
          {"nonexistent name below the cut", "nothing.sub.diff.test A", "NOERROR", kSubReferral},
          {"the glue name itself", "ns.sub.diff.test A", "NOERROR", kSubReferral},
          {"NS at the cut is a referral, not an answer", "sub.diff.test NS", "NOERROR",
           kSubReferral},
          {"DS below the cut is the child's", "x.sub.diff.test DS", "NOERROR", kSubReferral},
          {"ANY at the cut", "sub.diff.test ANY", "NOERROR", kSubReferral},
          {"DS at the cut is answered by the parent (NODATA)",
           "sub.diff.test DS",
           "NOERROR aa",
           {kNsDiffSoa}},
          {"DS at the cut is answered by the parent (data)",
           "secure.diff.test DS",
           "NOERROR aa",
           {"an secure.diff.test. 3600 IN DS 12345 13 2 "
            "3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D"}},
          {"another cut, one NS",
           "secure.diff.test A",
           "NOERROR",
           {"ns secure.diff.test. 3600 IN NS ns.secure.diff.test.",
            "ar ns.secure.diff.test. 3600 IN A 198.18.7.1"}},
      });
}

// ---------------------------------------------------------------------------------------------
// Negative answers (RFC 2308): SOA in authority with TTL min(SOA TTL, MINIMUM)

TEST(Engine, NegativeAnswersCarrySoaWithMinimumTtl) {
  ExpectRows(
      DefaultEngine(),
      {
          {"NXDOMAIN, min(3600, 300)", "nx.diff.test A", "NXDOMAIN aa", {kNsDiffSoa}},
          {"NODATA", "onlya.diff.test AAAA", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for an unknown type", "www.diff.test TYPE65401", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for qtype OPT", "www.diff.test TYPE41", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for qtype MAILB", "diff.test TYPE253", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for DS at the apex", "diff.test DS", "NOERROR aa", {kNsDiffSoa}},
          {"NXDOMAIN in the other zone, min(600, 120)",
           "nx.other.test A",
           "NXDOMAIN aa",
           {"ns other.test. 120 IN SOA ns1.other.test. hostmaster.other.test. 1 7200 3600 1209600 "
            "120"}},
          {"SOA TTL below MINIMUM, min(60, 300)",
           "nx.short.test A",
           "NXDOMAIN aa",
           {"ns short.test. 60 IN SOA ns1.short.test. hostmaster.short.test. 1 7200 3600 1209600 "
            "300"}},
      });
}

TEST(Engine, RefusesNamesOutsideServedZones) {
  for (const std::string qname : {"www.example.com", ".", "test", "xdiff.test"}) {
    SCOPED_TRACE(qname);
    const Response r = Ask(DefaultEngine(), qname, kA);
    EXPECT_EQ(Status(r), "REFUSED");
    EXPECT_EQ(r.qdcount, 1);
    EXPECT_EQ(r.ancount + r.nscount + r.arcount, 0);

    // With EDNS the OPT carries EDE 20 (Not Authoritative, RFC 8914 4.21).
    const Response e = Ask(DefaultEngine(), qname, kA, Edns());
    EXPECT_EQ(Status(e), "REFUSED");
    ASSERT_TRUE(e.has_opt);
    EXPECT_THAT(e.opt_options, ElementsAre(Pair(15, B({0, 20}))));
  }
}

TEST(Engine, RefusesClassesOtherThanInAndAny) {
  for (const uint16_t qclass : {kClassNone, kHs, uint16_t{77}}) {
    SCOPED_TRACE(qclass);
    sxt::QueryOptions o;
    o.qclass = qclass;
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(Status(r), "REFUSED");
    EXPECT_EQ(r.qclass, qclass);
    EXPECT_THAT(Records(r), IsEmpty());
  }
}

TEST(Engine, AnswersQclassAnyAsIn) {
  sxt::QueryOptions o;
  o.qclass = kClassAny;
  const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
  EXPECT_EQ(Status(r), "NOERROR aa");
  EXPECT_EQ(r.qclass, kClassAny);
  EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
}

// ---------------------------------------------------------------------------------------------
// ANY (RFC 8482): the lowest type's RRset, over UDP and TCP alike

TEST(Engine, AnswersAnyMinimally) {
  const std::vector<Row> rows = {
      {"apex: NS (the lowest type) with addresses", "diff.test ANY", "NOERROR aa", kApexNs},
      {"A, AAAA and TXT: the A RRset", "www.diff.test ANY", "NOERROR aa", kWwwA},
      {"CNAME node: the CNAME, not followed",
       "chain1.diff.test ANY",
       "NOERROR aa",
       {"an chain1.diff.test. 3600 IN CNAME chain2.diff.test."}},
      {"wildcard: the first synthesized RRset",
       "q.wild.diff.test ANY",
       "NOERROR aa",
       {"an q.wild.diff.test. 3600 IN A 198.18.2.1"}},
      {"ENT", "ent.diff.test ANY", "NOERROR aa", {kNsDiffSoa}},
      {"NXDOMAIN", "nx.diff.test ANY", "NXDOMAIN aa", {kNsDiffSoa}},
  };
  {
    SCOPED_TRACE("UDP");
    ExpectRows(DefaultEngine(), rows, kUdp);
  }
  {
    SCOPED_TRACE("TCP");
    ExpectRows(DefaultEngine(), rows, kTcp);
  }
}

// ---------------------------------------------------------------------------------------------
// Additional-section processing (RFC 1034 4.3.2 step 6, RFC 2782)

TEST(Engine, AddsInZoneAddressesForMxSrvAndNs) {
  ExpectRows(DefaultEngine(),
             {
                 {"MX: in-zone targets only, in rdata order",
                  "diff.test MX",
                  "NOERROR aa",
                  {"an diff.test. 3600 IN MX 10 mail.diff.test.",
                   "an diff.test. 3600 IN MX 20 mail2.diff.test.",
                   "an diff.test. 3600 IN MX 30 mx.example.invalid.",
                   "ar mail.diff.test. 3600 IN A 198.18.1.25",
                   "ar mail.diff.test. 3600 IN AAAA 2001:db8:1::25",
                   "ar mail2.diff.test. 3600 IN A 198.18.1.26"}},
                 {"SRV: in-zone target only (targets are never compressed)",
                  "_sip._tcp.diff.test SRV",
                  "NOERROR aa",
                  {"an _sip._tcp.diff.test. 3600 IN SRV 10 5 5060 sipsrv.diff.test.",
                   "an _sip._tcp.diff.test. 3600 IN SRV 20 5 5061 sipsrv2.example.invalid.",
                   "ar sipsrv.diff.test. 3600 IN A 198.18.1.50",
                   "ar sipsrv.diff.test. 3600 IN AAAA 2001:db8:1::50"}},
                 {"apex NS", "diff.test NS", "NOERROR aa", kApexNs},
                 {"nothing for other types",
                  "diff.test TXT",
                  "NOERROR aa",
                  {"an diff.test. 3600 IN TXT \"v=spf1 -all\""}},
             });
}

// ---------------------------------------------------------------------------------------------
// CHAOS (version.bind and friends)

TEST(Engine, RefusesChaosQueriesByDefault) {
  for (const std::string qname : {"version.bind", "version.server", "id.server", "hostname.bind"}) {
    SCOPED_TRACE(qname);
    sxt::QueryOptions o;
    o.qclass = kCh;
    const Response r = Ask(DefaultEngine(), qname, kTxt, o);
    EXPECT_EQ(r.rcode(), kRefused);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, qname + ".");
    EXPECT_THAT(r.answer, IsEmpty());
  }
}

TEST(Engine, AnswersChaosQueriesWhenConfigured) {
  const Server s = MakeServer("  version: \"sextant 1.0\"\n  identity: ns1.diff.test\n");
  struct Case {
    std::string qname;
    uint16_t qtype;
    uint16_t rcode;
    std::vector<std::string> answer;
  } cases[] = {
      {"version.bind", kTxt, kNoError, {"version.bind. 0 CH TXT \"sextant 1.0\""}},
      {"version.server", kTxt, kNoError, {"version.server. 0 CH TXT \"sextant 1.0\""}},
      {"id.server", kTxt, kNoError, {"id.server. 0 CH TXT \"ns1.diff.test\""}},
      {"hostname.bind", kTxt, kNoError, {"hostname.bind. 0 CH TXT \"ns1.diff.test\""}},
      {"VERSION.BIND", kTxt, kNoError, {"VERSION.BIND. 0 CH TXT \"sextant 1.0\""}},
      {"version.bind", kA, kRefused, {}},
      {"version.bind", kAny, kRefused, {}},
      {"authors.bind", kTxt, kRefused, {}},
      {"x.version.bind", kTxt, kRefused, {}},
      {"bind", kTxt, kRefused, {}},
      {"www.diff.test", kTxt, kRefused, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.qname, " ", TypeName(c.qtype)));
    sxt::QueryOptions o;
    o.qclass = kCh;
    const Response r = Ask(*s.engine, c.qname, c.qtype, o);
    EXPECT_EQ(r.rcode(), c.rcode);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, c.qname + ".");
    EXPECT_THAT(r.answer, ElementsAreArray(c.answer));
    EXPECT_THAT(r.authority, IsEmpty());
  }
}

TEST(Engine, RefusesChaosQueriesConfiguredEmpty) {
  // Knot refuses `version: ""` rather than answering an empty string.
  const Server s = MakeServer("  version: \"\"\n  identity: \"\"\n");
  for (const std::string qname : {"version.bind", "id.server"}) {
    SCOPED_TRACE(qname);
    sxt::QueryOptions o;
    o.qclass = kCh;
    EXPECT_EQ(Ask(*s.engine, qname, kTxt, o).rcode(), kRefused);
  }
}

// ---------------------------------------------------------------------------------------------
// Opcodes, meta types, header flags

TEST(Engine, AnswersOnlyStandardQueries) {
  struct Case {
    uint8_t opcode;
    uint16_t rcode;
  } cases[] = {
      {1, kNotImp},  // IQUERY
      {2, kNotImp},  // STATUS
      {3, kNotImp},  // unassigned
      // NOTIFY and UPDATE: Knot says NOTAUTH, but the spec asks NOTIMP for every opcode but
      // QUERY (commit fd43522; KNOT_BEHAVIOUR.md "Deliberate differences").
      {4, kNotImp},
      {5, kNotImp},
      {6, kNotImp},  // DSO
      {15, kNotImp},
  };
  for (const Case& c : cases) {
    for (const bool edns : {false, true}) {
      SCOPED_TRACE(absl::StrCat("opcode ", c.opcode, edns ? " with EDNS" : ""));
      sxt::QueryOptions o = edns ? Edns() : sxt::QueryOptions{};
      o.opcode = c.opcode;
      const Response r = Ask(DefaultEngine(), "diff.test", kSoa, o);
      EXPECT_EQ(r.rcode(), c.rcode);
      EXPECT_EQ(r.opcode(), c.opcode);
      EXPECT_FALSE(r.aa());
      EXPECT_EQ(r.qname, "diff.test.");
      EXPECT_THAT(r.answer, IsEmpty());
      EXPECT_EQ(r.has_opt, edns);
    }
  }
}

TEST(Engine, RejectsZoneTransfersAndQtypeZero) {
  struct Case {
    uint16_t qtype;
    ClientInfo client;
    uint16_t rcode;
  } cases[] = {
      {0, kUdp, kNotImp},      {kAxfr, kUdp, kNotImp},  {kAxfr, kTcp, kNotAuth},
      {kIxfr, kUdp, kNotAuth}, {kIxfr, kTcp, kNotAuth},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("qtype ", c.qtype, c.client.tcp ? " TCP" : " UDP"));
    const Response r = Ask(DefaultEngine(), "diff.test", c.qtype, {}, c.client);
    EXPECT_EQ(r.rcode(), c.rcode);
    EXPECT_EQ(r.qtype, c.qtype);
    EXPECT_THAT(r.answer, IsEmpty());
  }
}

TEST(Engine, CopiesIdAndRdAndClearsOtherFlags) {
  Bytes q = sxt::MakeQuery("www.diff.test", kA);
  q[0] = 0xBE;
  q[1] = 0xEF;
  q[2] |= 0x01 | 0x02 | 0x04;  // RD, and TC and AA that a query has no business setting
  q[3] = 0x80 | 0x40 | 0x20 | 0x10 | 0x03;  // RA, Z, AD, CD and an rcode
  const Response r = Ask(DefaultEngine(), q);
  EXPECT_EQ(r.id, 0xBEEF);
  EXPECT_TRUE(r.rd());
  EXPECT_TRUE(r.aa());  // ours, not the query's
  EXPECT_FALSE(r.tc());
  EXPECT_FALSE(r.ra());
  EXPECT_FALSE(r.z());
  EXPECT_FALSE(r.ad());
  EXPECT_FALSE(r.cd());
  EXPECT_EQ(r.rcode(), kNoError);

  const Response no_rd = Ask(DefaultEngine(), "www.diff.test", kA);
  EXPECT_FALSE(no_rd.rd());
}

// ---------------------------------------------------------------------------------------------
// Malformed and unanswerable queries

// Raw query pieces.
Bytes Header(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
  return {0x12,
          0x34,
          0,
          0,
          static_cast<uint8_t>(qd >> 8),
          static_cast<uint8_t>(qd),
          static_cast<uint8_t>(an >> 8),
          static_cast<uint8_t>(an),
          static_cast<uint8_t>(ns >> 8),
          static_cast<uint8_t>(ns),
          static_cast<uint8_t>(ar >> 8),
          static_cast<uint8_t>(ar)};
}
Bytes Question(const std::string& wire_name, uint16_t qtype = kA) {
  Bytes b(wire_name.begin(), wire_name.end());
  b.insert(b.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  return b;
}
Bytes Opt(uint16_t size = 1232, const std::string& rdata = "") {
  Bytes b = {
      0, 0, 41, static_cast<uint8_t>(size >> 8),         static_cast<uint8_t>(size),        0,
      0, 0, 0,  static_cast<uint8_t>(rdata.size() >> 8), static_cast<uint8_t>(rdata.size())};
  for (const char c : rdata) b.push_back(static_cast<uint8_t>(c));
  return b;
}
Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}
const std::string kDiffTestWire = B({4, 'd', 'i', 'f', 'f', 4, 't', 'e', 's', 't', 0});
const std::string kWwwWire = B({3, 'w', 'w', 'w'}) + kDiffTestWire;

// A wire name of `octets` bytes ending in diff.test (11 bytes): three 63-byte labels and one
// to make up the rest.
std::string LongName(size_t octets) {
  std::string n;
  for (int i = 0; i < 3; ++i) n += std::string(1, 63) + std::string(63, 'a' + i);
  const size_t rest = octets - n.size() - 11 - 1;
  n += std::string(1, static_cast<char>(rest)) + std::string(rest, 'z');
  return n + kDiffTestWire;
}

TEST(Engine, AnswersMalformedQueriesWithFormerr) {
  struct Case {
    std::string what;
    Bytes query;
    bool echoes_question;
    bool has_opt;
  } cases[] = {
      {"qdcount 0", Header(0, 0, 0, 0), false, false},
      {"qdcount 0 with EDNS: OPT kept", Cat({Header(0, 0, 0, 1), Opt()}), false, true},
      {"NOTIFY with qdcount 0", Cat({{0x12, 0x34, 4 << 3}, Bytes(9, 0)}), false, false},
      {"qdcount 1 and no question", Header(1, 0, 0, 0), false, false},
      {"qdcount 2", Cat({Header(2, 0, 0, 0), Question(kWwwWire), Question(kWwwWire)}), false,
       false},
      {"qdcount 2 with EDNS",
       Cat({Header(2, 0, 0, 1), Question(kWwwWire), Question(kWwwWire), Opt()}), false, false},
      {"compression pointer (to itself) in the qname",
       Cat({Header(1, 0, 0, 0), Question(B({0xC0, 12}))}), false, false},
      {"compression pointer after a label",
       Cat({Header(1, 0, 0, 0), Question(B({3, 'w', 'w', 'w', 0xC0, 12}))}), false, false},
      {"label longer than 63 (type 0x41)",
       Cat({Header(1, 0, 0, 0), Question(std::string(1, 0x41) + std::string(0x41, 'a') + '\0')}),
       false, false},
      {"qname of 256 octets", Cat({Header(1, 0, 0, 0), Question(LongName(256))}), false, false},
      {"question without type and class",
       Cat({Header(1, 0, 0, 0), Bytes(kWwwWire.begin(), kWwwWire.end())}), false, false},
      {"question cut inside the name", Cat({Header(1, 0, 0, 0), Bytes{3, 'w', 'w'}}), false, false},
      {"trailing garbage after the question",
       Cat({Header(1, 0, 0, 0), Question(kWwwWire), {0xDE, 0xAD}}), true, false},
      {"trailing garbage after the OPT: no OPT back",
       Cat({Header(1, 0, 0, 1), Question(kWwwWire), Opt(), {0xDE, 0xAD}}), true, false},
      {"two OPT records", Cat({Header(1, 0, 0, 2), Question(kWwwWire), Opt(), Opt()}), true, false},
      {"OPT in the answer section", Cat({Header(1, 1, 0, 0), Question(kWwwWire), Opt()}), true,
       false},
      {"nscount claims a record that is not there", Cat({Header(1, 0, 1, 0), Question(kWwwWire)}),
       true, false},
      {"arcount claims a record that is not there", Cat({Header(1, 0, 0, 1), Question(kWwwWire)}),
       true, false},
      {"OPT option overruns the OPT rdata",
       Cat({Header(1, 0, 0, 1), Question(kWwwWire), Opt(1232, B({0, 3, 0, 10}))}), true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Response r = Ask(DefaultEngine(), c.query);
    EXPECT_EQ(Status(r), "FORMERR");
    EXPECT_EQ(r.qdcount, c.echoes_question ? 1 : 0);
    if (c.echoes_question) {
      EXPECT_EQ(r.qname, "www.diff.test.");
    }
    EXPECT_EQ(r.ancount + r.nscount, 0);
    EXPECT_EQ(r.has_opt, c.has_opt);
  }
}

TEST(Engine, AcceptsOddButValidQueries) {
  const Bytes www_a_record = Cat(
      {Bytes(kWwwWire.begin(), kWwwWire.end()), {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 1, 1}});
  const Bytes non_root_opt =
      Cat({Bytes(kWwwWire.begin(), kWwwWire.end()), {0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0}});
  struct Case {
    std::string what;
    Bytes query;
    std::string status;
    std::vector<std::string> records;
    bool has_opt;
  } cases[] = {
      {"OPT with a non-root owner", Cat({Header(1, 0, 0, 1), Question(kWwwWire), non_root_opt}),
       "NOERROR aa", kWwwA, true},
      {"a record in the answer section",
       Cat({Header(1, 1, 0, 0), Question(kWwwWire), www_a_record}), "NOERROR aa", kWwwA, false},
      {"qname of 255 octets",
       Cat({Header(1, 0, 0, 0), Question(LongName(255))}),
       "NXDOMAIN aa",
       {kNsDiffSoa},
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Response r = Ask(DefaultEngine(), c.query);
    EXPECT_EQ(Status(r), c.status);
    EXPECT_THAT(Records(r), ElementsAreArray(c.records));
    EXPECT_EQ(r.has_opt, c.has_opt);
  }
}

TEST(Engine, DropsResponsesAndRunts) {
  Bytes qr = sxt::MakeQuery("www.diff.test", kA);
  qr[2] |= 0x80;
  Bytes qr_edns = sxt::MakeQuery("www.diff.test", kA, Edns());
  qr_edns[2] |= 0x80;
  const Bytes full = sxt::MakeQuery("www.diff.test", kA);
  struct Case {
    std::string what;
    Bytes query;
  } cases[] = {
      {"QR=1", qr},
      {"QR=1 with EDNS", qr_edns},
      {"11 bytes", Bytes(full.begin(), full.begin() + 11)},
      {"1 byte", Bytes(full.begin(), full.begin() + 1)},
      {"empty", Bytes{}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(AnswerRaw(DefaultEngine(), c.query, kUdp).len, 0u);
    EXPECT_EQ(AnswerRaw(DefaultEngine(), c.query, kTcp).len, 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// EDNS (RFC 6891) and its options

TEST(Engine, EchoesOptWithOurUdpSize) {
  struct Case {
    std::string server_yaml;
    int client_size;
    uint16_t advertised;
  } cases[] = {
      {"", 4096, 1232},
      {"", 512, 1232},
      {"", 0, 1232},
      {"  edns_udp_size: 4096\n", 1232, 4096},
      {"  edns_udp_size: 512\n", 4096, 512},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("server '", c.server_yaml, "' client ", c.client_size));
    const Server s = MakeServer(c.server_yaml);
    const Response r = Ask(*s.engine, "www.diff.test", kA, Edns(c.client_size));
    EXPECT_EQ(r.rcode(), kNoError);
    ASSERT_TRUE(r.has_opt);
    EXPECT_EQ(r.arcount, 1);
    EXPECT_EQ(r.opt_udp_size, c.advertised);
    EXPECT_EQ(r.opt_version, 0);
    EXPECT_EQ(r.opt_ext_rcode, 0);
    EXPECT_FALSE(r.opt_do);
    EXPECT_THAT(r.opt_options, IsEmpty());
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
  }
}

TEST(Engine, AnswersBadVersForEdnsVersionAboveZero) {
  const Server s = MakeServer("  nsid: sextant-test-nsid\n");
  struct Case {
    std::string what;
    std::string qname;
    uint8_t version;
    bool nsid;
    ClientInfo client;
  } cases[] = {
      {"version 1", "www.diff.test", 1, false, kUdp},
      {"version 255", "www.diff.test", 255, false, kUdp},
      {"over TCP", "www.diff.test", 1, false, kTcp},
      {"out of zone", "www.example.com", 1, false, kUdp},
      {"NSID still added", "www.diff.test", 1, true, kUdp},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.edns_version = c.version;
    o.do_bit = true;
    if (c.nsid) o.options = {{3, ""}};
    const Response r = Ask(*s.engine, c.qname, kA, o, c.client);
    // Extended rcode 16: the low 4 bits (0) in the header, the upper 8 (1) in the OPT.
    EXPECT_EQ(r.rcode(), 0);
    ASSERT_TRUE(r.has_opt);
    EXPECT_EQ(r.opt_ext_rcode, 1);
    EXPECT_EQ(r.ext_rcode(), kBadVers);
    EXPECT_EQ(r.opt_version, 0);
    EXPECT_EQ(r.opt_udp_size, 1232);
    EXPECT_TRUE(r.opt_do);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, c.qname + ".");
    EXPECT_THAT(r.answer, IsEmpty());
    EXPECT_THAT(r.authority, IsEmpty());
    if (c.nsid) {
      EXPECT_THAT(r.opt_options, ElementsAre(Pair(3, "sextant-test-nsid")));
    } else {
      EXPECT_THAT(r.opt_options, IsEmpty());
    }
  }
}

TEST(Engine, AnswersBadVersWithoutQuestion) {
  Bytes q = Cat({Header(0, 0, 0, 1), Opt()});
  q[12 + 6] = 1;  // OPT version
  const Response r = Ask(DefaultEngine(), q);
  EXPECT_EQ(r.ext_rcode(), kBadVers);
  EXPECT_EQ(r.qdcount, 0);
}

TEST(Engine, CopiesDoBit) {
  for (const bool do_bit : {false, true}) {
    SCOPED_TRACE(do_bit);
    sxt::QueryOptions o = Edns();
    o.do_bit = do_bit;
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    ASSERT_TRUE(r.has_opt);
    EXPECT_EQ(r.opt_do, do_bit);
    EXPECT_FALSE(r.ad());
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));  // unsigned zone: nothing else changes
  }
}

TEST(Engine, IgnoresUnknownEdnsOptions) {
  for (const uint16_t code : {uint16_t{65001}, uint16_t{10} /* COOKIE */, uint16_t{12}}) {
    SCOPED_TRACE(code);
    sxt::QueryOptions o = Edns();
    o.options = {{code, "12345678"}};
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
    ASSERT_TRUE(r.has_opt);
    EXPECT_THAT(r.opt_options, IsEmpty());
  }
}

TEST(Engine, EchoesNsidWhenConfiguredAndRequested) {
  const Server with = MakeServer("  nsid: sextant-test-nsid\n");
  struct Case {
    std::string what;
    const Engine* engine;
    std::string qname;
    std::vector<std::pair<uint16_t, std::string>> options;
    std::vector<std::pair<uint16_t, std::string>> expected;
  } cases[] = {
      {"requested", with.engine.get(), "www.diff.test", {{3, ""}}, {{3, "sextant-test-nsid"}}},
      {"requested with data",
       with.engine.get(),
       "www.diff.test",
       {{3, "xx"}},
       {{3, "sextant-test-nsid"}}},
      {"on a REFUSED answer too",
       with.engine.get(),
       "www.example.com",
       {{3, ""}},
       {{3, "sextant-test-nsid"}, {15, B({0, 20})}}},
      {"not requested", with.engine.get(), "www.diff.test", {}, {}},
      {"not configured", &DefaultEngine(), "www.diff.test", {{3, ""}}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.options = c.options;
    const Response r = Ask(*c.engine, c.qname, kA, o);
    ASSERT_TRUE(r.has_opt);
    EXPECT_THAT(r.opt_options, ElementsAreArray(c.expected));
  }
}

TEST(Engine, EchoesValidEcsWithScopeZero) {
  struct Case {
    std::string what;
    std::string ecs;  // FAMILY, SOURCE PREFIX, SCOPE PREFIX, ADDRESS
  } cases[] = {
      {"IPv4 /24", B({0, 1, 24, 0, 198, 18, 1})},
      {"IPv4 /0", B({0, 1, 0, 0})},
      {"IPv4 /32", B({0, 1, 32, 0, 198, 18, 1, 7})},
      {"IPv4 /20, low bits clear", B({0, 1, 20, 0, 198, 18, 0x10})},
      {"IPv6 /56", B({0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0})},
      {"IPv6 /128", B({0, 2, 128, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.options = {{8, c.ecs}};
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
    ASSERT_TRUE(r.has_opt);
    // Same family, source prefix and address; scope 0 (the answer does not depend on it).
    EXPECT_THAT(r.opt_options, ElementsAre(Pair(8, c.ecs)));
  }
}

TEST(Engine, AnswersInvalidEcsWithFormerr) {
  struct Case {
    std::string what;
    std::vector<std::pair<uint16_t, std::string>> options;
  } cases[] = {
      {"family 3", {{8, B({0, 3, 24, 0, 198, 18, 1})}}},
      {"family 0", {{8, B({0, 0, 0, 0})}}},
      {"IPv4 prefix 33", {{8, B({0, 1, 33, 0, 198, 18, 1, 1, 0})}}},
      {"IPv6 prefix 129",
       {{8, B({0, 2, 129, 0, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0})}}},
      {"bits set beyond the prefix", {{8, B({0, 1, 20, 0, 198, 18, 0x11})}}},
      {"address longer than the prefix", {{8, B({0, 1, 24, 0, 198, 18, 1, 0})}}},
      {"address shorter than the prefix", {{8, B({0, 1, 24, 0, 198, 18})}}},
      {"non-zero scope", {{8, B({0, 1, 24, 24, 198, 18, 1})}}},
      {"3-byte option", {{8, B({0, 1, 24})}}},
      {"twice", {{8, B({0, 1, 24, 0, 198, 18, 1})}, {8, B({0, 1, 24, 0, 198, 18, 1})}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.options = c.options;
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(r.rcode(), kFormErr);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, "www.diff.test.");
    EXPECT_THAT(r.answer, IsEmpty());
    // The OPT itself parsed, so it is kept, without the ECS option.
    ASSERT_TRUE(r.has_opt);
    EXPECT_FALSE(r.option(8).has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// Truncation

TEST(Engine, TruncatesRRsetsThatDoNotFit) {
  const Server nsid = MakeServer("  nsid: sextant-test-nsid\n");
  const Server big_edns = MakeServer("  edns_udp_size: 4096\n");
  struct Case {
    std::string what;
    const Engine* engine;
    std::string qname;
    int edns_size;  // -1: no EDNS
    bool want_nsid;
    ClientInfo client;
    bool tc;
    size_t answers;
  } cases[] = {
      {"40 A without EDNS (512)", &DefaultEngine(), "big.diff.test", -1, false, kUdp, true, 0},
      {"40 A with EDNS 1232", &DefaultEngine(), "big.diff.test", 1232, false, kUdp, false, 40},
      {"100 A with EDNS 1232", &DefaultEngine(), "huge.diff.test", 1232, false, kUdp, true, 0},
      {"100 A with EDNS 4096, our ceiling 1232", &DefaultEngine(), "huge.diff.test", 4096, false,
       kUdp, true, 0},
      {"100 A with EDNS 4096 and edns_udp_size 4096", big_edns.engine.get(), "huge.diff.test", 4096,
       false, kUdp, false, 100},
      {"100 A, NSID kept in the truncated answer", nsid.engine.get(), "huge.diff.test", 1232, true,
       kUdp, true, 0},
      {"EDNS 100 counts as 512", &DefaultEngine(), "big.diff.test", 100, false, kUdp, true, 0},
      {"EDNS 0 counts as 512", &DefaultEngine(), "big.diff.test", 0, false, kUdp, true, 0},
      {"EDNS 511 counts as 512", &DefaultEngine(), "big.diff.test", 511, false, kUdp, true, 0},
      {"TCP never truncates (no EDNS)", &DefaultEngine(), "huge.diff.test", -1, false, kTcp, false,
       100},
      {"TCP never truncates (EDNS 512)", &DefaultEngine(), "huge.diff.test", 512, false, kTcp,
       false, 100},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o;
    o.edns_size = c.edns_size;
    if (c.want_nsid) o.options = {{3, ""}};
    const Response r = Ask(*c.engine, c.qname, kA, o, c.client);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_TRUE(r.aa());
    EXPECT_EQ(r.tc(), c.tc);
    EXPECT_EQ(r.qname, c.qname + ".");  // the question is kept
    EXPECT_EQ(r.answer.size(), c.answers);
    EXPECT_THAT(r.authority, IsEmpty());
    EXPECT_THAT(r.additional, IsEmpty());
    EXPECT_EQ(r.has_opt, c.edns_size >= 0);  // the OPT is kept
    if (c.want_nsid) {
      EXPECT_EQ(r.option(3), "sextant-test-nsid");
    }
  }
}

TEST(Engine, FitsSmallAnswersUnderAnEdnsSizeBelow512) {
  // 175 bytes: more than the client's 100, less than the 512 it is raised to.
  const Response r = Ask(DefaultEngine(), "diff.test", kMx, Edns(100));
  EXPECT_FALSE(r.tc());
  EXPECT_EQ(r.answer.size(), 3u);
  EXPECT_EQ(r.additional.size(), 3u);
  EXPECT_GT(r.size, 100u);
}

TEST(Engine, KeepsAllNsOfABigReferralAndTruncatesGlue) {
  std::vector<std::string> ns, glue;
  for (int i = 1; i <= 13; ++i) {
    ns.push_back(
        absl::StrFormat("bigref.diff.test. 3600 IN NS nameserver%02d.bigref.diff.test.", i));
    glue.push_back(absl::StrFormat("nameserver%02d.bigref.diff.test. 3600 IN A 198.18.8.%d", i, i));
    glue.push_back(
        absl::StrFormat("nameserver%02d.bigref.diff.test. 3600 IN AAAA 2001:db8:8::%x", i, i));
  }
  // Greedy fill, as Knot: an RR that does not fit is skipped and the next one tried.
  const std::vector<std::string> knot_512_glue = {glue[0], glue[1], glue[2],
                                                  glue[3], glue[4], glue[6]};
  struct Case {
    std::string what;
    std::string qname;
    uint16_t qtype;
    int edns_size;
    ClientInfo client;
    bool tc;
    std::vector<std::string> additional;
    size_t size;  // 0: not checked
  } cases[] = {
      {"512 bytes: all NS, some glue, TC", "www.bigref.diff.test", kA, -1, kUdp, true,
       knot_512_glue, 509},
      {"NS at the cut, 512 bytes", "bigref.diff.test", kNs, -1, kUdp, true, knot_512_glue, 0},
      {"EDNS 1232: all glue", "www.bigref.diff.test", kA, 1232, kUdp, false, glue, 0},
      {"TCP: all glue", "www.bigref.diff.test", kA, -1, kTcp, false, glue, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o;
    o.edns_size = c.edns_size;
    const Response r = Ask(DefaultEngine(), c.qname, c.qtype, o, c.client);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.tc(), c.tc);
    EXPECT_THAT(r.answer, IsEmpty());
    EXPECT_THAT(r.authority, ElementsAreArray(ns));
    EXPECT_THAT(r.additional, ElementsAreArray(c.additional));
    if (c.size != 0) {
      EXPECT_EQ(r.size, c.size);
    }
  }
}

TEST(Engine, LeavesOutAdditionalAddressesThatDoNotFitWithoutTc) {
  // Only missing glue makes a response truncated (RFC 9471); MX target addresses are optional.
  struct Case {
    std::string what;
    ClientInfo client;
    size_t min_additional, max_additional;
  } cases[] = {
      {"UDP 512", kUdp, 1, 25},
      {"TCP: all of them", kTcp, 26, 26},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Response r = Ask(DefaultEngine(), "manymx.diff.test", kMx, {}, c.client);
    EXPECT_EQ(Status(r), "NOERROR aa");
    EXPECT_EQ(r.answer.size(), 13u);
    EXPECT_GE(r.additional.size(), c.min_additional);
    EXPECT_LE(r.additional.size(), c.max_additional);
  }
}

// ---------------------------------------------------------------------------------------------
// Name compression (RFC 1035 4.1.4). Ask() checks every response against optimal compression
// and checks that pointers point backwards; these rows pin a few sizes worked out by hand.

TEST(Engine, CompressesNamesToKnownSizes) {
  struct Case {
    std::string qname;
    uint16_t qtype;
    size_t size;
  } cases[] = {
      // 12 header + 19 question + 2 x (2 owner pointer + 10 + 4).
      {"www.diff.test", kA, 63},
      // 27 up to the answer; MX 21 ("mail" + pointer), 22 ("mail2" + pointer), 34 (out of
      // zone, literal); additional owners are pointers into the MX rdata: 16 + 28 + 16.
      {"diff.test", kMx, 164},
      // 30 up to the authority; SOA: owner pointer 2, 10, MNAME "ns1" + pointer 6, RNAME
      // "hostmaster" + pointer 13, 20.
      {"nx.diff.test", kA, 81},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.qname);
    EXPECT_EQ(Ask(DefaultEngine(), c.qname, c.qtype).size, c.size);
  }
}

// Pointers can only reach the first 16 KiB (14-bit offsets). A TCP answer that writes a name
// across 0x4000 must not point at the labels past that line: here the owner
// "<63 x a>.<63 x b>.pad.test" of the second SRV target's address starts just below 0x4000 and
// the third target "x.<63 x b>.pad.test" shares its second label. The qname's length moves the
// boundary through the first name, one byte per row.
TEST(Engine, KeepsCompressionPointersValidPast16KiB) {
  const std::string a63(63, 'a'), b63(63, 'b');
  std::string zone =
      absl::StrCat(R"($ORIGIN pad.test.
$TTL 3600
@      IN SOA ns1.pad.test. hostmaster.pad.test. 1 7200 3600 1209600 300
@      IN NS  ns1
ns1    IN A   198.18.40.1
*.srv  IN SRV 0 0 1 filler.pad.test.
*.srv  IN SRV 0 0 1 )",
                   a63, ".", b63, R"(.pad.test.
*.srv  IN SRV 0 0 1 x.)",
                   b63, R"(.pad.test.
)",
                   a63, ".", b63, " IN A 198.18.41.1\n", "x.", b63, " IN A 198.18.41.2\n");
  // 1000 x 16 bytes of addresses for the first target push the others up to 0x4000.
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppendFormat(&zone, "filler IN A 198.18.%d.%d\n", 42 + i / 250, i % 250);
  }
  auto snap = sxt::BuildTestSnapshot({{"pad.test.", zone}});
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Engine engine(**snap);
  const std::string a_owner =
      absl::StrCat("ar ", a63, ".", b63, ".pad.test. 3600 IN A 198.18.41.1");
  const std::string x_owner = absl::StrCat("ar x.", b63, ".pad.test. 3600 IN A 198.18.41.2");
  for (int len = 1; len <= 63; ++len) {
    SCOPED_TRACE(absl::StrCat("first label of ", len, " bytes"));
    const Response r =
        Ask(engine, absl::StrCat(std::string(len, 'q'), ".srv.pad.test"), kSrv, {}, kTcp);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(Status(r), "NOERROR aa");
    const std::vector<std::string> records = Records(r);
    ASSERT_EQ(records.size(), 3u + 1000u + 2u);
    EXPECT_EQ(records[records.size() - 2], a_owner);
    EXPECT_EQ(records[records.size() - 1], x_owner);
  }
}

// A snapshot serving a parent zone and, beside it, two of its children: one directly below the
// apex and one below an empty non-terminal of the parent.
constexpr char kParentZone[] = R"($ORIGIN parent.test.
$TTL 3600
@           IN SOA ns1.parent.test. hostmaster.parent.test. 1 7200 3600 1209600 300
@           IN NS  ns1
ns1         IN A   198.18.50.1
child       IN NS  ns1.child
child       IN DS  12345 13 2 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D
ns1.child   IN A   198.18.50.2
deep.ent    IN NS  ns1.deep.ent
ns1.deep.ent IN A  198.18.50.3
)";
constexpr char kChildZone[] = R"($ORIGIN child.parent.test.
$TTL 3600
@     IN SOA ns1.child.parent.test. hostmaster.child.parent.test. 1 7200 3600 1209600 60
@     IN NS  ns1
ns1   IN A   198.18.50.2
www   IN A   198.18.51.1
)";
constexpr char kDeepChildZone[] = R"($ORIGIN deep.ent.parent.test.
$TTL 3600
@     IN SOA ns1.deep.ent.parent.test. hostmaster.deep.ent.parent.test. 1 7200 3600 1209600 60
@     IN NS  ns1
ns1   IN A   198.18.50.3
)";

const Engine& NestedEngine() {
  static const Server* s = [] {
    auto snap = sxt::BuildTestSnapshot({{"parent.test.", kParentZone},
                                        {"child.parent.test.", kChildZone},
                                        {"deep.ent.parent.test.", kDeepChildZone}});
    if (!snap.ok()) {
      std::fprintf(stderr, "BuildTestSnapshot failed: %s\n", snap.status().ToString().c_str());
      std::abort();
    }
    auto* server = new Server;
    server->snapshot = std::move(snap).value();
    server->engine = std::make_unique<Engine>(*server->snapshot);
    return server;
  }();
  return *s->engine;
}

const std::string kNsParentSoa =
    "ns parent.test. 300 IN SOA ns1.parent.test. hostmaster.parent.test. 1 7200 3600 1209600 300";
const std::string kNsChildSoa =
    "ns child.parent.test. 60 IN SOA ns1.child.parent.test. hostmaster.child.parent.test. 1 7200 "
    "3600 1209600 60";

TEST(Engine, AnswersFromTheDeepestServedZone) {
  ExpectRows(NestedEngine(),
             {
                 {"data in the child: an answer, not a referral",
                  "www.child.parent.test A",
                  "NOERROR aa",
                  {"an www.child.parent.test. 3600 IN A 198.18.51.1"}},
                 {"NS at the child apex: the child's, authoritative",
                  "child.parent.test NS",
                  "NOERROR aa",
                  {"an child.parent.test. 3600 IN NS ns1.child.parent.test.",
                   "ar ns1.child.parent.test. 3600 IN A 198.18.50.2"}},
                 {"NXDOMAIN in the child carries the child's SOA",
                  "nx.child.parent.test A",
                  "NXDOMAIN aa",
                  {kNsChildSoa}},
                 {"NXDOMAIN in the parent", "nx.parent.test A", "NXDOMAIN aa", {kNsParentSoa}},
             });
}

// RFC 4035 section 3.1.4.1: DS lives on the parent side of the cut, and a server authoritative
// for both zones answers it from the parent. Knot does the same (it looks the zone up from the
// qname's parent for DS).
TEST(Engine, AnswersDsAtAServedChildApexFromTheParent) {
  ExpectRows(NestedEngine(),
             {
                 {"the parent's DS",
                  "child.parent.test DS",
                  "NOERROR aa",
                  {"an child.parent.test. 3600 IN DS 12345 13 2 "
                   "3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D"}},
                 {"no DS in the parent: the parent's NODATA",
                  "deep.ent.parent.test DS",
                  "NOERROR aa",
                  {kNsParentSoa}},
             });
}

// `ent.parent.test` owns nothing but has a descendant in the parent zone (the delegation
// deep.ent), so it exists: NODATA, not NXDOMAIN (RFC 8020 lets resolvers prune the whole subtree,
// the served child included, on an NXDOMAIN).
TEST(Engine, KeepsParentEmptyNonTerminalsAboveAServedChild) {
  ExpectRows(NestedEngine(),
             {
                 {"ENT above a served child", "ent.parent.test A", "NOERROR aa", {kNsParentSoa}},
             });
}

// ---------------------------------------------------------------------------------------------
// Answering in place. Ask() compares in-place and separate-buffer answers for every query in
// this file; this test runs a mix of all response kinds through it on its own.

TEST(Engine, AnswersInPlaceWithTheSameBytes) {
  const Server s = MakeServer(
      "  nsid: sextant-test-nsid\n  version: \"sextant 1.0\"\n  identity: ns1.diff.test\n");
  std::vector<std::pair<Bytes, ClientInfo>> queries;
  sxt::QueryOptions all = Edns();
  all.do_bit = true;
  all.rd = true;
  all.options = {{3, ""}, {8, B({0, 1, 24, 0, 198, 18, 1})}};
  for (const std::string qname : {"www.diff.test", "chain1.diff.test", "nx.diff.test",
                                  "www.sub.diff.test", "www.bigref.diff.test", "q.a.went.diff.test",
                                  "big.diff.test", "huge.diff.test", "www.example.com"}) {
    for (const uint16_t qtype : {kA, kMx, kAny}) {
      queries.push_back({sxt::MakeQuery(qname, qtype), kUdp});
      queries.push_back({sxt::MakeQuery(qname, qtype, all), kUdp});
      queries.push_back({sxt::MakeQuery(qname, qtype, all), kTcp});
    }
  }
  sxt::QueryOptions ch;
  ch.qclass = kCh;
  queries.push_back({sxt::MakeQuery("version.bind", kTxt, ch), kUdp});
  queries.push_back({Cat({Header(1, 0, 0, 0), Question(kWwwWire), {0xDE, 0xAD}}), kUdp});
  for (const auto& [q, client] : queries) {
    const Response r = Ask(*s.engine, q, client);
    EXPECT_GT(r.size, 0u);
  }
}

}  // namespace
}  // namespace sextant::dataplane
