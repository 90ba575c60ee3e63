// What keeps the link working, answered by ProcessFrame itself: ARP, ICMP and ICMPv6 echo, and
// neighbour solicitations, with or without a snapshot.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "dataplane/packet_path.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"

namespace sextant::dataplane::packet_path_test {
namespace {

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

}  // namespace
}  // namespace sextant::dataplane::packet_path_test
