// DNS over UDP through ProcessFrame, IPv4 and IPv6, tagged and untagged: queries answered in place,
// the UDP checksum rules, Ethernet padding, and replies that must fit the MTU.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/packet_path.h"
#include "dataplane/rrl/rate_limiter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::packet_path_test {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::UnorderedElementsAreArray;

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

// Replies carry valid checksums whatever the offset their records start at: answers from answer
// images (and NODATA for ns1's and mail's AAAA) with the question ending at an even offset (www,
// ns1) and an odd one (mail), one record and several (www's two A), with and without the OPT
// record, over IPv4 and IPv6, and over IPv4 for a query without a UDP checksum (zero) too.
TEST(PacketPath, ImageAnswersCarryValidChecksumsAtAnyOffset) {
  int checked = 0;
  for (const char* name : {"www.pkt.test", "ns1.pkt.test", "mail.pkt.test", "WWW.Pkt.Test"}) {
    for (uint16_t type : {kA, kAaaa}) {
      for (int edns : {-1, 512, 1232}) {
        for (int family : {4, 6}) {
          for (bool zero_sum : {false, true}) {
            if (zero_sum && family == 6) continue;  // mandatory over IPv6
            SCOPED_TRACE(::testing::Message() << name << " type " << type << " edns " << edns
                                              << " ipv" << family << (zero_sum ? " no sum" : ""));
            Bytes q = family == 4 ? Query4(Dns(name, type, edns, 0x4d2 + checked))
                                  : Query6(Dns(name, type, edns, 0x4d2 + checked));
            if (zero_sum) Put16(&q[kUdp4At + kUdpChecksum], 0);
            const Outcome o = Process(q);
            ASSERT_EQ(o.verdict, Verdict::kTransmit);
            const DnsReply r = Decode(CheckUdpReply(q, o.out));
            EXPECT_EQ(r.rcode, 0);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 2 * 3 * 3);
}

// A and AAAA are answered from the answer lines (dataplane/engine/answer_lines.h): the frames
// that leave are those the name table's answer images make, byte for byte, checksums included,
// and what the lines do not hold (big's 60 records, a name the zone lacks, NODATA) is answered
// as before.
TEST(PacketPath, AnswerLinesAnswerAsTheNameTable) {
  ASSERT_NE(TestEngine()->view().answer_lines, nullptr);
  ASSERT_EQ(TestEngineWithoutAnswerLines()->view().answer_lines, nullptr);
  int checked = 0;
  for (const char* name : {"www.pkt.test", "ns1.pkt.test", "mail.pkt.test", "WWW.Pkt.Test",
                           "big.pkt.test", "nowhere.pkt.test"}) {
    for (uint16_t type : {kA, kAaaa}) {
      for (int edns : {-1, 1232, 4096}) {
        for (int family : {4, 6}) {
          SCOPED_TRACE(::testing::Message()
                       << name << " type " << type << " edns " << edns << " ipv" << family);
          const Bytes q = family == 4 ? Query4(Dns(name, type, edns, 0x77 + checked))
                                      : Query6(Dns(name, type, edns, 0x77 + checked));
          const Outcome lines = Process(q);
          const Outcome table = Process(q, Config(), TestEngineWithoutAnswerLines());
          ASSERT_EQ(lines.verdict, Verdict::kTransmit);
          ASSERT_EQ(lines.verdict, table.verdict);
          EXPECT_EQ(lines.out, table.out);
          Decode(CheckUdpReply(q, lines.out));
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 6 * 2 * 3 * 2);
}

// Rate limiting through the packet path: the first answer to a client prefix passes, the
// limited ones slip (slip 1: every one), cut to their header and question with TC=1, and the cut
// replies' lengths and checksums are right.
TEST(PacketPath, SlippedImageAnswersCarryAValidChecksum) {
  maps::RateLimitSettings s{};
  for (uint32_t& r : s.per_second) r = 1;
  s.window = 1;
  s.table_size = 1024;
  s.slip = 1;  // every limited response slips
  s.ipv4_prefix = 24;
  s.ipv6_prefix = 56;
  RateLimiter rrl(1, 42);
  rrl.Update(&s, 1);
  rrl.set_now(uint64_t{1000} * 1000000000);
  int full = 0, slipped = 0;
  for (int i = 0; i < 6; ++i) {
    for (int family : {4, 6}) {
      SCOPED_TRACE(::testing::Message() << "query " << i << " ipv" << family);
      const Bytes q = family == 4 ? Query4(Dns("www.pkt.test", kA, 1232, 0x100 + i))
                                  : Query6(Dns("www.pkt.test", kA, 1232, 0x100 + i));
      std::vector<uint8_t> buf(kRoom, 0);
      std::copy(q.begin(), q.end(), buf.begin());
      uint32_t len = static_cast<uint32_t>(q.size());
      maps::LcoreCounters ctr{};
      TxOffload off;
      ASSERT_EQ(ProcessFrame(buf.data(), &len, kRoom, Config(), TestEngine(), &ctr, &off, nullptr,
                             nullptr, &rrl),
                Verdict::kTransmit);
      const DnsReply r = Decode(CheckUdpReply(q, Bytes(buf.begin(), buf.begin() + len)));
      if (r.tc) {
        ++slipped;
        EXPECT_EQ(r.ancount, 0);
      } else {
        ++full;
        EXPECT_EQ(r.ancount, 2);
      }
    }
  }
  EXPECT_EQ(full, 2);  // the first answer to each client prefix
  EXPECT_EQ(slipped, 10);
}

}  // namespace
}  // namespace sextant::dataplane::packet_path_test
