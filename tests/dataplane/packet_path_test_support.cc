// Running ProcessFrame in the packet-path tests and reading its replies
// (packet_path_test_support.h).
#include "tests/dataplane/packet_path_test_support.h"

#include <arpa/inet.h>
#include <sanitizer/asan_interface.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {

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

namespace packet_path_test {

namespace sxt = ::sextant::testing;

// ---------------------------------------------------------------------------------------------
// The server under test

namespace {

constexpr char kZone[] = R"($ORIGIN pkt.test.
$TTL 300
@     IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@     IN NS  ns1
ns1   IN A   198.18.0.2
www   IN A   198.18.1.1
www   IN A   198.18.1.2
www   IN AAAA 2001:db8:1::1
mail  IN A   198.18.1.3
)";

struct Server {
  std::unique_ptr<maps::SnapshotReader> snapshot;
  std::unique_ptr<Engine> engine;
};

// The test zone's snapshot and an engine on it, built once per process; without `lines`, the
// engine answers without its answer lines.
const Server* MakeServer(bool lines) {
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
  if (!lines) server->engine->set_answer_lines(false);
  return server;
}

}  // namespace

const Engine* TestEngine() {
  static const Server* s = MakeServer(true);
  return s->engine.get();
}

const Engine* TestEngineWithoutAnswerLines() {
  static const Server* s = MakeServer(false);
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

namespace {

constexpr size_t kGuard = 64;
constexpr uint8_t kStale = 0xee;  // what a reused buffer holds past the frame
constexpr uint8_t kGuardByte = 0xa5;

}  // namespace

Outcome Process(const Bytes& in, const PathConfig& config, const Engine* engine, uint32_t room,
                uint8_t rx_checksums) {
  Outcome o;
  const uint32_t buffer_room = std::max<uint32_t>(room, static_cast<uint32_t>(in.size()));
  std::vector<uint8_t> buf(buffer_room + kGuard, kStale);
  std::copy(in.begin(), in.end(), buf.begin());
  std::fill(buf.begin() + buffer_room, buf.end(), kGuardByte);
  ASAN_POISON_MEMORY_REGION(buf.data() + buffer_room, kGuard);
  o.len = static_cast<uint32_t>(in.size());
  o.verdict = rx_checksums != 0 ? ProcessCheckedFrame(buf.data(), &o.len, buffer_room, config,
                                                      engine, &o.counters, &o.offload, rx_checksums)
                                : ProcessFrame(buf.data(), &o.len, buffer_room, config, engine,
                                               &o.counters, &o.offload);
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

namespace {

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

}  // namespace

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

}  // namespace packet_path_test
}  // namespace sextant::dataplane
