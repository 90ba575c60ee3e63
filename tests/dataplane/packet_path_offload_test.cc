// Checksum offload: what ProcessFrame leaves for the NIC to finish, and that finishing it as a NIC
// would gives valid sums.
#include <cstdint>

#include "dataplane/packet_path.h"
#include "gtest/gtest.h"
#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"

namespace sextant::dataplane::packet_path_test {
namespace {

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

}  // namespace
}  // namespace sextant::dataplane::packet_path_test
