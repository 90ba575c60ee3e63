// Everything ProcessFrame does not answer: runts and malformed frames dropped with the reason
// counted, frames not ours dropped, and the rest handed to the kernel unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/strings/str_cat.h"
#include "dataplane/packet_path.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"

namespace sextant::dataplane::packet_path_test {
namespace {

// Two more field numbers for the tables.
constexpr uint16_t kEthLldp = 0x88CC;
constexpr uint8_t kTimestamp = 13;  // ICMP timestamp request: not ours to answer

constexpr int kNoDrop = -1;  // a row's `drop` when its verdict is not kDrop

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

}  // namespace
}  // namespace sextant::dataplane::packet_path_test
