// ProcessFrame on hand-built Ethernet frames: verdicts, replies and counters, table by table.
//
// Frames are built by the small helpers below (Ethernet, 802.1Q, IPv4, IPv6, UDP, ICMP, ICMPv6,
// ARP), and every reply is checked with a checksum routine written here from RFC 1071 (big-endian
// words, one at a time), not with packet_path's own: a bug shared by the writer and the checker
// would otherwise pass unseen.
//
// Every frame goes through Process(), which places it in a buffer of `room` bytes followed by guard
// bytes, fills the tail of the room with stale-looking bytes (as a reused mbuf would hold), and
// checks that the guard is intact afterwards. Under the ASan build the guard is also poisoned, so
// reading it is an error too.
#include "dataplane/packet_path.h"

#include <arpa/inet.h>
#include <sanitizer/asan_interface.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "maps/dns/frame.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {

// Verdicts by name in failure messages.
void PrintTo(Verdict v, std::ostream* os) {
  switch (v) {
    case Verdict::kTransmit:
      *os << "kTransmit";
      return;
    case Verdict::kDrop:
      *os << "kDrop";
      return;
    case Verdict::kException:
      *os << "kException";
      return;
  }
  *os << "Verdict(" << static_cast<int>(v) << ")";
}

namespace {

namespace sxt = ::sextant::testing;
using ::testing::UnorderedElementsAreArray;

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using V4 = std::array<uint8_t, 4>;
using V6 = std::array<uint8_t, 16>;

// ---------------------------------------------------------------------------------------------
// Addresses

V6 P6(const char* text) {
  V6 a{};
  if (inet_pton(AF_INET6, text, a.data()) != 1) std::abort();
  return a;
}

constexpr Mac kOurMac = {0x02, 0x53, 0x58, 0x00, 0x00, 0x01};
constexpr Mac kClientMac = {0x02, 0xc1, 0x1e, 0x00, 0x00, 0x07};
constexpr Mac kOtherMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
constexpr Mac kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kZeroMac = {};
constexpr Mac kOurSolicitedNodeMac = {0x33, 0x33, 0xff, 0x00, 0x00, 0x02};
constexpr Mac kAllNodesMac = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

constexpr V4 kOurV4 = {198, 18, 0, 2};
constexpr V4 kOurVlanV4 = {198, 18, 5, 2};  // ours on VLAN 5 only
constexpr V4 kOtherV4 = {198, 18, 0, 3};
constexpr V4 kClientV4 = {192, 0, 2, 77};
constexpr uint16_t kOurVlan = 5;
const V6 kOurV6 = P6("2001:db8:18::2");
const V6 kOtherV6 = P6("2001:db8:18::3");
const V6 kClientV6 = P6("2001:db8:99::77");
const V6 kOurSolicitedNode = P6("ff02::1:ff00:2");
const V6 kAllNodes = P6("ff02::1");
const V6 kUnspecified = P6("::");

constexpr uint16_t kClientPort = 40000;
constexpr int kUntagged = -1;

// Field names and numbers below DNS (maps/dns/frame.h) and DNS types; two more for the tables.
using namespace ::sextant::maps::frame;  // NOLINT: the field names read better unqualified
constexpr uint16_t kEthLldp = 0x88CC;
constexpr uint8_t kTimestamp = 13;  // ICMP timestamp request: not ours to answer
constexpr uint16_t kA = 1, kSoa = 6, kAaaa = 28;

// Where things are in an untagged IPv4 / IPv6 UDP frame.
constexpr size_t kUdp4At = kEthHeaderLen + kIpv4HeaderLen, kDns4At = kUdp4At + kUdpHeaderLen;
constexpr size_t kUdp6At = kEthHeaderLen + kIpv6HeaderLen;

// ---------------------------------------------------------------------------------------------
// Bytes and checksums

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Append16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
template <typename C>
void Append(Bytes* b, const C& c) {
  b->insert(b->end(), std::begin(c), std::end(c));
}
template <size_t N>
std::array<uint8_t, N> At(const uint8_t* p) {
  std::array<uint8_t, N> a;
  std::copy(p, p + N, a.begin());
  return a;
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) absl::StrAppendFormat(&s, "%02x", p[i]);
  return s;
}

// RFC 1071 as written: big-endian 16-bit words one at a time, the odd byte padded with a zero.
uint64_t SumWords(const uint8_t* p, size_t n, uint64_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += Get16(p + i);
  if (n % 2 != 0) acc += static_cast<uint64_t>(p[n - 1]) << 8;
  return acc;
}
uint16_t FoldSum(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
uint16_t Checksum(const uint8_t* p, size_t n, uint64_t acc = 0) {
  return static_cast<uint16_t>(~FoldSum(SumWords(p, n, acc)));
}
// A region carrying its checksum verifies when everything sums to 0xffff.
bool Verifies(const uint8_t* p, size_t n, uint64_t acc = 0) {
  return FoldSum(SumWords(p, n, acc)) == 0xffff;
}
uint64_t Pseudo4(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint16_t len) {
  return SumWords(src, 4) + SumWords(dst, 4) + proto + len;
}
uint64_t Pseudo6(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t len) {
  return SumWords(src, 16) + SumWords(dst, 16) + (len >> 16) + (len & 0xffff) + proto;
}
// The checksum a sender stores in a UDP header: zero means "none", so a zero result is sent as
// 0xffff (RFC 768).
uint16_t UdpField(uint16_t c) { return c == 0 ? 0xffff : c; }

// ---------------------------------------------------------------------------------------------
// Frame builders

Bytes Eth(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload,
          int vlan = kUntagged) {
  Bytes f;
  Append(&f, dst);
  Append(&f, src);
  if (vlan != kUntagged) {
    Append16(&f, kEthTypeVlan);
    Append16(&f, static_cast<uint16_t>(vlan));
  }
  Append16(&f, type);
  Append(&f, payload);
  return f;
}

struct Ip4Options {
  uint16_t flags_frag = 0x4000;  // DF
  uint8_t ttl = 57;
  Bytes options;  // a multiple of 4 bytes
};
Ip4Options FlagsFrag(uint16_t v) {
  Ip4Options o;
  o.flags_frag = v;
  return o;
}
Ip4Options Options(const Bytes& options) {
  Ip4Options o;
  o.options = options;
  return o;
}

Bytes Ip4(const V4& src, const V4& dst, uint8_t proto, const Bytes& l4, const Ip4Options& o = {}) {
  const size_t hlen = kIpv4HeaderLen + o.options.size();
  Bytes p;
  p.push_back(static_cast<uint8_t>(0x40 | hlen / 4));
  p.push_back(0);
  Append16(&p, static_cast<uint16_t>(hlen + l4.size()));
  Append16(&p, 0x4242);  // id
  Append16(&p, o.flags_frag);
  p.push_back(o.ttl);
  p.push_back(proto);
  Append16(&p, 0);
  Append(&p, src);
  Append(&p, dst);
  Append(&p, o.options);
  Put16(&p[kIpv4Checksum], Checksum(p.data(), hlen));
  Append(&p, l4);
  return p;
}

Bytes Ip6(const V6& src, const V6& dst, uint8_t next, const Bytes& l4, uint8_t hop = 57) {
  Bytes p = {0x60, 0, 0, 0};
  Append16(&p, static_cast<uint16_t>(l4.size()));
  p.push_back(next);
  p.push_back(hop);
  Append(&p, src);
  Append(&p, dst);
  Append(&p, l4);
  return p;
}

// UDP datagrams: Udp() leaves the checksum zero; Udp4() and Udp6() fill it in over the IPv4 or
// IPv6 pseudo-header. TCP is a bare SYN, only for its protocol number and port.
Bytes Udp(uint16_t sport, uint16_t dport, const Bytes& data) {
  Bytes u;
  Append16(&u, sport);
  Append16(&u, dport);
  Append16(&u, static_cast<uint16_t>(kUdpHeaderLen + data.size()));
  Append16(&u, 0);
  Append(&u, data);
  return u;
}
Bytes Udp4(const V4& src, const V4& dst, uint16_t sport, uint16_t dport, const Bytes& data) {
  Bytes u = Udp(sport, dport, data);
  Put16(&u[kUdpChecksum],
        UdpField(
            Checksum(u.data(), u.size(), Pseudo4(src.data(), dst.data(), kIpProtoUdp, u.size()))));
  return u;
}
Bytes Udp6(const V6& src, const V6& dst, uint16_t sport, uint16_t dport, const Bytes& data) {
  Bytes u = Udp(sport, dport, data);
  Put16(&u[kUdpChecksum],
        UdpField(
            Checksum(u.data(), u.size(), Pseudo6(src.data(), dst.data(), kIpProtoUdp, u.size()))));
  return u;
}
Bytes TcpSyn(uint16_t sport, uint16_t dport, uint64_t pseudo_without_len) {
  Bytes t;
  Append16(&t, sport);
  Append16(&t, dport);
  Append(&t, Bytes{0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0});
  Put16(&t[16], Checksum(t.data(), t.size(), pseudo_without_len + t.size()));
  return t;
}
Bytes Tcp4(const V4& src, const V4& dst, uint16_t dport) {
  return TcpSyn(kClientPort, dport, Pseudo4(src.data(), dst.data(), kIpProtoTcp, 0));
}
Bytes Tcp6(const V6& src, const V6& dst, uint16_t dport) {
  return TcpSyn(kClientPort, dport, Pseudo6(src.data(), dst.data(), kIpProtoTcp, 0));
}

// `rest` is everything after the checksum (for echo: id, sequence, data).
Bytes Icmp4(uint8_t type, uint8_t code, const Bytes& rest) {
  Bytes m = {type, code, 0, 0};
  Append(&m, rest);
  Put16(&m[2], Checksum(m.data(), m.size()));
  return m;
}
Bytes Icmp6(const V6& src, const V6& dst, uint8_t type, uint8_t code, const Bytes& rest) {
  Bytes m = {type, code, 0, 0};
  Append(&m, rest);
  Put16(&m[2],
        Checksum(m.data(), m.size(), Pseudo6(src.data(), dst.data(), kIpProtoIcmpv6, m.size())));
  return m;
}
Bytes EchoBody(uint16_t id, uint16_t seq, const Bytes& data) {
  Bytes b;
  Append16(&b, id);
  Append16(&b, seq);
  Append(&b, data);
  return b;
}
// Neighbour solicitation body (RFC 4861 section 4.3), with a source link-layer address option
// unless the source is unspecified (DAD).
Bytes NsBody(const V6& target, bool with_source_mac) {
  Bytes b = {0, 0, 0, 0};
  Append(&b, target);
  if (with_source_mac) {
    Append(&b, Bytes{1, 1});
    Append(&b, kClientMac);
  }
  return b;
}

Bytes Arp(uint16_t op, const Mac& sha, const V4& spa, const Mac& tha, const V4& tpa,
          uint8_t hlen = 6) {
  Bytes a;
  Append16(&a, 1);  // Ethernet
  Append16(&a, kEthTypeIpv4);
  a.push_back(hlen);
  a.push_back(4);
  Append16(&a, op);
  Append(&a, sha);
  Append(&a, spa);
  Append(&a, tha);
  Append(&a, tpa);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Ready-made frames

Bytes Dns(const std::string& name, uint16_t qtype, int edns_size = -1, uint16_t id = 0x1234) {
  sxt::QueryOptions o;
  o.id = id;
  o.edns_size = edns_size;
  return sxt::MakeQuery(name, qtype, o);
}
Bytes WwwA() { return Dns("www.pkt.test", kA); }

Bytes Query4(const Bytes& dns, const V4& dst = kOurV4, int vlan = kUntagged, uint16_t dport = 53) {
  return Eth(kOurMac, kClientMac, kEthTypeIpv4,
             Ip4(kClientV4, dst, kIpProtoUdp, Udp4(kClientV4, dst, kClientPort, dport, dns)), vlan);
}
Bytes Query6(const Bytes& dns, const V6& dst = kOurV6, uint16_t dport = 53) {
  return Eth(kOurMac, kClientMac, kEthTypeIpv6,
             Ip6(kClientV6, dst, kIpProtoUdp, Udp6(kClientV6, dst, kClientPort, dport, dns)));
}
Bytes ArpRequest(const V4& target, int vlan = kUntagged) {
  return Eth(kBroadcastMac, kClientMac, kEthTypeArp,
             Arp(kArpRequest, kClientMac, kClientV4, kZeroMac, target), vlan);
}
Bytes Ping4(const Bytes& data, const V4& dst = kOurV4, int vlan = kUntagged) {
  return Eth(
      kOurMac, kClientMac, kEthTypeIpv4,
      Ip4(kClientV4, dst, kIpProtoIcmp, Icmp4(kIcmpEchoRequest, 0, EchoBody(0x0bad, 7, data))),
      vlan);
}
Bytes Ping6(const Bytes& data) {
  return Eth(kOurMac, kClientMac, kEthTypeIpv6,
             Ip6(kClientV6, kOurV6, kIpProtoIcmpv6,
                 Icmp6(kClientV6, kOurV6, kIcmp6EchoRequest, 0, EchoBody(0x0bad, 7, data))));
}
struct NsOptions {
  V6 src = kClientV6;
  V6 dst = kOurSolicitedNode;
  Mac dst_mac = kOurSolicitedNodeMac;
  V6 target = kOurV6;
  uint8_t hop = 255;
  uint8_t code = 0;
};
Bytes Ns(const NsOptions& o = {}) {
  const bool dad = o.src == kUnspecified;
  return Eth(
      o.dst_mac, kClientMac, kEthTypeIpv6,
      Ip6(o.src, o.dst, kIpProtoIcmpv6,
          Icmp6(o.src, o.dst, kIcmp6NeighborSolicit, o.code, NsBody(o.target, !dad)), o.hop));
}

// Frame surgery: a copy with `edit` applied.
Bytes With(Bytes f, const std::function<void(Bytes&)>& edit) {
  edit(f);
  return f;
}
void FixIp4HeaderSum(Bytes& f, size_t l2 = kEthHeaderLen) {
  const size_t ihl = (f[l2] & 0xf) * 4u;
  Put16(&f[l2 + kIpv4Checksum], 0);
  Put16(&f[l2 + kIpv4Checksum], Checksum(&f[l2], ihl));
}
void FixUdp4Sum(Bytes& f, size_t l2 = kEthHeaderLen) {
  uint8_t* ip = &f[l2];
  uint8_t* u = ip + kIpv4HeaderLen;
  const uint16_t ulen = Get16(u + kUdpLength);
  Put16(u + kUdpChecksum, 0);
  Put16(u + kUdpChecksum,
        UdpField(Checksum(u, ulen, Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, ulen))));
}
void FixUdp6Sum(Bytes& f) {
  uint8_t* ip = &f[kEthHeaderLen];
  uint8_t* u = ip + kIpv6HeaderLen;
  const uint16_t ulen = Get16(u + kUdpLength);
  Put16(u + kUdpChecksum, 0);
  Put16(u + kUdpChecksum,
        UdpField(Checksum(u, ulen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoUdp, ulen))));
}
// Sets the DNS header's flag byte 1 of an untagged IPv4 query and fixes the UDP checksum.
Bytes Query4WithFlags1(uint8_t flags1) {
  return With(Query4(WwwA()), [=](Bytes& f) {
    f[kDns4At + 2] = flags1;
    FixUdp4Sum(f);
  });
}

// ---------------------------------------------------------------------------------------------
// The server under test

constexpr char kZone[] = R"($ORIGIN pkt.test.
$TTL 300
@     IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@     IN NS  ns1
ns1   IN A   198.18.0.2
www   IN A   198.18.1.1
www   IN A   198.18.1.2
www   IN AAAA 2001:db8:1::1
)";

struct Server {
  std::unique_ptr<maps::SnapshotReader> snapshot;
  std::unique_ptr<Engine> engine;
};

const Engine* TestEngine() {
  static const Server* s = [] {
    // 60 A records at big.pkt.test: 60 * 16 bytes of answer, more than a 600-byte MTU holds.
    std::string zone = kZone;
    for (int i = 1; i <= 60; ++i) absl::StrAppendFormat(&zone, "big IN A 198.18.9.%d\n", i);
    auto snap = sxt::BuildTestSnapshot({{"pkt.test.", zone}});
    if (!snap.ok()) {
      std::fprintf(stderr, "BuildTestSnapshot failed: %s\n", snap.status().ToString().c_str());
      std::abort();
    }
    auto* server = new Server;
    server->snapshot = std::move(snap).value();
    server->engine = std::make_unique<Engine>(*server->snapshot);
    return server;
  }();
  return s->engine.get();
}

PathConfig Config() {
  PathConfig c;
  std::copy(kOurMac.begin(), kOurMac.end(), c.mac);
  c.n_v4 = 2;
  std::copy(kOurV4.begin(), kOurV4.end(), c.v4[0]);
  c.v4_vlan[0] = 0;
  std::copy(kOurVlanV4.begin(), kOurVlanV4.end(), c.v4[1]);
  c.v4_vlan[1] = kOurVlan;
  c.n_v6 = 1;
  std::copy(kOurV6.begin(), kOurV6.end(), c.v6[0]);
  c.v6_vlan[0] = 0;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Running a frame

constexpr uint32_t kRoom = 2048;  // a DPDK mbuf's data room
constexpr size_t kGuard = 64;
constexpr uint8_t kStale = 0xee;  // what a reused buffer holds past the frame
constexpr uint8_t kGuardByte = 0xa5;
constexpr int kNoDrop = -1;

struct Outcome {
  Verdict verdict = Verdict::kDrop;
  uint32_t len = 0;  // as ProcessFrame reported it
  Bytes out;         // the first min(len, room) bytes of the buffer afterwards
  bool guard_intact = true;
  TxOffload offload;
  maps::LcoreCounters counters{};
};

// `room` below the frame's length is raised to it (a caller never passes less).
Outcome Process(const Bytes& in, const PathConfig& config = Config(),
                const Engine* engine = TestEngine(), uint32_t room = kRoom) {
  Outcome o;
  const uint32_t buffer_room = std::max<uint32_t>(room, static_cast<uint32_t>(in.size()));
  std::vector<uint8_t> buf(buffer_room + kGuard, kStale);
  std::copy(in.begin(), in.end(), buf.begin());
  std::fill(buf.begin() + buffer_room, buf.end(), kGuardByte);
  ASAN_POISON_MEMORY_REGION(buf.data() + buffer_room, kGuard);
  o.len = static_cast<uint32_t>(in.size());
  o.verdict =
      ProcessFrame(buf.data(), &o.len, buffer_room, config, engine, &o.counters, &o.offload);
  ASAN_UNPOISON_MEMORY_REGION(buf.data() + buffer_room, kGuard);
  o.guard_intact =
      std::all_of(buf.begin() + buffer_room, buf.end(), [](uint8_t b) { return b == kGuardByte; });
  o.out.assign(buf.begin(), buf.begin() + std::min(o.len, buffer_room));
  return o;
}

uint64_t TotalDropped(const maps::LcoreCounters& c) {
  uint64_t n = 0;
  for (uint64_t d : c.dropped) n += d;
  return n;
}

std::string Dropped(const maps::LcoreCounters& c) {
  std::string s = "dropped[]:";
  for (uint64_t d : c.dropped) absl::StrAppend(&s, " ", d);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Reading replies

size_t L2Len(const Bytes& f) {
  return Get16(&f[12]) == kEthTypeVlan ? kEthHeaderLen + kVlanTagLen : kEthHeaderLen;
}

// A minimal DNS decoder: header fields and the answer section as "A 198.18.1.1" strings.
struct DnsReply {
  uint16_t id = 0;
  bool qr = false, tc = false;
  uint8_t rcode = 0;
  uint16_t qdcount = 0, ancount = 0, arcount = 0;
  std::vector<std::string> answers;
};
bool SkipName(const uint8_t* p, size_t n, size_t* pos) {
  while (*pos < n) {
    const uint8_t b = p[*pos];
    if ((b & 0xc0) == 0xc0) {
      *pos += 2;
      return *pos <= n;
    }
    *pos += 1 + b;
    if (b == 0) return *pos <= n;
  }
  return false;
}
std::optional<DnsReply> ParseDns(const uint8_t* p, size_t n) {
  if (n < 12) return std::nullopt;
  DnsReply r;
  r.id = Get16(p);
  r.qr = p[2] & 0x80;
  r.tc = p[2] & 0x02;
  r.rcode = p[3] & 0x0f;
  r.qdcount = Get16(p + 4);
  r.ancount = Get16(p + 6);
  r.arcount = Get16(p + 10);
  size_t pos = 12;
  for (int i = 0; i < r.qdcount; ++i) {
    if (!SkipName(p, n, &pos) || pos + 4 > n) return std::nullopt;
    pos += 4;
  }
  for (int i = 0; i < r.ancount; ++i) {
    if (!SkipName(p, n, &pos) || pos + 10 > n) return std::nullopt;
    const uint16_t type = Get16(p + pos), rdlen = Get16(p + pos + 8);
    pos += 10;
    if (pos + rdlen > n) return std::nullopt;
    char text[INET6_ADDRSTRLEN] = {};
    if (type == kA && rdlen == 4) {
      inet_ntop(AF_INET, p + pos, text, sizeof(text));
      r.answers.push_back(absl::StrCat("A ", text));
    } else if (type == kAaaa && rdlen == 16) {
      inet_ntop(AF_INET6, p + pos, text, sizeof(text));
      r.answers.push_back(absl::StrCat("AAAA ", text));
    } else {
      r.answers.push_back(absl::StrCat("TYPE", type));
    }
    pos += rdlen;
  }
  return r;
}

// Everything a UDP reply to `query` must satisfy, whatever the question: Ethernet addresses
// swapped and the tag kept, IP addresses and ports swapped, lengths consistent with the frame,
// TTL / hop limit 64, checksums valid. Returns the DNS message.
Bytes CheckUdpReply(const Bytes& query, const Bytes& reply) {
  const size_t l2 = L2Len(query);
  if (reply.size() < l2 + kIpv4HeaderLen + kUdpHeaderLen) {
    ADD_FAILURE() << "reply too short: " << reply.size();
    return {};
  }
  EXPECT_EQ(At<6>(&reply[0]), At<6>(&query[6])) << "destination MAC = the client's";
  EXPECT_EQ(At<6>(&reply[6]), kOurMac) << "source MAC = ours";
  EXPECT_EQ(Bytes(&reply[12], &reply[l2]), Bytes(&query[12], &query[l2])) << "tag, EtherType";
  const uint8_t* qip = &query[l2];
  const uint8_t* ip = &reply[l2];
  const uint8_t* udp;
  const uint8_t* qudp;
  size_t l3;
  if (Get16(&query[l2 - 2]) == kEthTypeIpv4) {
    l3 = kIpv4HeaderLen;
    EXPECT_EQ(ip[0], 0x45);
    EXPECT_EQ(Get16(ip + kIpv4TotalLen), reply.size() - l2) << "IPv4 total length";
    EXPECT_EQ(Get16(ip + kIpv4FlagsFragment) & 0x3fff, 0) << "not a fragment";
    EXPECT_EQ(ip[kIpv4Ttl], 64);
    EXPECT_EQ(ip[kIpv4Protocol], kIpProtoUdp);
    EXPECT_EQ(At<4>(ip + kIpv4Src), At<4>(qip + kIpv4Dst));
    EXPECT_EQ(At<4>(ip + kIpv4Dst), At<4>(qip + kIpv4Src));
    EXPECT_TRUE(Verifies(ip, kIpv4HeaderLen)) << "IPv4 header checksum " << Hex(ip, kIpv4HeaderLen);
    udp = ip + kIpv4HeaderLen;
    qudp = qip + kIpv4HeaderLen;
    const uint16_t ulen = Get16(udp + kUdpLength);
    EXPECT_NE(Get16(udp + kUdpChecksum), 0) << "a checksum is sent";
    EXPECT_TRUE(Verifies(udp, ulen, Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, ulen)))
        << "UDP checksum";
  } else {
    l3 = kIpv6HeaderLen;
    EXPECT_EQ(ip[0] >> 4, 6);
    EXPECT_EQ(Get16(ip + kIpv6PayloadLen), reply.size() - l2 - kIpv6HeaderLen)
        << "IPv6 payload length";
    EXPECT_EQ(ip[kIpv6NextHeader], kIpProtoUdp);
    EXPECT_EQ(ip[kIpv6HopLimit], 64);
    EXPECT_EQ(At<16>(ip + kIpv6Src), At<16>(qip + kIpv6Dst));
    EXPECT_EQ(At<16>(ip + kIpv6Dst), At<16>(qip + kIpv6Src));
    udp = ip + kIpv6HeaderLen;
    qudp = qip + kIpv6HeaderLen;
    const uint16_t ulen = Get16(udp + kUdpLength);
    EXPECT_NE(Get16(udp + kUdpChecksum), 0) << "a checksum is sent";
    EXPECT_TRUE(Verifies(udp, ulen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoUdp, ulen)))
        << "UDP checksum";
  }
  EXPECT_EQ(Get16(udp), Get16(qudp + 2)) << "source port = the query's destination port";
  EXPECT_EQ(Get16(udp + 2), Get16(qudp)) << "destination port = the query's source port";
  EXPECT_EQ(Get16(udp + kUdpLength), reply.size() - l2 - l3) << "UDP length";
  return Bytes(udp + kUdpHeaderLen, reply.data() + reply.size());
}

DnsReply Decode(const Bytes& dns) {
  std::optional<DnsReply> r = ParseDns(dns.data(), dns.size());
  EXPECT_TRUE(r.has_value()) << "undecodable DNS reply " << Hex(dns.data(), dns.size());
  return r.value_or(DnsReply{});
}

// ---------------------------------------------------------------------------------------------
// DNS over UDP

TEST(PacketPath, AnswersDnsQueriesInPlace) {
  const std::vector<std::string> kWwwA = {"A 198.18.1.1", "A 198.18.1.2"};
  sxt::QueryOptions edns1;
  edns1.edns_size = 1232;
  edns1.edns_version = 1;
  struct Row {
    const char* name;
    Bytes query;
    std::vector<std::string> answers;
    uint8_t rcode = 0;      // in the header
    int rcode_counter = 0;  // the LcoreCounters::rcode slot
  } rows[] = {
      {"ipv4 www A", Query4(WwwA()), kWwwA},
      {"ipv6 www A", Query6(WwwA()), kWwwA},
      {"ipv6 www AAAA", Query6(Dns("www.pkt.test", kAaaa)), {"AAAA 2001:db8:1::1"}},
      {"ipv4 www A to 198.18.5.2 on vlan 5", Query4(WwwA(), kOurVlanV4, kOurVlan), kWwwA},
      // The VLAN id is the low 12 bits of the tag; priority and DEI do not change it.
      {"ipv4 www A on vlan 5 with priority 5 and DEI", Query4(WwwA(), kOurVlanV4, 0xb005), kWwwA},
      {"ipv4 www A with EDNS", Query4(Dns("www.pkt.test", kA, 1232)), kWwwA},
      {"ipv4 www A sent to the broadcast MAC",
       With(Query4(WwwA()), [](Bytes& f) { std::fill_n(f.begin(), 6, 0xff); }), kWwwA},
      {"ipv4 NXDOMAIN", Query4(Dns("nothere.pkt.test", kA)), {}, 3, 3},
      {"ipv6 REFUSED (not our zone)", Query6(Dns("example.com", kA)), {}, 5, 5},
      // BADVERS (16) does not fit the 4-bit header rcode; it is counted in the last slot.
      {"ipv4 BADVERS", Query4(sxt::MakeQuery("www.pkt.test", kA, edns1)), {}, 0, 15},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.query);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    EXPECT_TRUE(o.guard_intact);
    const DnsReply r = Decode(CheckUdpReply(row.query, o.out));
    EXPECT_EQ(r.id, 0x1234);
    EXPECT_TRUE(r.qr);
    EXPECT_FALSE(r.tc);
    EXPECT_EQ(r.rcode, row.rcode);
    EXPECT_EQ(r.qdcount, 1);
    EXPECT_THAT(r.answers, UnorderedElementsAreArray(row.answers));
    EXPECT_EQ(o.counters.queries, 1u);
    for (int i = 0; i < 16; ++i) {
      EXPECT_EQ(o.counters.rcode[i], i == row.rcode_counter ? 1u : 0u) << "rcode[" << i << "]";
    }
    EXPECT_EQ(o.counters.truncated, 0u);
    EXPECT_EQ(TotalDropped(o.counters), 0u);
  }
}

// Queries whose UDP checksum computes to zero, so that it is sent as 0xffff: the DNS id is
// chosen to make the rest of the datagram and the pseudo-header sum to 0xffff.
Bytes QueryWithZeroUdpSum4() {
  Bytes f = Query4(Dns("www.pkt.test", kA, -1, 0));
  Put16(&f[kUdp4At + kUdpChecksum], 0);
  const uint16_t ulen = Get16(&f[kUdp4At + kUdpLength]);
  const uint16_t s = FoldSum(SumWords(
      &f[kUdp4At], ulen,
      Pseudo4(&f[kEthHeaderLen + kIpv4Src], &f[kEthHeaderLen + kIpv4Dst], kIpProtoUdp, ulen)));
  return Query4(Dns("www.pkt.test", kA, -1, static_cast<uint16_t>(0xffff - s)));
}
Bytes QueryWithZeroUdpSum6() {
  Bytes f = Query6(Dns("www.pkt.test", kA, -1, 0));
  Put16(&f[kUdp6At + kUdpChecksum], 0);
  const uint16_t ulen = Get16(&f[kUdp6At + kUdpLength]);
  const uint16_t s = FoldSum(SumWords(
      &f[kUdp6At], ulen,
      Pseudo6(&f[kEthHeaderLen + kIpv6Src], &f[kEthHeaderLen + kIpv6Dst], kIpProtoUdp, ulen)));
  return Query6(Dns("www.pkt.test", kA, -1, static_cast<uint16_t>(0xffff - s)));
}

// The IPv4 and IPv6 UDP checksum rules: optional over IPv4 (zero = none), mandatory over IPv6
// (RFC 8200 section 8.1: a zero checksum is discarded).
TEST(PacketPath, UdpChecksumRules) {
  const Bytes zero_sum4 = QueryWithZeroUdpSum4();
  const Bytes zero_sum6 = QueryWithZeroUdpSum6();
  ASSERT_EQ(Get16(&zero_sum6[kUdp6At + kUdpChecksum]), 0xffff);
  ASSERT_EQ(Get16(&zero_sum4[kUdp4At + kUdpChecksum]), 0xffff);

  auto set_sum4 = [](uint16_t v) {
    return [=](Bytes& f) { Put16(&f[kUdp4At + kUdpChecksum], v); };
  };
  auto set_sum6 = [](uint16_t v) {
    return [=](Bytes& f) { Put16(&f[kUdp6At + kUdpChecksum], v); };
  };
  auto flip_sum4 = [](Bytes& f) { f[kUdp4At + kUdpChecksum + 1] ^= 0x01; };
  auto flip_sum6 = [](Bytes& f) { f[kUdp6At + kUdpChecksum + 1] ^= 0x01; };
  auto flip_payload4 = [](Bytes& f) { f.back() ^= 0x80; };  // qclass: the sum no longer matches
  struct Row {
    const char* name;
    Bytes query;
    Verdict want;
  } rows[] = {
      {"ipv4 valid", Query4(WwwA()), Verdict::kTransmit},
      {"ipv4 zero (no checksum)", With(Query4(WwwA()), set_sum4(0)), Verdict::kTransmit},
      {"ipv4 one bit off", With(Query4(WwwA()), flip_sum4), Verdict::kDrop},
      {"ipv4 payload changed under the checksum", With(Query4(WwwA()), flip_payload4),
       Verdict::kDrop},
      {"ipv4 sum zero sent as 0xffff", zero_sum4, Verdict::kTransmit},
      {"ipv6 valid", Query6(WwwA()), Verdict::kTransmit},
      {"ipv6 one bit off", With(Query6(WwwA()), flip_sum6), Verdict::kDrop},
      {"ipv6 zero", With(Query6(WwwA()), set_sum6(0)), Verdict::kDrop},
      {"ipv6 sum zero sent as 0xffff", zero_sum6, Verdict::kTransmit},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.query);
    EXPECT_EQ(o.verdict, row.want);
    if (row.want == Verdict::kDrop) {
      EXPECT_EQ(o.counters.dropped[maps::kDropMalformed], 1u);
      EXPECT_EQ(TotalDropped(o.counters), 1u);
      EXPECT_EQ(o.counters.queries, 0u);
    } else if (o.verdict == Verdict::kTransmit) {
      CheckUdpReply(row.query, o.out);
    }
  }
}

// 0 and 0xffff are the same number in ones' complement, so a datagram whose checksum computes to
// zero (and is sent as 0xffff) still sums correctly with a zero in the field. Over IPv4 a zero
// field means "no checksum" anyway; over IPv6 RFC 8200 section 8.1 says a zero UDP checksum is
// discarded, whatever the rest sums to. A bare sum check lets exactly this case through.
TEST(PacketPath, DropsZeroUdpChecksumOverIpv6EvenWhenTheSumWouldVerify) {
  Bytes query = QueryWithZeroUdpSum6();
  ASSERT_EQ(Get16(&query[kUdp6At + kUdpChecksum]), 0xffff);
  Put16(&query[kUdp6At + kUdpChecksum], 0);
  const Outcome o = Process(query);
  EXPECT_EQ(o.verdict, Verdict::kDrop);
  EXPECT_EQ(o.counters.dropped[maps::kDropMalformed], 1u) << Dropped(o.counters);
  EXPECT_EQ(o.counters.queries, 0u);
}

// A query in a frame longer than its IP packet (Ethernet pads to 60 bytes; some NICs leave the
// FCS on) is answered exactly as without the trailing bytes: the engine never sees them.
TEST(PacketPath, IgnoresEthernetPadding) {
  struct Row {
    const char* name;
    Bytes query;  // unpadded
    size_t pad_to;
  } rows[] = {
      // 14 + 20 + 8 + 17 = 59 bytes: the smallest query there is, padded to the 60-byte minimum.
      {"ipv4 '. SOA' padded to 60 bytes", Query4(Dns(".", kSoa)), 60},
      {"ipv4 header-only DNS message padded to 60 bytes",
       Query4(Bytes{0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 60},
      {"ipv4 www A with 4 trailing bytes", Query4(WwwA()), Query4(WwwA()).size() + 4},
      {"ipv4 www A on vlan 5, padded", Query4(WwwA(), kOurVlanV4, kOurVlan),
       Query4(WwwA(), kOurVlanV4, kOurVlan).size() + 9},
      {"ipv6 www A with 4 trailing bytes", Query6(WwwA()), Query6(WwwA()).size() + 4},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Bytes padded = row.query;
    padded.resize(row.pad_to, 0xc0);  // would read as a compression pointer if parsed
    const Outcome plain = Process(row.query);
    const Outcome o = Process(padded);
    ASSERT_EQ(plain.verdict, Verdict::kTransmit);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    CheckUdpReply(row.query, o.out);
    EXPECT_EQ(Hex(o.out.data(), o.out.size()), Hex(plain.out.data(), plain.out.size()));
    EXPECT_EQ(o.counters.queries, 1u);
  }
}

// With checksum offload the reply leaves the IPv4 header checksum at zero (DPDK wants it so
// with RTE_MBUF_F_TX_IP_CKSUM) and the UDP checksum holding the pseudo-header sum, not
// complemented; the NIC finishes both. Finishing them here as a NIC would must give valid sums.
TEST(PacketPath, ChecksumOffload) {
  struct Row {
    const char* name;
    Bytes query;
    TxOffload want;
  } rows[] = {
      {"ipv4 untagged", Query4(WwwA()), {.ipv4 = true, .udp = true, .l2_len = 14, .l3_len = 20}},
      {"ipv4 vlan 5",
       Query4(WwwA(), kOurVlanV4, kOurVlan),
       {.ipv4 = true, .udp = true, .l2_len = 18, .l3_len = 20}},
      {"ipv6", Query6(WwwA()), {.ipv6 = true, .udp = true, .l2_len = 14, .l3_len = 40}},
  };
  PathConfig config = Config();
  config.sw_checksum = false;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.query, config);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    EXPECT_EQ(o.offload.ipv4, row.want.ipv4);
    EXPECT_EQ(o.offload.ipv6, row.want.ipv6);
    EXPECT_EQ(o.offload.udp, row.want.udp);
    EXPECT_EQ(o.offload.l2_len, row.want.l2_len);
    EXPECT_EQ(o.offload.l3_len, row.want.l3_len);

    Bytes f = o.out;
    uint8_t* ip = &f[row.want.l2_len];
    uint8_t* udp = ip + row.want.l3_len;
    const uint16_t ulen = Get16(udp + kUdpLength);
    const uint64_t pseudo = row.want.ipv4
                                ? Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, ulen)
                                : Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoUdp, ulen);
    EXPECT_EQ(Get16(udp + kUdpChecksum), FoldSum(pseudo))
        << "the pseudo-header sum, not complemented";
    if (row.want.ipv4) {
      EXPECT_EQ(Get16(ip + kIpv4Checksum), 0) << "left for the NIC";
      Put16(ip + kIpv4Checksum, Checksum(ip, kIpv4HeaderLen));
    }
    Put16(udp + kUdpChecksum, UdpField(Checksum(udp, ulen)));  // the NIC: the sum from the L4 start
    const DnsReply r = Decode(CheckUdpReply(row.query, f));
    EXPECT_EQ(r.answers.size(), 2u);
  }
}

// Replies never exceed the MTU: what does not fit is sent empty with TC (the client retries
// over TCP), even when the client's EDNS size would allow more.
TEST(PacketPath, RepliesFitTheMtu) {
  const Bytes big = Dns("big.pkt.test", kA, 1232);
  struct Row {
    const char* name;
    Bytes query;
    uint16_t mtu;
    bool tc;
    size_t answers;
  } rows[] = {
      {"ipv4 mtu 600", Query4(big), 600, true, 0},
      {"ipv6 mtu 600", Query6(big), 600, true, 0},
      {"ipv4 vlan 5 mtu 600", Query4(big, kOurVlanV4, kOurVlan), 600, true, 0},
      {"ipv4 mtu 1500", Query4(big), 1500, false, 60},
      {"ipv6 mtu 1500", Query6(big), 1500, false, 60},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    PathConfig config = Config();
    config.mtu = row.mtu;
    const Outcome o = Process(row.query, config);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    const Bytes dns = CheckUdpReply(row.query, o.out);
    EXPECT_LE(o.out.size() - L2Len(row.query), row.mtu) << "IP packet within the MTU";
    const DnsReply r = Decode(dns);
    EXPECT_EQ(r.tc, row.tc);
    EXPECT_EQ(r.rcode, 0);
    EXPECT_EQ(r.answers.size(), row.answers);
    EXPECT_EQ(o.counters.truncated, row.tc ? 1u : 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// ARP, ICMP echo, neighbour discovery

TEST(PacketPath, AnswersArpRequestsForOurAddresses) {
  struct Row {
    const char* name;
    Bytes request;
    V4 address;
  } rows[] = {
      {"198.18.0.2 untagged", ArpRequest(kOurV4), kOurV4},
      {"198.18.5.2 on vlan 5", ArpRequest(kOurVlanV4, kOurVlan), kOurVlanV4},
      {"198.18.0.2 in a padded 60-byte frame",
       With(ArpRequest(kOurV4), [](Bytes& f) { f.resize(60, 0); }), kOurV4},
      {"198.18.0.2 sent unicast to our MAC",
       With(ArpRequest(kOurV4), [](Bytes& f) { std::copy(kOurMac.begin(), kOurMac.end(), &f[0]); }),
       kOurV4},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.request);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    const Bytes& f = o.out;
    const size_t l2 = L2Len(row.request);
    ASSERT_GE(f.size(), 60u) << "padded to the Ethernet minimum";
    EXPECT_EQ(At<6>(&f[0]), kClientMac);
    EXPECT_EQ(At<6>(&f[6]), kOurMac);
    EXPECT_EQ(Bytes(&f[12], &f[l2]), Bytes(&row.request[12], &row.request[l2])) << "tag kept";
    const uint8_t* a = &f[l2];
    EXPECT_EQ(Hex(a, 8), "0001080006040002") << "Ethernet/IPv4, reply";
    EXPECT_EQ(At<6>(a + 8), kOurMac) << "sender = us";
    EXPECT_EQ(At<4>(a + 14), row.address);
    EXPECT_EQ(At<6>(a + 18), kClientMac) << "target = the requester";
    EXPECT_EQ(At<4>(a + 24), kClientV4);
    EXPECT_EQ(TotalDropped(o.counters), 0u);
  }
}

TEST(PacketPath, AnswersEchoRequests) {
  Bytes data(56);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  struct Row {
    const char* name;
    Bytes request;
  } rows[] = {
      {"icmp 56 bytes", Ping4(data)},
      {"icmp odd length (3 bytes)", Ping4(Bytes{1, 2, 3})},
      {"icmp on vlan 5", Ping4(data, kOurVlanV4, kOurVlan)},
      {"icmpv6 56 bytes", Ping6(data)},
      {"icmpv6 odd length (3 bytes)", Ping6(Bytes{1, 2, 3})},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.request);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    const Bytes& f = o.out;
    const Bytes& q = row.request;
    const size_t l2 = L2Len(q);
    EXPECT_EQ(At<6>(&f[0]), kClientMac);
    EXPECT_EQ(At<6>(&f[6]), kOurMac);
    EXPECT_EQ(Bytes(&f[12], &f[l2]), Bytes(&q[12], &q[l2]));
    const uint8_t* ip = &f[l2];
    const uint8_t* qip = &q[l2];
    const uint8_t* m;
    size_t mlen;
    if (Get16(&q[l2 - 2]) == kEthTypeIpv4) {
      EXPECT_EQ(Get16(ip + kIpv4TotalLen), Get16(qip + kIpv4TotalLen));
      EXPECT_EQ(ip[kIpv4Ttl], 64);
      EXPECT_EQ(At<4>(ip + kIpv4Src), At<4>(qip + kIpv4Dst));
      EXPECT_EQ(At<4>(ip + kIpv4Dst), At<4>(qip + kIpv4Src));
      EXPECT_TRUE(Verifies(ip, kIpv4HeaderLen)) << "IPv4 header checksum";
      m = ip + kIpv4HeaderLen;
      mlen = Get16(ip + kIpv4TotalLen) - kIpv4HeaderLen;
      EXPECT_EQ(m[0], kIcmpEchoReply);
      EXPECT_TRUE(Verifies(m, mlen)) << "ICMP checksum";
      EXPECT_EQ(f.size(), std::max<size_t>(q.size(), 60));
    } else {
      EXPECT_EQ(Get16(ip + kIpv6PayloadLen), Get16(qip + kIpv6PayloadLen));
      EXPECT_EQ(ip[kIpv6HopLimit], 64);
      EXPECT_EQ(At<16>(ip + kIpv6Src), At<16>(qip + kIpv6Dst));
      EXPECT_EQ(At<16>(ip + kIpv6Dst), At<16>(qip + kIpv6Src));
      m = ip + kIpv6HeaderLen;
      mlen = Get16(ip + kIpv6PayloadLen);
      EXPECT_EQ(m[0], kIcmp6EchoReply);
      EXPECT_TRUE(Verifies(m, mlen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoIcmpv6, mlen)))
          << "ICMPv6 checksum";
      EXPECT_EQ(f.size(), q.size());
    }
    EXPECT_EQ(m[1], 0) << "code";
    const uint8_t* qm = &q[m - f.data()];
    EXPECT_EQ(Hex(m + 4, mlen - 4), Hex(qm + 4, mlen - 4)) << "id, sequence and data echoed";
  }
}

TEST(PacketPath, AnswersNeighbourSolicitations) {
  struct Row {
    const char* name;
    Bytes ns;
    Mac dst_mac;
    V6 dst;
    uint8_t flags;  // R S O
  } rows[] = {
      {"to our solicited-node address", Ns(), kClientMac, kClientV6, 0x60},
      {"unicast to our address (NUD)", Ns({.dst = kOurV6, .dst_mac = kOurMac}), kClientMac,
       kClientV6, 0x60},
      {"duplicate address detection (source ::)", Ns({.src = kUnspecified}), kAllNodesMac,
       kAllNodes, 0x20},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.ns);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    const Bytes& f = o.out;
    ASSERT_EQ(f.size(), kEthHeaderLen + kIpv6HeaderLen + 32);
    EXPECT_EQ(At<6>(&f[0]), row.dst_mac);
    EXPECT_EQ(At<6>(&f[6]), kOurMac);
    EXPECT_EQ(Get16(&f[12]), kEthTypeIpv6);
    const uint8_t* ip = &f[kEthHeaderLen];
    EXPECT_EQ(Get16(ip + kIpv6PayloadLen), 32);
    EXPECT_EQ(ip[kIpv6NextHeader], kIpProtoIcmpv6);
    EXPECT_EQ(ip[kIpv6HopLimit], 255) << "RFC 4861 section 7.1.2";
    EXPECT_EQ(At<16>(ip + kIpv6Src), kOurV6) << "from the target address";
    EXPECT_EQ(At<16>(ip + kIpv6Dst), row.dst);
    const uint8_t* na = ip + kIpv6HeaderLen;
    EXPECT_EQ(na[0], kIcmp6NeighborAdvert);
    EXPECT_EQ(na[1], 0);
    EXPECT_EQ(na[4], row.flags);
    EXPECT_EQ(Hex(na + 5, 3), "000000");
    EXPECT_EQ(At<16>(na + 8), kOurV6) << "target";
    EXPECT_EQ(na[24], 2) << "target link-layer address option";
    EXPECT_EQ(na[25], 1);
    EXPECT_EQ(At<6>(na + 26), kOurMac);
    EXPECT_TRUE(Verifies(na, 32, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoIcmpv6, 32)))
        << "ICMPv6 checksum";
  }
}

// Without a snapshot DNS is dropped, but the link keeps working: ARP, ND and ping still answered.
TEST(PacketPath, WithoutSnapshotOnlyDnsIsDropped) {
  struct Row {
    const char* name;
    Bytes frame;
    Verdict want;
  } rows[] = {
      {"ipv4 dns", Query4(WwwA()), Verdict::kDrop},
      {"ipv6 dns", Query6(WwwA()), Verdict::kDrop},
      {"arp request", ArpRequest(kOurV4), Verdict::kTransmit},
      {"neighbour solicitation", Ns(), Verdict::kTransmit},
      {"icmp echo", Ping4({1, 2, 3, 4}), Verdict::kTransmit},
      {"icmpv6 echo", Ping6({1, 2, 3, 4}), Verdict::kTransmit},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.frame, Config(), /*engine=*/nullptr);
    EXPECT_EQ(o.verdict, row.want);
    EXPECT_EQ(o.counters.dropped[maps::kDropNoSnapshot], row.want == Verdict::kDrop ? 1u : 0u);
    EXPECT_EQ(TotalDropped(o.counters), row.want == Verdict::kDrop ? 1u : 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// Everything not answered here: dropped (with the reason counted) or handed to the kernel
// unchanged.

TEST(PacketPath, DropsRuntFrames) {
  const Bytes query = Query4(WwwA());
  const Bytes tagged = Query4(WwwA(), kOurVlanV4, kOurVlan);
  for (size_t n = 0; n < kEthHeaderLen; ++n) {
    SCOPED_TRACE(absl::StrCat(n, " bytes"));
    const Outcome o = Process(Bytes(query.begin(), query.begin() + n));
    EXPECT_EQ(o.verdict, Verdict::kDrop);
    EXPECT_EQ(o.counters.dropped[maps::kDropMalformed], 1u);
  }
  for (size_t n = kEthHeaderLen; n < kEthHeaderLen + kVlanTagLen; ++n) {
    SCOPED_TRACE(absl::StrCat(n, " bytes of a tagged frame"));
    const Outcome o = Process(Bytes(tagged.begin(), tagged.begin() + n));
    EXPECT_EQ(o.verdict, Verdict::kDrop);
    EXPECT_EQ(o.counters.dropped[maps::kDropMalformed], 1u);
  }
}

TEST(PacketPath, VerdictsForFramesNotAnswered) {
  const Bytes q4 = Query4(WwwA());
  const Bytes q6 = Query6(WwwA());
  auto ip4 = [](const std::function<void(uint8_t*)>& edit, bool fix_sum = true) {
    return With(Query4(WwwA()), [=](Bytes& f) {
      edit(&f[kEthHeaderLen]);
      if (fix_sum) FixIp4HeaderSum(f);
    });
  };
  struct Row {
    const char* name;
    Bytes frame;
    Verdict want;
    int drop = kNoDrop;  // the DropReason counted, for kDrop
  } rows[] = {
      // Exceptions: ours, but for the kernel.
      {"ipv4 tcp to port 53",
       Eth(kOurMac, kClientMac, kEthTypeIpv4,
           Ip4(kClientV4, kOurV4, kIpProtoTcp, Tcp4(kClientV4, kOurV4, 53))),
       Verdict::kException},
      {"ipv4 first fragment (MF)",
       Eth(kOurMac, kClientMac, kEthTypeIpv4,
           Ip4(kClientV4, kOurV4, kIpProtoUdp, Udp4(kClientV4, kOurV4, kClientPort, 53, WwwA()),
               FlagsFrag(0x2000))),
       Verdict::kException},
      {"ipv4 last fragment (offset 185)",
       Eth(kOurMac, kClientMac, kEthTypeIpv4,
           Ip4(kClientV4, kOurV4, kIpProtoUdp, Udp(kClientPort, 53, WwwA()), FlagsFrag(185))),
       Verdict::kException},
      {"ipv4 with options (IHL 6)",
       Eth(kOurMac, kClientMac, kEthTypeIpv4,
           Ip4(kClientV4, kOurV4, kIpProtoUdp, Udp4(kClientV4, kOurV4, kClientPort, 53, WwwA()),
               Options({1, 1, 1, 0}))),
       Verdict::kException},
      {"ipv4 udp to port 5353", Query4(WwwA(), kOurV4, kUntagged, 5353), Verdict::kException},
      {"ipv4 icmp timestamp request",
       Eth(kOurMac, kClientMac, kEthTypeIpv4,
           Ip4(kClientV4, kOurV4, kIpProtoIcmp, Icmp4(kTimestamp, 0, Bytes(16, 0)))),
       Verdict::kException},
      {"ipv4 protocol 47 (GRE)",
       Eth(kOurMac, kClientMac, kEthTypeIpv4, Ip4(kClientV4, kOurV4, 47, Bytes(8, 0))),
       Verdict::kException},
      {"ipv6 tcp to port 53",
       Eth(kOurMac, kClientMac, kEthTypeIpv6,
           Ip6(kClientV6, kOurV6, kIpProtoTcp, Tcp6(kClientV6, kOurV6, 53))),
       Verdict::kException},
      {"ipv6 udp to port 5353", Query6(WwwA(), kOurV6, 5353), Verdict::kException},
      {"ipv6 udp to multicast ff02::fb",
       Eth(Mac{0x33, 0x33, 0, 0, 0, 0xfb}, kClientMac, kEthTypeIpv6,
           Ip6(kClientV6, P6("ff02::fb"), kIpProtoUdp,
               Udp6(kClientV6, P6("ff02::fb"), 5353, 5353, WwwA()))),
       Verdict::kException},
      {"icmpv6 neighbour advertisement to us",
       Eth(kOurMac, kClientMac, kEthTypeIpv6,
           Ip6(kClientV6, kOurV6, kIpProtoIcmpv6,
               Icmp6(kClientV6, kOurV6, kIcmp6NeighborAdvert, 0, NsBody(kClientV6, true)), 255)),
       Verdict::kException},
      {"neighbour solicitation for another target", Ns({.target = kOtherV6}), Verdict::kException},
      {"unknown EtherType (LLDP)",
       Eth(Mac{0x01, 0x80, 0xc2, 0, 0, 0x0e}, kClientMac, kEthLldp, Bytes(46, 0)),
       Verdict::kException},
      {"arp request for another address", ArpRequest(kOtherV4), Verdict::kException},
      {"arp request for 198.18.5.2 untagged", ArpRequest(kOurVlanV4), Verdict::kException},
      {"arp request for 198.18.0.2 on vlan 5", ArpRequest(kOurV4, kOurVlan), Verdict::kException},
      {"arp reply (op 2)",
       Eth(kOurMac, kClientMac, kEthTypeArp,
           Arp(kArpReply, kClientMac, kClientV4, kOurMac, kOurV4)),
       Verdict::kException},

      // Malformed.
      {"arp with hardware length 8",
       Eth(kBroadcastMac, kClientMac, kEthTypeArp,
           Arp(kArpRequest, kClientMac, kClientV4, kZeroMac, kOurV4, /*hlen=*/8)),
       Verdict::kDrop, maps::kDropMalformed},
      {"arp cut at 27 bytes",
       With(ArpRequest(kOurV4), [](Bytes& f) { f.resize(kEthHeaderLen + 27); }), Verdict::kDrop,
       maps::kDropMalformed},
      {"ipv4 header cut at 19 bytes", With(q4, [](Bytes& f) { f.resize(kEthHeaderLen + 19); }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv4 IHL 4", ip4([](uint8_t* ip) { ip[0] = 0x44; }, false), Verdict::kDrop,
       maps::kDropMalformed},
      {"ipv4 version 6 in an IPv4 frame", ip4([](uint8_t* ip) { ip[0] = 0x65; }), Verdict::kDrop,
       maps::kDropMalformed},
      {"ipv4 total length one more than the frame",
       ip4([&](uint8_t* ip) { Put16(ip + kIpv4TotalLen, q4.size() - kEthHeaderLen + 1); }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv4 total length below the header",
       ip4([](uint8_t* ip) { Put16(ip + kIpv4TotalLen, 19); }), Verdict::kDrop,
       maps::kDropMalformed},
      {"ipv4 bad header checksum", ip4([](uint8_t* ip) { ip[kIpv4Checksum] ^= 0x10; }, false),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv4 bad udp checksum", With(q4, [](Bytes& f) { f[kUdp4At + kUdpChecksum] ^= 0x10; }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv4 udp length beyond the ip payload",
       With(q4,
            [](Bytes& f) {
              Put16(&f[kUdp4At + kUdpLength], Get16(&f[kUdp4At + kUdpLength]) + 1);
              f.push_back(0);  // so that the checksum can cover it
              FixUdp4Sum(f);
              f.pop_back();
            }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv4 udp length 7", With(q4, [](Bytes& f) { Put16(&f[kUdp4At + kUdpLength], 7); }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv4 icmp with a bad checksum", With(Ping4({1, 2, 3, 4}), [](Bytes& f) { f.back() ^= 1; }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv6 header cut at 39 bytes", With(q6, [](Bytes& f) { f.resize(kEthHeaderLen + 39); }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv6 payload length one more than the frame",
       With(q6,
            [&](Bytes& f) { Put16(&f[kEthHeaderLen + kIpv6PayloadLen], q6.size() - kUdp6At + 1); }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv6 bad udp checksum", With(q6, [](Bytes& f) { f[kUdp6At + kUdpChecksum] ^= 0x10; }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv6 udp checksum zero", With(q6, [](Bytes& f) { Put16(&f[kUdp6At + kUdpChecksum], 0); }),
       Verdict::kDrop, maps::kDropMalformed},
      {"ipv6 udp length beyond the ip payload",
       With(q6,
            [](Bytes& f) {
              Put16(&f[kUdp6At + kUdpLength], Get16(&f[kUdp6At + kUdpLength]) + 1);
              f.push_back(0);  // so that the checksum can cover it
              FixUdp6Sum(f);
              f.pop_back();
            }),
       Verdict::kDrop, maps::kDropMalformed},
      {"neighbour solicitation with hop limit 64", Ns({.hop = 64}), Verdict::kDrop,
       maps::kDropMalformed},
      {"neighbour solicitation with code 1", Ns({.code = 1}), Verdict::kDrop, maps::kDropMalformed},
      {"neighbour solicitation with a bad checksum",
       With(Ns(), [](Bytes& f) { f[kEthHeaderLen + kIpv6HeaderLen + 2] ^= 1; }), Verdict::kDrop,
       maps::kDropMalformed},

      // Not ours.
      {"unicast frame for another MAC",
       With(q4, [](Bytes& f) { std::copy(kOtherMac.begin(), kOtherMac.end(), f.begin()); }),
       Verdict::kDrop, maps::kDropNotOurs},
      {"ipv4 to another address", Query4(WwwA(), kOtherV4), Verdict::kDrop, maps::kDropNotOurs},
      {"ipv4 198.18.5.2 untagged", Query4(WwwA(), kOurVlanV4), Verdict::kDrop, maps::kDropNotOurs},
      {"ipv4 198.18.5.2 on vlan 6", Query4(WwwA(), kOurVlanV4, 6), Verdict::kDrop,
       maps::kDropNotOurs},
      {"ipv4 198.18.0.2 on vlan 5", Query4(WwwA(), kOurV4, kOurVlan), Verdict::kDrop,
       maps::kDropNotOurs},
      {"ipv6 to another address", Query6(WwwA(), kOtherV6), Verdict::kDrop, maps::kDropNotOurs},

      // Not a query.
      {"dns response (QR=1)", Query4WithFlags1(0x80), Verdict::kDrop, maps::kDropResponse},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.frame);
    EXPECT_EQ(o.verdict, row.want);
    EXPECT_TRUE(o.guard_intact);
    EXPECT_EQ(o.counters.queries, 0u);
    if (row.want == Verdict::kDrop) {
      EXPECT_EQ(o.counters.dropped[row.drop], 1u)
          << "DropReason " << row.drop << "; " << Dropped(o.counters);
      EXPECT_EQ(TotalDropped(o.counters), 1u);
    } else {
      EXPECT_EQ(TotalDropped(o.counters), 0u);
    }
    if (o.verdict == Verdict::kException) {
      // The kernel gets the frame exactly as it arrived.
      EXPECT_EQ(o.len, row.frame.size());
      EXPECT_EQ(Hex(o.out.data(), o.out.size()), Hex(row.frame.data(), row.frame.size()));
    }
  }
}

// A UDP/53 datagram too short to hold a DNS header is "not even a DNS header", which
// maps/control_block.h counts as kDropMalformed; kDropResponse is for QR=1 only.
TEST(PacketPath, CountsDnsMessagesShorterThanAHeaderAsMalformed) {
  const Bytes header = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  struct Row {
    const char* name;
    Bytes query;
  } rows[] = {
      {"ipv4 empty", Query4({})},
      {"ipv4 1 byte", Query4(Bytes(header.begin(), header.begin() + 1))},
      {"ipv4 11 bytes", Query4(Bytes(header.begin(), header.begin() + 11))},
      {"ipv6 11 bytes", Query6(Bytes(header.begin(), header.begin() + 11))},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Outcome o = Process(row.query);
    EXPECT_EQ(o.verdict, Verdict::kDrop);
    EXPECT_EQ(o.counters.dropped[maps::kDropMalformed], 1u) << Dropped(o.counters);
    EXPECT_EQ(o.counters.dropped[maps::kDropResponse], 0u);
  }
}

// ARP and IPv4 echo replies are padded up to the 60-byte Ethernet minimum by raising the length.
// The bytes that padding adds must not be whatever the buffer held before (stale data from
// earlier packets: "Etherleak", CVE-2003-0001), and the reply must fit in `room`. Software
// ports (tap, virtio) deliver unpadded 42-byte ARP requests, so the short input is not
// hypothetical.
TEST(PacketPath, ShortRepliesArePaddedWithZerosWithinRoom) {
  struct Row {
    const char* name;
    Bytes request;
    uint32_t room;
  } rows[] = {
      {"arp request of 42 bytes", ArpRequest(kOurV4), kRoom},
      {"icmp echo of 42 bytes (no data)", Ping4({}), kRoom},
      {"arp request of 42 bytes in a 42-byte buffer", ArpRequest(kOurV4), 42},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    ASSERT_EQ(row.request.size(), 42u);
    const Outcome o = Process(row.request, Config(), TestEngine(), row.room);
    ASSERT_EQ(o.verdict, Verdict::kTransmit);
    EXPECT_TRUE(o.guard_intact);
    EXPECT_LE(o.len, row.room) << "reply length beyond the buffer";
    const size_t end = std::min<size_t>(o.len, row.room);
    EXPECT_EQ(Hex(o.out.data() + row.request.size(), end - row.request.size()),
              std::string(2 * (end - row.request.size()), '0'))
        << "padding bytes";
  }
}

// ---------------------------------------------------------------------------------------------
// Random mutations

// Recomputes the checksums a mutated frame claims to carry (IPv4 header, UDP, ICMP, ICMPv6) so
// that mutations get past the checksum checks into the code behind them. Bounds-checked against
// whatever the mutation left.
void FixChecksums(Bytes& f) {
  if (f.size() < kEthHeaderLen) return;
  size_t l2 = kEthHeaderLen;
  uint16_t type = Get16(&f[12]);
  if (type == kEthTypeVlan && f.size() >= kEthHeaderLen + kVlanTagLen) {
    type = Get16(&f[16]);
    l2 += kVlanTagLen;
  }
  uint8_t* ip = f.data() + l2;
  const size_t avail = f.size() - std::min(f.size(), l2);
  if (type == kEthTypeIpv4 && avail >= kIpv4HeaderLen) {
    const size_t ihl = (ip[0] & 0xf) * 4u;
    const size_t total = Get16(ip + kIpv4TotalLen);
    if (ihl >= kIpv4HeaderLen && ihl <= avail) {
      uint8_t* l4 = ip + ihl;
      const size_t l4avail = std::min(total, avail) - std::min(std::min(total, avail), ihl);
      if (ip[kIpv4Protocol] == kIpProtoUdp && l4avail >= kUdpHeaderLen) {
        const uint16_t ulen = Get16(l4 + kUdpLength);
        if (ulen >= kUdpHeaderLen && ulen <= l4avail) {
          Put16(l4 + kUdpChecksum, 0);
          Put16(l4 + kUdpChecksum,
                UdpField(
                    Checksum(l4, ulen, Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, ulen))));
        }
      } else if (ip[kIpv4Protocol] == kIpProtoIcmp && l4avail >= 4) {
        Put16(l4 + 2, 0);
        Put16(l4 + 2, Checksum(l4, l4avail));
      }
      Put16(ip + kIpv4Checksum, 0);
      Put16(ip + kIpv4Checksum, Checksum(ip, ihl));
    }
  } else if (type == kEthTypeIpv6 && avail >= kIpv6HeaderLen) {
    const size_t plen = Get16(ip + kIpv6PayloadLen);
    uint8_t* l4 = ip + kIpv6HeaderLen;
    if (plen > avail - kIpv6HeaderLen) return;
    if (ip[kIpv6NextHeader] == kIpProtoUdp && plen >= kUdpHeaderLen) {
      const uint16_t ulen = Get16(l4 + kUdpLength);
      if (ulen >= kUdpHeaderLen && ulen <= plen) {
        Put16(l4 + kUdpChecksum, 0);
        Put16(
            l4 + kUdpChecksum,
            UdpField(Checksum(l4, ulen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoUdp, ulen))));
      }
    } else if (ip[kIpv6NextHeader] == kIpProtoIcmpv6 && plen >= 4) {
      Put16(l4 + 2, 0);
      Put16(l4 + 2,
            Checksum(l4, plen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoIcmpv6, plen)));
    }
  }
}

// What is wrong with a transmitted frame, if anything: addressing and checksums that every
// reply must get right whatever it answers.
std::string ReplyProblem(const Bytes& f) {
  if (f.size() < kEthHeaderLen) return "shorter than an Ethernet header";
  if (At<6>(&f[6]) != kOurMac) return "source MAC not ours";
  const size_t l2 = L2Len(f);
  const uint16_t type = Get16(&f[l2 - 2]);
  const uint8_t* ip = &f[l2];
  if (type == kEthTypeIpv4) {
    if (f.size() < l2 + kIpv4HeaderLen || ip[0] != 0x45) return "bad IPv4 header";
    const uint16_t total = Get16(ip + kIpv4TotalLen);
    if (l2 + total > f.size()) return "IPv4 total length beyond the frame";
    if (!Verifies(ip, kIpv4HeaderLen)) return "IPv4 header checksum";
    const uint8_t* l4 = ip + kIpv4HeaderLen;
    if (ip[kIpv4Protocol] == kIpProtoUdp) {
      const uint16_t ulen = Get16(l4 + kUdpLength);
      if (ulen != total - kIpv4HeaderLen) return "UDP length";
      if (!Verifies(l4, ulen, Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, ulen)))
        return "UDP sum";
    } else if (ip[kIpv4Protocol] == kIpProtoIcmp) {
      if (!Verifies(l4, total - kIpv4HeaderLen)) return "ICMP checksum";
    } else {
      return "unexpected IPv4 protocol";
    }
  } else if (type == kEthTypeIpv6) {
    if (f.size() < l2 + kIpv6HeaderLen) return "bad IPv6 header";
    const uint16_t plen = Get16(ip + kIpv6PayloadLen);
    if (l2 + kIpv6HeaderLen + plen != f.size()) return "IPv6 payload length";
    const uint8_t* l4 = ip + kIpv6HeaderLen;
    if (ip[kIpv6NextHeader] == kIpProtoUdp) {
      const uint16_t ulen = Get16(l4 + kUdpLength);
      if (ulen != plen) return "UDP length";
      if (!Verifies(l4, ulen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoUdp, ulen)))
        return "UDP sum";
    } else if (ip[kIpv6NextHeader] == kIpProtoIcmpv6) {
      if (!Verifies(l4, plen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoIcmpv6, plen))) {
        return "ICMPv6 checksum";
      }
    } else {
      return "unexpected IPv6 next header";
    }
  } else if (type != kEthTypeArp) {
    return "unexpected EtherType";
  }
  return "";
}

// 2,000 random mutations of valid frames (fixed seed): byte flips, truncation, extension, and
// length fields set to edge values, half of them with their checksums recomputed so that they
// reach the code behind the checks. ProcessFrame must never write past `room` (guard bytes, and
// ASan under -DSEXTANT_ASAN=ON), and whatever it transmits must fit in `room` and be a valid
// reply. Rooms start at 60 bytes; smaller ones are ShortRepliesArePaddedWithZerosWithinRoom's.
TEST(PacketPath, RandomMutationsStayInsideTheBuffer) {
  const std::vector<Bytes> seeds = {
      Query4(WwwA()),
      Query6(Dns("www.pkt.test", kAaaa)),
      Query4(WwwA(), kOurVlanV4, kOurVlan),
      Query4(Dns("big.pkt.test", kA, 1232)),
      Query6(Dns("big.pkt.test", kA, 4096)),
      ArpRequest(kOurV4),
      Ping4({1, 2, 3, 4, 5}),
      Ping6({1, 2, 3, 4, 5}),
      Ns(),
      Ns({.src = kUnspecified}),
  };
  // Where the length fields are in an untagged frame.
  const size_t kLengthFields[] = {kEthHeaderLen + kIpv4TotalLen, kUdp4At + kUdpLength,
                                  kEthHeaderLen + kIpv6PayloadLen, kUdp6At + kUdpLength,
                                  kEthHeaderLen};
  const uint16_t kEdgeValues[] = {0, 1, 7, 8, 19, 20, 21, 0x7fff, 0x8000, 0xfffe, 0xffff};

  std::mt19937 rng(20240611);  // the sequence is specified by the standard
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  int verdicts[3] = {};
  int failures = 0;
  for (int i = 0; i < 2000 && failures < 5; ++i) {
    Bytes f = seeds[pick(std::size(seeds))];
    for (int m = 0, n = 1 + static_cast<int>(pick(3)); m < n; ++m) {
      switch (pick(5)) {
        case 0:  // random bytes
          for (int k = 0, nk = 1 + static_cast<int>(pick(4)); k < nk && !f.empty(); ++k) {
            f[pick(f.size())] = static_cast<uint8_t>(rng());
          }
          break;
        case 1:  // truncate
          f.resize(pick(f.size() + 1));
          break;
        case 2:  // extend
          for (int k = 0, nk = 1 + static_cast<int>(pick(64)); k < nk; ++k) {
            f.push_back(static_cast<uint8_t>(rng()));
          }
          break;
        case 3: {  // a length field (or the version/IHL byte) to an edge value
          const size_t at = kLengthFields[pick(std::size(kLengthFields))];
          const uint16_t v = kEdgeValues[pick(std::size(kEdgeValues))];
          if (at == kEthHeaderLen && f.size() > at) {
            f[at] = static_cast<uint8_t>(v);
          } else if (f.size() >= at + 2) {
            Put16(&f[at], v);
          }
          break;
        }
        case 4:  // a 16-bit word anywhere to an edge value
          if (f.size() >= 2)
            Put16(&f[pick(f.size() - 1)], kEdgeValues[pick(std::size(kEdgeValues))]);
          break;
      }
    }
    if (pick(2) == 0) FixChecksums(f);
    const uint32_t base = std::max<uint32_t>(static_cast<uint32_t>(f.size()), 60);
    const uint32_t rooms[] = {base, base + static_cast<uint32_t>(pick(600)), kRoom};
    const uint32_t room = rooms[pick(std::size(rooms))];

    const Outcome o = Process(f, Config(), TestEngine(), room);
    ++verdicts[static_cast<int>(o.verdict)];
    std::string problem;
    if (!o.guard_intact) {
      problem = "wrote past room";
    } else if (o.verdict == Verdict::kTransmit) {
      problem = o.len > room ? "reply longer than room" : ReplyProblem(o.out);
    }
    if (!problem.empty()) {
      ++failures;
      ADD_FAILURE() << "iteration " << i << " room " << room << ": " << problem << "\n  in  "
                    << Hex(f.data(), f.size()) << "\n  out " << Hex(o.out.data(), o.out.size());
    }
  }
  // The mutations must reach every outcome, or the loop tests less than it seems to.
  EXPECT_GT(verdicts[static_cast<int>(Verdict::kTransmit)], 100);
  EXPECT_GT(verdicts[static_cast<int>(Verdict::kDrop)], 100);
  EXPECT_GT(verdicts[static_cast<int>(Verdict::kException)], 50);
  std::printf("verdicts: %d transmit, %d drop, %d exception\n", verdicts[0], verdicts[1],
              verdicts[2]);
}

}  // namespace
}  // namespace sextant::dataplane
