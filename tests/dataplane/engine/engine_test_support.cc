// The engine tests' shared helpers (engine_test_support.h): the zones, the response decoder,
// Ask() and ExpectRows(), and raw query pieces.
#include "tests/dataplane/engine/engine_test_support.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
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

namespace sextant::dataplane::engine_test {

namespace sxt = ::sextant::testing;
using ::testing::ElementsAreArray;

namespace {

// ---------------------------------------------------------------------------------------------
// Zones

// Mirrors tests/integration/data/diff.test.zone (the zone the Knot probes used), trimmed to what
// the engine tests need.
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

// ---------------------------------------------------------------------------------------------
// A small response decoder

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

}  // namespace

std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

Server ServerOf(const std::vector<sxt::ZoneText>& zones, const std::string& server_yaml) {
  auto snap = sxt::BuildTestSnapshot(zones, server_yaml);
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

Server MakeServer(const std::string& server_yaml) {
  return ServerOf(
      {{"diff.test.", DiffZone()}, {"other.test.", kOtherZone}, {"short.test.", kShortZone}},
      server_yaml);
}

// The default configuration (no server section), built once.
const Engine& DefaultEngine() {
  static const Server* s = new Server(MakeServer());
  return *s->engine;
}

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

// ---------------------------------------------------------------------------------------------
// Asking

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

Raw AnswerWithAndWithoutImages(Engine& e, const Bytes& query, const ClientInfo& client) {
  e.set_answer_images(true);
  Raw with = AnswerRaw(e, query, client);
  e.set_answer_images(false);
  const Raw without = AnswerRaw(e, query, client);
  e.set_answer_images(true);
  EXPECT_EQ(with.bytes, without.bytes);
  EXPECT_EQ(with.info.rcode, without.info.rcode);
  EXPECT_EQ(with.info.qtype, without.info.qtype);
  EXPECT_EQ(with.info.truncated, without.info.truncated);
  return with;
}

Response Ask(const Engine& e, const Bytes& query, const ClientInfo& client) {
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

Response Ask(const Engine& e, const std::string& name, uint16_t qtype, const sxt::QueryOptions& o,
             const ClientInfo& client) {
  return Ask(e, sxt::MakeQuery(name, qtype, o), client);
}

sxt::QueryOptions Edns(int size) {
  sxt::QueryOptions o;
  o.edns_size = size;
  return o;
}

std::vector<sxt::QueryOptions> ImageQueryShapes() {
  std::vector<sxt::QueryOptions> shapes;
  for (int edns : {-1, 512, 1232, 4096}) {
    for (bool rd : {false, true}) {
      for (bool do_bit : {false, true}) {
        if (edns < 0 && do_bit) continue;
        sxt::QueryOptions o;
        o.edns_size = edns;
        o.rd = rd;
        o.do_bit = do_bit;
        shapes.push_back(o);
      }
    }
  }
  sxt::QueryOptions nsid = Edns(1232);
  nsid.options.push_back({dns::kOptNsid, ""});
  shapes.push_back(nsid);
  sxt::QueryOptions ecs = Edns(1232);
  ecs.options.push_back({dns::kOptEcs, std::string("\0\1\30\0\xc6\x12\x46", 7)});
  shapes.push_back(ecs);
  sxt::QueryOptions v1 = Edns(1232);
  v1.edns_version = 1;
  shapes.push_back(v1);
  sxt::QueryOptions any_class;
  any_class.qclass = dns::kClassAny;
  shapes.push_back(any_class);
  sxt::QueryOptions chaos;
  chaos.qclass = dns::kClassCh;
  shapes.push_back(chaos);
  sxt::QueryOptions notify;
  notify.opcode = 4;
  shapes.push_back(notify);
  return shapes;
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

void ExpectRows(const Engine& e, const std::vector<Row>& rows, const ClientInfo& client) {
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
// Raw query pieces

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
Bytes Question(const std::string& wire_name, uint16_t qtype) {
  Bytes b(wire_name.begin(), wire_name.end());
  b.insert(b.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  return b;
}
Bytes Opt(uint16_t size, const std::string& rdata) {
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

}  // namespace sextant::dataplane::engine_test
