// libFuzzer target for the answer engine (dataplane/engine/engine.h): any bytes in as a query, and
// the response checked against invariants by a DNS message checker written here, independently of
// the engine's own parser and writer. Run it with tests/fuzz/run_fuzz.sh SECONDS.
//
// Per input, Engine::Answer runs over UDP and TCP, each with a separate output buffer and in
// place (output buffer = a copy of the query with room for 65535 bytes, as the UDP listener and
// the DPDK path answer), plus once over UDP with the smallest capacity the engine accepts (512),
// and once more over UDP with the negative and referral sections written by the slow path instead
// of copied from their images (section_image.h) and every query resolved instead of answered
// from an answer image (answer_images.h), which must give the same bytes, as must an engine
// that answers from the images without its answer lines (answer_lines.h).
// Output buffers are heap blocks of exactly the capacity, so ASan sees any write past it.
// Invariants (a violation is __builtin_trap, which libFuzzer reports as a crash):
//   - length <= capacity; 0 only for a message shorter than a header or with QR=1;
//   - same ID and opcode as the query, QR set, a known rcode, and AnswerInfo agrees with it;
//   - the response is a well-formed message: counts match the records present, names are well
//     formed and every compression pointer leads back to where a label (or pointer) of an
//     earlier name starts, rdata of known types (names included) fills rdlength exactly, at
//     most one OPT (additional section, root owner), no trailing bytes;
//   - the question, when echoed, is the query's question byte for byte;
//   - UDP: at most the advertised EDNS size, at most 512 without OPT; TCP: never TC;
//   - error rcodes carry no answer or authority records; extended rcodes come with an OPT;
//   - the in-place answer is byte-identical to the separate-buffer answer.
// The zone has an answer longer than 16 KiB (bigmx MX, over TCP) to exercise compression near
// offset 0x3FFF, the last one a pointer can reach. The snapshot also holds record-set policies
// (every fast writer: samples, lone members, runs, failover, weighted; the general evaluator
// through ttl_when_down, more than 16 members, CNAME members and all-down rules) and geo
// resources over the MaxMind test database, steered by the fuzzed ECS option, with fixed health
// words of which some are down or drained. Each answer starts from the same random state
// (SeedPolicyRandom), so the separate and in-place answers still agree byte for byte.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/engine/engine.h"
#include "dataplane/engine/policy_pickers.h"
#include "maps/control_block.h"
#include "tests/support/test_snapshot.h"

namespace {

using sextant::dataplane::AnswerInfo;
using sextant::dataplane::ClientInfo;
using sextant::dataplane::Engine;

constexpr size_t kCap = 65535;
constexpr size_t kSmallCap = 512;
constexpr size_t kPatterned = 16384;
constexpr uint16_t kEdnsSize = 1232;  // server.edns_udp_size below

// --- The zones ------------------------------------------------------------------------------

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string FuzzZone() {
  std::string z = R"($ORIGIN fuzz.test.
$TTL 300
@         3600 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@         IN NS    ns1
@         IN NS    ns2.fuzz.test.
@         IN NS    ns.other.test.
@         IN MX    10 mail
@         IN MX    20 mail2
@         IN MX    30 mx.example.invalid.
@         IN TXT   "v=spf1 -all"
@         IN CAA   0 issue "ca.example.net"
ns1       IN A     198.18.0.1
ns1       IN AAAA  2001:db8::1
ns2  7200 IN A     198.18.0.2
mail      IN A     198.18.1.25
mail      IN AAAA  2001:db8:1::25
mail2     IN A     198.18.1.26
www       IN A     198.18.1.1
www       IN A     198.18.1.2
www       IN AAAA  2001:db8:1::1
www   600 IN TXT   "hello world"
WwW2      IN A     198.18.1.3
_sip._tcp IN SRV   10 5 5060 sip
_sip._tcp IN SRV   20 5 5061 sip2.example.invalid.
sip       IN A     198.18.1.50
sip       IN AAAA  2001:db8:1::50
ptr       IN PTR   www.fuzz.test.
unk       IN TYPE65400 \# 4 0a000001
c1        IN CNAME c2
c2    120 IN CNAME c3
c3        IN CNAME www
loopa     IN CNAME loopb
loopb     IN CNAME loopa
self      IN CNAME self
dangling  IN CNAME nothere
toent     IN CNAME ent
towild    IN CNAME foo.wild
tosub     IN CNAME www.sub
tochild   IN CNAME www.child
toother   IN CNAME host.other.test.
tomv      IN CNAME mv
tout      IN CNAME target.example.invalid.
tolong    IN CNAME )" +
                  Repeat("a", 63) + "." + Repeat("b", 63) + "." + Repeat("c", 63) + "." +
                  Repeat("d", 51) + R"(
*.wild    IN A     198.18.2.1
*.wild    IN TXT   "wildcard"
*.wild    IN MX    10 mail
exists.wild IN A   198.18.2.99
*.wcname  IN CNAME www
*.wcloop  IN CNAME x.wcloop
*.wcout   IN CNAME target.example.invalid.
*.dwild   IN NS    ns.example.invalid.
x.ent     IN A     198.18.3.1
*.a.went  IN A     198.18.3.2
*.a.went  IN MX    10 mail.fuzz.test.
sub       IN NS    ns.sub
sub       IN NS    ns.outside.example.invalid.
ns.sub    IN A     198.18.6.1
ns.sub    IN AAAA  2001:db8:6::1
www.sub   IN A     198.18.6.80
secure    IN NS    ns.secure
secure    IN DS    12345 13 2 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D
ns.secure IN A     198.18.7.1
child     IN NS    ns.child
ns.child  IN A     198.18.7.2
)";
  const std::string long_owner =
      Repeat("a", 63) + "." + Repeat("b", 63) + "." + Repeat("c", 63) + "." + Repeat("d", 51);
  z += long_owner + " IN A 198.18.4.1\n";
  z += long_owner + " IN TXT \"" + Repeat("x", 255) + "\"\n";
  z += "*." + Repeat("c", 63) + "." + Repeat("d", 51) + " IN A 198.18.4.2\n";
  for (int i = 1; i <= 13; ++i) {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "bigref IN NS nameserver%02d.bigref\nnameserver%02d.bigref IN A 198.18.8.%d\n"
                  "nameserver%02d.bigref IN AAAA 2001:db8:8::%x\n",
                  i, i, i, i, i);
    z += buf;
  }
  for (int i = 1; i <= 40; ++i) z += "big IN A 198.18.9." + std::to_string(i) + "\n";
  for (int i = 0; i < 300; ++i) {
    z += "huge IN A 198.18." + std::to_string(10 + i / 250) + "." + std::to_string(i % 250) + "\n";
  }
  for (int i = 0; i < 8; ++i) {
    z += "hugetxt IN TXT \"" + Repeat(std::string(1, static_cast<char>('b' + i)), 200) + "\"\n";
  }
  // A TCP answer that crosses offset 0x3FFF, the last one a compression pointer can reach:
  // 1018 MX records put the first far.example name at 52 + 16 * 1018 = 16340, so its label
  // "far" lies past 0x3FFF and the next name must not be compressed against it.
  for (int i = 1; i <= 1018; ++i) z += "bigmx IN MX " + std::to_string(i) + " mail\n";
  z += "bigmx IN MX 5000 " + Repeat("a", 60) + ".far.example.\n";
  z += "bigmx IN MX 5001 b.far.example.\n";
  // An MX set whose targets all have addresses: a long additional section.
  for (int i = 1; i <= 20; ++i) {
    const std::string n = "mx" + std::to_string(i) + ".many";
    z += "many IN MX " + std::to_string(i) + " " + n + "\n";
    z += n + " IN A 198.18.11." + std::to_string(i) + "\n";
    z += n + " IN AAAA 2001:db8:11::" + std::to_string(i) + "\n";
  }
  return z;
}

constexpr char kChildZone[] = R"($ORIGIN child.fuzz.test.
$TTL 300
@    IN SOA ns hostmaster 1 7200 3600 1209600 60
@    IN NS  ns
ns   IN A   198.18.7.2
www  IN A   198.18.7.80
back IN CNAME www.fuzz.test.
*    IN CNAME www
)";

constexpr char kOtherZone[] = R"($ORIGIN other.test.
$TTL 1800
@    IN SOA ns hostmaster 7 3600 900 604800 120
@    IN NS  ns
ns   IN A   198.18.20.1
host IN A   198.18.20.10
host IN AAAA 2001:db8:20::10
back IN CNAME www.fuzz.test.
*.w  IN A   198.18.20.20
)";

// Record-set policies under fuzz.test. (every fast writer and the general evaluator) and geo
// resources over the MaxMind test database (looked up by the fuzzed ECS option or the source),
// answered with health words of which some are down (HealthWords below).
std::string PolicyYaml() {
  std::string y = "targets:\n";
  for (int i = 1; i <= 20; ++i) y += "  f" + std::to_string(i) + ": {initial: up}\n";
  const auto members = [](const std::string& prefix, int first, int n) {
    std::string m = "members: [";
    for (int i = first; i < first + n; ++i) {
      m += (i > first ? ", {address: '" : "{address: '") + prefix + std::to_string(i) +
           "', target: f" + std::to_string((i - 1) % 20 + 1) + "}";
    }
    return m + "]";
  };
  y += "datacenters:\n  dc-ap: {latitude: 1.35, longitude: 103.82}\n"
       "  dc-us: {latitude: 40.71, longitude: -74.01}\n"
       "  dc-eu: {latitude: 51.51, longitude: -0.13}\n"
       "geo_maps:\n  world: {database: " SEXTANT_MAXMIND_TESTDATA "/GeoIP2-City-Test.mmdb}\n";
  y += "resources:\n";
  y += "  mv: {kind: multivalue, count: 8, ttl: 60, " + members("198.18.30.", 1, 16) + "}\n";
  y += "  mv6: {kind: multivalue, count: 9, " + members("2001:db8:30::", 1, 16) + "}\n";
  y += "  mvt: {kind: multivalue, count: 3, ttl_when_down: 5, " + members("198.18.33.", 1, 5) +
       "}\n";
  y += "  mvbig: {kind: multivalue, count: 4, " + members("198.18.34.", 1, 20) + "}\n";
  y += "  one: {kind: failover, " + members("198.18.31.", 7, 1) + "}\n";
  y += "  one6: {" + members("2001:db8:31::", 5, 1) + "}\n";
  y += "  fo: {kind: failover, all_down: servfail, " + members("198.18.32.", 1, 4) + "}\n";
  y += "  wt: {kind: weighted, all_down: nodata, members: [{address: 198.18.35.1, target: f1, "
       "weight: 3}, {address: 198.18.35.2, target: f2}, {address: 198.18.35.3, target: f5, "
       "weight: 0}]}\n";
  y += "  cyc: {order: cyclic, " + members("198.18.36.", 2, 6) + "}\n";
  y += "  rnd: {order: random, " + members("2001:db8:36::", 3, 5) + "}\n";
  y += "  cn: {kind: failover, members: [{cname: www.fuzz.test., target: f5}, "
       "{cname: mail.fuzz.test., target: f6}, {cname: host.other.test., target: f7}]}\n";
  y += "  geo: {kind: geo, map: world, ttl: 30, datacenters: {dc-ap: {members: [198.18.37.1]}, "
       "dc-us: {members: [{address: 198.18.37.2, target: f10}]}, dc-eu: {members: "
       "[198.18.37.3]}}}\n";
  y += "  geo3: {kind: geo, map: world, datacenters: {dc-ap: {" + members("198.18.38.", 1, 3) +
       "}, dc-us: {" + members("198.18.38.", 4, 3) + "}, dc-eu: {kind: multivalue, count: 2, " +
       members("198.18.38.", 7, 3) + "}}}\n";
  y += "  geo6: {kind: geo, map: world, ecs: ignore, datacenters: {dc-ap: {" +
       members("2001:db8:37::", 1, 2) + "}, dc-us: {" + members("2001:db8:37::", 3, 2) +
       "}, dc-eu: {" + members("2001:db8:37::", 5, 2) + "}}}\n";
  y += "records:\n";
  const char* recs[][3] = {
      {"mv", "A", "mv"},       {"mv", "AAAA", "mv6"}, {"mvt", "A", "mvt"},
      {"mvbig", "A", "mvbig"}, {"one", "A", "one"},   {"one", "AAAA", "one6"},
      {"fo", "A", "fo"},       {"wt", "A", "wt"},     {"cyc", "A", "cyc"},
      {"rnd", "AAAA", "rnd"},  {"cn", "CNAME", "cn"}, {"geo", "A", "geo"},
      {"geo", "AAAA", "geo6"}, {"geo3", "A", "geo3"}, {"*.pwild", "A", "mv"},
  };
  for (const auto& r : recs) {
    y += std::string("  - {name: '") + r[0] + ".fuzz.test.', type: " + r[1] +
         ", resource: " + r[2] + "}\n";
  }
  return y;
}

// f1..f20 get words 0..19 or wherever control put them; every fifth word is down and every
// seventh drained, so the fast writers decline to the general evaluator on some resources.
std::atomic<uint32_t>* HealthWords() {
  static std::atomic<uint32_t> words[sextant::maps::kMaxHealthWords];
  for (uint32_t i = 0; i < sextant::maps::kMaxHealthWords; ++i) {
    const uint32_t state = i % 5 == 4   ? 0
                           : i % 7 == 6 ? sextant::maps::kHealthUp | sextant::maps::kHealthDrained
                                        : sextant::maps::kHealthUp;
    words[i].store(state, std::memory_order_relaxed);
  }
  return words;
}

const sextant::maps::SnapshotReader& TheSnapshot() {
  static const std::unique_ptr<sextant::maps::SnapshotReader> snap = [] {
    auto s = sextant::testing::BuildTestSnapshot(
        {{"fuzz.test.", FuzzZone()}, {"child.fuzz.test.", kChildZone}, {"other.test.", kOtherZone}},
        "  edns_udp_size: 1232\n  nsid: \"fuzz-nsid-0123456789\"\n"
        "  version: \"sextant fuzz\"\n  identity: \"fuzz-identity\"\n",
        1, PolicyYaml());
    if (!s.ok()) {
      std::fprintf(stderr, "engine_fuzz: cannot build the snapshot: %s\n",
                   std::string(s.status().message()).c_str());
      std::abort();
    }
    return std::move(*s);
  }();
  return *snap;
}

// The engine, with its section and answer images (section_image.h, answer_images.h) or writing
// those sections with the slow path and resolving every query (the reference the images must
// match byte for byte).
const Engine& TheEngine(bool section_images = true) {
  static const Engine with = [] {
    Engine e(TheSnapshot());
    e.set_health(HealthWords());
    return e;
  }();
  static const Engine without = [] {
    Engine e(TheSnapshot());
    e.set_health(HealthWords());
    e.set_section_images(false);
    e.set_answer_images(false);
    return e;
  }();
  return section_images ? with : without;
}

// The engine answering through the name table's answer images alone, without its answer lines
// (answer_lines.h), which TheEngine() reads first.
const Engine& TheEngineWithoutAnswerLines() {
  static const Engine e = [] {
    Engine no_lines(TheSnapshot());
    no_lines.set_health(HealthWords());
    no_lines.set_answer_lines(false);
    return no_lines;
  }();
  return e;
}

// --- An independent DNS message checker -----------------------------------------------------

#define CHECK(cond)                \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Offsets where a label (or a pointer) of a name read earlier in the message starts: the only
// places a compression pointer may lead to (RFC 1035 4.1.4: a pointer stands for a prior
// occurrence of the same labels). A pointer into the middle of a label or into rdata is caught
// here even when it happens to decode. Epoch-stamped so that nothing is cleared between
// messages.
struct LabelStarts {
  uint32_t epoch = 0;
  uint32_t mark[65536] = {};
  void Reset() { ++epoch; }
  void Add(size_t off) { mark[off] = epoch; }
  bool Has(size_t off) const { return mark[off] == epoch; }
};
LabelStarts g_labels;

// Validates the (possibly compressed) name at *pos in msg[0, len): labels <= 63, no reserved
// label types, pointers only backwards and to the start of a label read before, at most 255
// octets uncompressed. `end` bounds the name's own bytes (rdata end); pointers may go anywhere
// before. Advances *pos past the name's bytes in place.
bool CheckName(const uint8_t* msg, size_t len, size_t* pos, size_t end) {
  size_t i = *pos;
  size_t total = 1;  // the root label
  bool jumped = false;
  size_t resume = 0;
  for (;;) {
    if (i >= (jumped ? len : end)) return false;
    const uint8_t l = msg[i];
    if (l == 0) {
      if (!jumped) resume = i + 1;
      break;
    }
    if ((l & 0xC0) == 0xC0) {
      if (i + 2 > (jumped ? len : end)) return false;
      // A pointer that ends a name read in place stands for the rest of that name, so another
      // pointer may lead to it (the engine points later RRs of a set at the first owner).
      if (!jumped) g_labels.Add(i);
      const size_t target = static_cast<size_t>(l & 0x3F) << 8 | msg[i + 1];
      if (target >= i || !g_labels.Has(target)) return false;
      if (!jumped) resume = i + 2;
      jumped = true;
      i = target;
      continue;
    }
    if (l > 63) return false;
    if (!jumped) g_labels.Add(i);
    total += 1 + l;
    if (total > 255) return false;
    i += 1 + l;
  }
  *pos = resume;
  return true;
}

struct Parsed {
  uint16_t counts[4] = {};
  bool has_opt = false;
  uint8_t opt_ext_rcode = 0;
  uint16_t opt_udp = 0;
  size_t question_end = 12;
};

// Checks rdata of types whose layout we know; unknown types only need to fit rdlength.
bool CheckRdata(const uint8_t* msg, size_t len, uint16_t type, size_t rd, size_t rdlen) {
  const size_t end = rd + rdlen;
  size_t p = rd;
  switch (type) {
    case 1:  // A
      return rdlen == 4;
    case 28:  // AAAA
      return rdlen == 16;
    case 2:   // NS
    case 5:   // CNAME
    case 12:  // PTR
      return CheckName(msg, len, &p, end) && p == end;
    case 15:  // MX
      p += 2;
      return rdlen >= 3 && CheckName(msg, len, &p, end) && p == end;
    case 33:  // SRV
      p += 6;
      return rdlen >= 7 && CheckName(msg, len, &p, end) && p == end;
    case 6:  // SOA
      return CheckName(msg, len, &p, end) && CheckName(msg, len, &p, end) && p + 20 == end;
    case 16:  // TXT: one or more <length><bytes>
      if (rdlen == 0) return false;
      while (p < end) p += 1 + msg[p];
      return p == end;
    default:
      return true;
  }
}

bool CheckMessage(const uint8_t* msg, size_t len, Parsed* out) {
  if (len < 12) return false;
  g_labels.Reset();
  for (int s = 0; s < 4; ++s) out->counts[s] = Get16(msg + 4 + 2 * s);
  size_t pos = 12;
  for (uint16_t q = 0; q < out->counts[0]; ++q) {
    if (!CheckName(msg, len, &pos, len) || pos + 4 > len) return false;
    pos += 4;
  }
  out->question_end = pos;
  const uint32_t records = uint32_t{out->counts[1]} + out->counts[2] + out->counts[3];
  for (uint32_t r = 0; r < records; ++r) {
    const size_t owner = pos;
    if (!CheckName(msg, len, &pos, len) || pos + 10 > len) return false;
    const uint16_t type = Get16(msg + pos);
    const size_t rdlen = Get16(msg + pos + 8);
    const size_t rd = pos + 10;
    if (rd + rdlen > len) return false;
    if (type == 41) {
      // RFC 6891 6.1.1: one OPT, in the additional section, owned by the root.
      const bool additional = r >= uint32_t{out->counts[1]} + out->counts[2];
      if (!additional || out->has_opt || msg[owner] != 0 || pos != owner + 1) return false;
      out->has_opt = true;
      out->opt_udp = Get16(msg + pos + 2);
      out->opt_ext_rcode = msg[pos + 4];
      if (msg[pos + 5] != 0) return false;  // we only speak version 0
      size_t o = rd;
      while (o < rd + rdlen) {
        if (o + 4 > rd + rdlen) return false;
        o += 4 + Get16(msg + o + 2);
      }
      if (o != rd + rdlen) return false;
    } else if (!CheckRdata(msg, len, type, rd, rdlen)) {
      return false;
    }
    pos = rd + rdlen;
  }
  return pos == len;  // no trailing bytes
}

// Checks one response to `query`; returns nothing, traps on a violation.
void CheckResponse(const uint8_t* query, size_t qlen, const ClientInfo& client, size_t cap,
                   const uint8_t* resp, size_t rlen, const AnswerInfo& info) {
  CHECK(rlen <= cap);
  if (rlen == 0) {
    // Dropped: only a message shorter than a header, or a response (QR=1) (engine.h), or a
    // capacity below the minimum.
    CHECK(qlen < 12 || (query[2] & 0x80) != 0 || cap < kSmallCap);
    return;
  }
  CHECK(qlen >= 12 && (query[2] & 0x80) == 0);
  CHECK(rlen >= 12);
  CHECK(resp[0] == query[0] && resp[1] == query[1]);         // ID
  CHECK((resp[2] & 0x80) != 0);                              // QR
  CHECK(((resp[2] >> 3) & 0xF) == ((query[2] >> 3) & 0xF));  // opcode echoed
  CHECK((resp[2] & 0x01) == (query[2] & 0x01));              // RD copied
  CHECK((resp[3] & 0x70) == 0);                              // Z, AD, CD clear
  Parsed p;
  CHECK(CheckMessage(resp, rlen, &p));
  CHECK(p.counts[0] <= 1);
  if (p.counts[0] == 1) {
    // The echoed question is the query's, byte for byte (case preserved, no compression).
    CHECK(p.question_end <= qlen);
    CHECK(std::memcmp(resp + 12, query + 12, p.question_end - 12) == 0);
  }
  const uint16_t rcode = static_cast<uint16_t>((resp[3] & 0xF) | (p.opt_ext_rcode << 4));
  CHECK(rcode == info.rcode);
  CHECK(rcode == 0 || rcode == 1 || rcode == 3 || rcode == 4 || rcode == 5 || rcode == 9 ||
        rcode == 16);
  CHECK(info.rcode <= 15 || p.has_opt);  // an extended rcode without OPT would read as another
  if (rcode == 1 || rcode == 4 || rcode == 5 || rcode == 9 || rcode == 16) {
    CHECK(p.counts[1] == 0 && p.counts[2] == 0);
  }
  if (rcode == 3) CHECK(p.counts[2] >= 1 || (resp[2] & 0x02));  // NXDOMAIN carries the SOA
  const bool tc = (resp[2] & 0x02) != 0;
  CHECK(tc == info.truncated);
  if (p.has_opt) CHECK(p.opt_udp == kEdnsSize);
  if (client.tcp) {
    if (cap == kCap) CHECK(!tc);
  } else {
    CHECK(rlen <= kEdnsSize);
    if (!p.has_opt) CHECK(rlen <= 512);
  }
}

uint8_t* CapBuffer(size_t cap) {
  // Exactly `cap` bytes on the heap: ASan's redzone sits right after the last usable byte.
  return static_cast<uint8_t*>(std::malloc(cap));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Engine& engine = TheEngine();
  static uint8_t* const separate = CapBuffer(kCap);
  static uint8_t* const in_place = CapBuffer(kCap);
  static uint8_t* const small = CapBuffer(kSmallCap);

  ClientInfo udp;
  udp.family = 4;
  udp.addr[0] = 192, udp.addr[1] = 0, udp.addr[2] = 2, udp.addr[3] = 1;
  ClientInfo tcp;
  tcp.family = 6;
  tcp.tcp = true;
  tcp.addr[0] = 0x20, tcp.addr[1] = 0x01, tcp.addr[2] = 0x0d, tcp.addr[3] = 0xb8;

  for (const ClientInfo* client : {&udp, &tcp}) {
    // Separate output: garbage in the buffer must not leak into the response (a byte read before
    // it is written would make the two answers differ). Only the first 16 KiB are refilled, which
    // covers every response this zone can produce, to keep the run fast.
    std::memset(separate, 0xA5, kPatterned);
    AnswerInfo info_sep;
    // The same random draws and rotation for both answers (random and cyclic policies).
    sextant::dataplane::SeedPolicyRandom(size + 1);
    const size_t n_sep = engine.Answer(data, size, *client, separate, kCap, &info_sep);
    CheckResponse(data, size, *client, kCap, separate, n_sep, info_sep);

    // In place: the query at the start of a 64 KiB buffer, answered over itself.
    if (size <= kCap) {
      std::memcpy(in_place, data, size);
      if (size < kPatterned) std::memset(in_place + size, 0x5A, kPatterned - size);
      AnswerInfo info_in;
      sextant::dataplane::SeedPolicyRandom(size + 1);
      const size_t n_in = engine.Answer(in_place, size, *client, in_place, kCap, &info_in);
      CheckResponse(data, size, *client, kCap, in_place, n_in, info_in);
      CHECK(n_in == n_sep);
      CHECK(std::memcmp(in_place, separate, n_sep) == 0);
      CHECK(info_in.rcode == info_sep.rcode && info_in.truncated == info_sep.truncated);
    }
  }

  // The slow path's sections instead of the images: the same bytes.
  {
    static uint8_t* const reference = CapBuffer(kCap);
    AnswerInfo info_ref, info_img;
    sextant::dataplane::SeedPolicyRandom(size + 1);
    const size_t n_img = engine.Answer(data, size, udp, separate, kCap, &info_img);
    sextant::dataplane::SeedPolicyRandom(size + 1);
    const size_t n_ref = TheEngine(false).Answer(data, size, udp, reference, kCap, &info_ref);
    CHECK(n_img == n_ref && std::memcmp(separate, reference, n_ref) == 0);
    // And without the answer lines: the images through the name table.
    AnswerInfo info_images;
    sextant::dataplane::SeedPolicyRandom(size + 1);
    const size_t n_images =
        TheEngineWithoutAnswerLines().Answer(data, size, udp, separate, kCap, &info_images);
    CHECK(n_images == n_ref && std::memcmp(separate, reference, n_ref) == 0);
  }

  // The smallest capacity the engine accepts: nothing may be written past it.
  AnswerInfo info_small;
  const size_t n_small = engine.Answer(data, size, udp, small, kSmallCap, &info_small);
  CheckResponse(data, size, udp, kSmallCap, small, n_small, info_small);
  return 0;
}
