// ProcessFrame never reads or writes past the buffer's room: short replies are padded with zeros
// within it, and random mutations of valid frames stay inside it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "dataplane/packet_path.h"
#include "gtest/gtest.h"
#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"

namespace sextant::dataplane::packet_path_test {
namespace {

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
}  // namespace sextant::dataplane::packet_path_test
