// Checksum offload: what ProcessFrame leaves for the NIC to finish, and that finishing it as a NIC
// would gives valid sums.
#include <cstdint>

#include "dataplane/packet_path.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
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

// Receive checksum offload: what the NIC found good is not summed again (a query whose bytes no
// longer match its checksums is answered when the NIC vouches for it), what it found bad is
// dropped as malformed, and without a verdict the packet path sums as before. A zero UDP checksum
// keeps its meaning whatever the NIC says: none over IPv4, malformed over IPv6.
TEST(PacketPath, ReceiveChecksumOffload) {
  const auto flip_udp4 = [](Bytes f) {
    f[kUdp4At + kUdpChecksum + 1] ^= 0x01;
    return f;
  };
  const auto flip_ip4 = [](Bytes f) {
    f[kEthHeaderLen + kIpv4Checksum + 1] ^= 0x01;
    return f;
  };
  const auto zero_udp = [](Bytes f, size_t at) {
    Put16(&f[at + kUdpChecksum], 0);
    return f;
  };
  const Bytes q4 = Query4(WwwA()), q6 = Query6(WwwA());
  // The query with 4 bytes after its UDP datagram inside the IPv4 payload (total length and
  // header checksum raised to cover them), its UDP checksum left as it was or broken.
  const auto trailing = [](Bytes f, bool break_udp) {
    const size_t ip = kEthHeaderLen;
    f.insert(f.end(), {0xde, 0xad, 0xbe, 0xef});
    Put16(&f[ip + kIpv4TotalLen], static_cast<uint16_t>(Get16(&f[ip + kIpv4TotalLen]) + 4));
    Put16(&f[ip + kIpv4Checksum], 0);
    Put16(&f[ip + kIpv4Checksum], Checksum(&f[ip], kIpv4HeaderLen));
    if (break_udp) f[kUdp4At + kUdpChecksum + 1] ^= 0x01;
    return f;
  };
  struct Row {
    const char* name;
    Bytes query;
    uint8_t rx;
    Verdict want;
  } rows[] = {
      {"ipv4 good, nic good", q4, kRxIpv4Good | kRxL4Good, Verdict::kTransmit},
      {"ipv4 good, no verdict", q4, 0, Verdict::kTransmit},
      {"udp sum wrong, nic says good", flip_udp4(q4), kRxIpv4Good | kRxL4Good, Verdict::kTransmit},
      {"udp sum wrong, no verdict", flip_udp4(q4), 0, Verdict::kDrop},
      {"udp sum wrong, ip verdict only", flip_udp4(q4), kRxIpv4Good, Verdict::kDrop},
      {"ipv4 good, nic says udp bad", q4, kRxIpv4Good | kRxL4Bad, Verdict::kDrop},
      {"header sum wrong, nic says good", flip_ip4(q4), kRxIpv4Good | kRxL4Good,
       Verdict::kTransmit},
      {"header sum wrong, no verdict", flip_ip4(q4), 0, Verdict::kDrop},
      {"ipv4 good, nic says header bad", q4, kRxIpv4Bad | kRxL4Good, Verdict::kDrop},
      {"ipv4 udp sum zero, nic says bad", zero_udp(q4, kUdp4At), kRxIpv4Good | kRxL4Bad,
       Verdict::kTransmit},
      {"ipv6 good, nic good", q6, kRxL4Good, Verdict::kTransmit},
      {"ipv6 good, nic says bad", q6, kRxL4Bad, Verdict::kDrop},
      {"ipv6 udp sum zero, nic says good", zero_udp(q6, kUdp6At), kRxL4Good, Verdict::kDrop},
      // Bytes after the datagram (UDP length under the IP payload): the NIC may have summed them
      // too, so its verdict does not count and the datagram is summed by its own length.
      {"trailing bytes, nic says bad", trailing(q4, false), kRxIpv4Good | kRxL4Bad,
       Verdict::kTransmit},
      {"trailing bytes, udp sum wrong, nic says good", trailing(q4, true), kRxIpv4Good | kRxL4Good,
       Verdict::kDrop},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    // Through ProcessCheckedFrame for any verdict, through ProcessFrame for none.
    const Outcome o = Process(row.query, Config(), TestEngine(), kRoom, row.rx);
    ASSERT_EQ(o.verdict, row.want);
    EXPECT_TRUE(o.guard_intact);
    if (o.verdict == Verdict::kDrop) {
      EXPECT_EQ(o.counters.dropped[maps::kDropMalformed], 1u);
      continue;
    }
    // The reply's checksums are its own, valid whatever the query carried.
    const DnsReply r = Decode(CheckUdpReply(row.query, o.out));
    EXPECT_EQ(r.answers.size(), 2u);
  }
}

}  // namespace
}  // namespace sextant::dataplane::packet_path_test
