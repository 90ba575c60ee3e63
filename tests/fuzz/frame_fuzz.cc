// libFuzzer target for the packet path (dataplane/packet_path.h): any bytes in as a whole
// Ethernet frame, as a DPDK port hands it to a worker: 802.1Q tags, ARP, IPv4 with options and
// fragments, IPv6, ICMP echo, ICMPv6 neighbour solicitation, UDP to port 53 and elsewhere, TCP.
// The server is the packet-path tests' (tests/dataplane/packet_path_test_support.h: zone pkt.test
// on 198.18.0.2, 198.18.5.2 on VLAN 5 and 2001:db8:18::2).
//
// Per input, ProcessFrame runs three times: with software checksums in a 2048-byte buffer (a
// DPDK mbuf's room) followed by a poisoned guard, with checksum offload, and with a buffer of
// exactly the frame's length; then ProcessCheckedFrame once, with receive-offload verdicts that
// need not match the bytes. Invariants (a violation is __builtin_trap):
//   - no write past the room (the guard is intact and ASan sees no access to it);
//   - a transmitted frame is at least an Ethernet header long and at most the room;
//   - a transmitted frame goes back to the sender's MAC, from ours, with the same tag and
//     EtherType;
//   - with software checksums, a transmitted IPv4 packet's header checksum verifies and its total
//     length is the frame's; a UDP, ICMP or ICMPv6 reply's checksum verifies and its lengths agree
//     with the frame;
//   - a dropped frame is counted under exactly one reason, any other under none.
//
// SEXTANT_FUZZ_WRITE_SEEDS=DIR writes the seed corpus (valid frames of every kind, built with
// tests/dataplane/frame_builders.h) into DIR and exits: tests/fuzz/frame_corpus/ was made so.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/packet_path.h"
#include "maps/control_block.h"
#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sextant::fuzz::Require;

using namespace sextant::dataplane::packet_path_test;  // NOLINT: frame builders and fields
using sextant::dataplane::PathConfig;
using sextant::dataplane::Verdict;

// L2 header length of `f` (14, or 18 with one 802.1Q tag); 0 when too short.
size_t L2(const uint8_t* f, size_t n) {
  if (n < kEthHeaderLen) return 0;
  if (Get16(f + 12) == kEthTypeVlan) return n >= kEthHeaderLen + 4 ? kEthHeaderLen + 4 : 0;
  return kEthHeaderLen;
}

// A frame shorter than Ethernet's minimum goes out padded: the IP length says how much is packet.
void CheckLength(size_t ip_len, size_t l2, size_t n) {
  Require(ip_len <= n && (ip_len == n || l2 + n == kEthMinFrame));
}

// The checks on an IPv4 reply built with software checksums (`n` bytes after the L2 header).
void CheckIpv4(const uint8_t* ip, size_t l2, size_t n) {
  Require(n >= kIpv4HeaderLen);
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  Require(ip[0] >> 4 == 4 && ihl >= kIpv4HeaderLen && ihl <= n);
  CheckLength(Get16(ip + kIpv4TotalLen), l2, n);
  n = Get16(ip + kIpv4TotalLen);
  Require(n >= ihl);
  Require(Verifies(ip, ihl));
  const uint8_t* l4 = ip + ihl;
  const size_t l4_len = n - ihl;
  if (ip[kIpv4Protocol] == kIpProtoUdp) {
    Require(l4_len >= kUdpHeaderLen && Get16(l4 + kUdpLength) == l4_len);
    Require(Verifies(
        l4, l4_len,
        Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, static_cast<uint16_t>(l4_len))));
  } else if (ip[kIpv4Protocol] == kIpProtoIcmp) {
    Require(Verifies(l4, l4_len));
  }
}

void CheckIpv6(const uint8_t* ip, size_t l2, size_t n) {
  Require(n >= kIpv6HeaderLen && ip[0] >> 4 == 6);
  CheckLength(kIpv6HeaderLen + Get16(ip + kIpv6PayloadLen), l2, n);
  const size_t payload = Get16(ip + kIpv6PayloadLen);
  const uint8_t next = ip[kIpv6NextHeader];
  const uint8_t* l4 = ip + kIpv6HeaderLen;
  if (next == kIpProtoUdp) Require(payload >= kUdpHeaderLen && Get16(l4 + kUdpLength) == payload);
  if (next == kIpProtoUdp || next == kIpProtoIcmpv6) {
    Require(Verifies(l4, payload,
                     Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, next, static_cast<uint32_t>(payload))));
  }
}

void CheckCounted(const Outcome& o, Verdict v) {
  uint64_t reasons = 0;
  for (uint64_t d : o.counters.dropped) reasons += d;
  Require(reasons == (v == Verdict::kDrop ? 1u : 0u));
}

void CheckReply(const Bytes& in, const Outcome& o, uint32_t room, bool sw_checksum) {
  Require(o.guard_intact);
  CheckCounted(o, o.verdict);
  if (o.verdict != Verdict::kTransmit) return;
  Require(o.len >= kEthHeaderLen && o.len <= room);
  const size_t l2 = L2(o.out.data(), o.out.size());
  Require(l2 != 0 && L2(in.data(), in.size()) == l2);
  Require(At<6>(o.out.data()) == At<6>(in.data() + 6));               // back to the sender
  Require(At<6>(o.out.data() + 6) == kOurMac);                        // from us
  Require(Bytes(&o.out[12], &o.out[l2]) == Bytes(&in[12], &in[l2]));  // tag and EtherType
  if (!sw_checksum) return;
  const uint16_t type = Get16(&o.out[l2 - 2]);
  if (type == kEthTypeIpv4) CheckIpv4(&o.out[l2], l2, o.out.size() - l2);
  if (type == kEthTypeIpv6) CheckIpv6(&o.out[l2], l2, o.out.size() - l2);
}

void WriteSeeds(const char* dir) {
  const std::vector<std::pair<std::string, Bytes>> seeds = {
      {"a_v4", Query4(WwwA())},
      {"a_v4_edns", Query4(Dns("www.pkt.test", kA, 1232))},
      {"aaaa_v6", Query6(Dns("www.pkt.test", kAaaa, 1232))},
      {"soa_vlan", Query4(Dns("pkt.test", kSoa), kOurVlanV4, kOurVlan)},
      {"big_tc", Query4(Dns("big.pkt.test", kA))},
      {"nxdomain", Query4(Dns("nothere.pkt.test", kA, 4096))},
      {"other_port", Query4(Dns("www.pkt.test", kA), kOurV4, kUntagged, 5353)},
      {"not_ours", Query4(Dns("www.pkt.test", kA), kOtherV4)},
      {"arp", ArpRequest(kOurV4)},
      {"arp_vlan", ArpRequest(kOurVlanV4, kOurVlan)},
      {"ping4", Ping4(Bytes(56, 0x61))},
      {"ping6", Ping6(Bytes(56, 0x62))},
      {"ns", Ns()},
      {"tcp4", Eth(kOurMac, kClientMac, kEthTypeIpv4, Tcp4(kClientV4, kOurV4, 53))},
      {"tcp6", Eth(kOurMac, kClientMac, kEthTypeIpv6, Tcp6(kClientV6, kOurV6, 53))},
      {"fragment", With(Query4(WwwA()),
                        [](Bytes& f) {
                          Put16(&f[kEthHeaderLen + kIpv4FlagsFragment], 0x2000);
                          FixIp4HeaderSum(f);
                        })},
      {"ip_options",
       Eth(kOurMac, kClientMac, kEthTypeIpv4,
           Ip4(kClientV4, kOurV4, kIpProtoUdp, Udp(kClientPort, 53, Dns("www.pkt.test", kA)),
               Options({0x94, 0x04, 0x00, 0x00})))},
  };
  for (const auto& [name, frame] : seeds)
    sextant::fuzz::WriteSeed(dir, name, frame.data(), frame.size());
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("SEXTANT_FUZZ_WRITE_SEEDS")) WriteSeeds(dir);
  (void)TestEngine();  // built once, outside the timed runs
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // larger than any port's frames
  const Bytes in(data, data + size);
  PathConfig config = Config();
  CheckReply(in, Process(in, config, TestEngine(), kRoom), std::max<uint32_t>(kRoom, size), true);
  config.sw_checksum = false;
  CheckReply(in, Process(in, config, TestEngine(), kRoom), std::max<uint32_t>(kRoom, size), false);
  config.sw_checksum = true;
  const auto exact = static_cast<uint32_t>(size);
  CheckReply(in, Process(in, config, TestEngine(), exact), exact, true);
  // As from a port with receive checksum offload, whose verdict (any RxChecksum bits, good or
  // bad, taken from the frame's length) may contradict the bytes: the replies stay valid.
  const auto rx = static_cast<uint8_t>(1 + size % 15);
  CheckReply(in, Process(in, config, TestEngine(), kRoom, rx), std::max<uint32_t>(kRoom, size),
             true);
  return 0;
}
