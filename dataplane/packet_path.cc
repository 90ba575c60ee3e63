#include "dataplane/packet_path.h"

#include <algorithm>
#include <cstring>

#include "absl/base/optimization.h"
#include "dataplane/inet_checksum.h"
#include "maps/dns/frame.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

using maps::dns::Get16;
using maps::dns::Put16;
using namespace maps::frame;  // NOLINT: the field names read better unqualified here

constexpr uint8_t kReplyTtl = 64;

// The RxChecksum bits of the frame, in the instantiations for frames the NIC checked (the others,
// every frame of a port without receive offload, compile without a test of them).
template <bool kNicChecked>
inline uint8_t RxBits(const BurstSinks& ans) {
  return kNicChecked ? ans.rx_checksums : 0;
}

// Whether a received UDP datagram's (non-zero) checksum holds: as the NIC found it (RxChecksum),
// or summed here with the pseudo header `pseudo()` gives. The NIC's verdict only counts when the
// datagram fills the IP payload (`l4len`): with bytes after it, a port may have summed those
// too (net_tap does), where the UDP length says where the datagram ends (RFC 768).
template <typename Pseudo>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool UdpChecksumHolds(const uint8_t* l4, uint16_t ulen,
                                                          uint32_t l4len, uint8_t rx,
                                                          Pseudo pseudo) {
  if ((rx & (kRxL4Good | kRxL4Bad)) != 0 && ulen == l4len) return (rx & kRxL4Bad) == 0;
  return Fold(RawSum(l4, ulen, pseudo())) == 0xffff;
}

// Native-order value of a big-endian 16-bit quantity, for pseudo-header sums.
inline uint64_t Be16(uint16_t v) { return __builtin_bswap16(v); }

inline void StoreChecksum(uint8_t* at, uint16_t folded) {
  const uint16_t c = static_cast<uint16_t>(~folded);
  std::memcpy(at, &c, 2);
}

// The L4 checksum of an IPv4/IPv6 packet (pseudo header + payload) is valid when it sums to
// 0xffff.
inline uint64_t PseudoV4(const uint8_t* ip, uint8_t proto, uint16_t l4len) {
  return RawSum(ip + kIpv4Src, 8, Be16(proto) + Be16(l4len));  // source and destination
}
inline uint64_t PseudoV6(const uint8_t* ip, uint8_t proto, uint32_t l4len) {
  return RawSum(ip + kIpv6Src, 2 * kIpv6AddrLen, Be16(proto) + Be16(static_cast<uint16_t>(l4len)));
}

// What a UDP reply's checksums sum over besides the DNS message, from the query's fields: the
// reply's addresses and ports are the query's swapped, and a ones' complement sum does not depend
// on their order. Summed before the rewrite, so that no checksum loads the header bytes just
// stored (a wider load over several narrow stores waits for them to reach the cache: store-to-
// load forwarding fails; `perf annotate` showed the checksums' first loads as the packet path's
// hottest instructions).
struct HeaderSums {
  uint64_t addresses;  // source and destination
  uint64_t pseudo;     // the reply's pseudo header (addresses, protocol, UDP length)
  uint64_t udp;        // pseudo header and UDP header (its checksum field 0)
};
inline HeaderSums SumsBeforeRewrite(const uint8_t* src, size_t addr_len, const uint8_t* l4,
                                    uint16_t out_ulen) {
  HeaderSums h;
  h.addresses = RawSum(src, 2 * addr_len, 0);
  h.pseudo = h.addresses + Be16(kIpProtoUdp) + Be16(out_ulen);
  h.udp = RawSum(l4 + kUdpSrcPort, 4, h.pseudo) + Be16(out_ulen);
  return h;
}
// The UDP checksum of a reply whose DNS message is the `dns_len` bytes after the header at l4.
inline void StoreUdpChecksum(uint8_t* l4, size_t dns_len, const HeaderSums& sums) {
  uint16_t s = static_cast<uint16_t>(~Fold(RawSum(l4 + kUdpHeaderLen, dns_len, sums.udp)));
  if (s == 0) s = 0xffff;  // RFC 768: zero means "no checksum"
  std::memcpy(l4 + kUdpChecksum, &s, 2);
}

inline void SwapMacs(uint8_t* eth, const uint8_t* our_mac) {
  std::memcpy(eth + kEthDst, eth + kEthSrc, kMacLen);
  std::memcpy(eth + kEthSrc, our_mac, kMacLen);
}

// Swaps the kLen bytes at a and b (addresses, ports).
template <size_t kLen>
inline void SwapBytes(uint8_t* a, uint8_t* b) {
  uint8_t tmp[kLen];
  std::memcpy(tmp, a, kLen);
  std::memcpy(a, b, kLen);
  std::memcpy(b, tmp, kLen);
}

int FindV4(const PathConfig& c, const uint8_t* addr, uint16_t vlan) {
  for (int i = 0; i < c.n_v4; ++i) {
    if (c.v4_vlan[i] == vlan && std::memcmp(c.v4[i], addr, 4) == 0) return i;
  }
  return -1;
}
int FindV6(const PathConfig& c, const uint8_t* addr, uint16_t vlan) {
  for (int i = 0; i < c.n_v6; ++i) {
    if (c.v6_vlan[i] == vlan && std::memcmp(c.v6[i], addr, 16) == 0) return i;
  }
  return -1;
}
// ff02::1:ffXX:XXXX for one of our addresses (RFC 4291 section 2.7.1).
bool IsOurSolicitedNode(const PathConfig& c, const uint8_t* addr, uint16_t vlan) {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  if (std::memcmp(addr, kPrefix, 13) != 0) return false;
  for (int i = 0; i < c.n_v6; ++i) {
    if (c.v6_vlan[i] == vlan && std::memcmp(c.v6[i] + 13, addr + 13, 3) == 0) return true;
  }
  return false;
}

// Ethernet frames are at least 60 bytes before the FCS. Pad a short reply with zeros (never with
// what the buffer held before: CVE-2003-0001), within the buffer.
uint32_t PadFrame(uint8_t* f, uint32_t len, uint32_t room) {
  if (len >= kEthMinFrame || room < kEthMinFrame) return len;
  std::memset(f + len, 0, kEthMinFrame - len);
  return kEthMinFrame;
}

void Drop(maps::LcoreCounters* ctr, maps::DropReason r) {
  if (ctr != nullptr) maps::CounterAdd(ctr->dropped[r]);
}

// Answers the DNS message in the UDP datagram at `l4` in place (IPv4 or IPv6 alike); returns the
// response length, 0 when it is dropped (counted here).
size_t AnswerUdpCounted(const Engine* engine, uint8_t family, const uint8_t* src, uint8_t* l4,
                        uint16_t ulen, size_t cap, maps::LcoreCounters* ctr,
                        const BurstSinks& ans) {
  if (ABSL_PREDICT_FALSE(engine == nullptr)) {
    Drop(ctr, maps::kDropNoSnapshot);
    return 0;
  }
  ClientInfo client;
  client.family = family;
  client.now = ans.now;
  // Fixed-size copies, one move each (the copy of a variable size took about 15 instructions on
  // every query, perf/callgrind_packet_path.sh).
  if (family == 4) {
    std::memcpy(client.addr, src, 4);
  } else {
    std::memcpy(client.addr, src, 16);
  }
  uint8_t* dns = l4 + kUdpHeaderLen;
  AnswerInfo info;
  size_t rlen = engine->Answer(dns, ulen - kUdpHeaderLen, client, dns, cap, &info);
  if (rlen == 0) {  // shorter than a DNS header, or a response (QR=1)
    Drop(ctr, ulen - kUdpHeaderLen < maps::dns::kHeaderSize ? maps::kDropMalformed
                                                            : maps::kDropResponse);
    return 0;
  }
  if (ctr != nullptr) maps::CounterAdd(ctr->queries);
  if (ans.rrl != nullptr) {
    rlen = ans.rrl->Apply(client, dns, rlen, info, ctr);
    if (rlen == 0) return 0;  // limited: counted as rrl_limited, not as an answer
  }
  if (ctr != nullptr) maps::CountAnswer(*ctr, info.rcode, info.truncated);
  if (ans.answers != nullptr) maps::CountAnswerSite(*ans.answers, info.qtype, info.site);
  if (ans.cookies != nullptr) {
    maps::CountCookie(*ans.cookies, info.cookie_seen, info.cookie_ok,
                      info.rcode == maps::dns::kBadCookie);
  }
  return rlen;
}

// A query sampled for dnstap: copied with its endpoints (the destination address follows the
// source in both IP headers) before the in-place answer overwrites it, then its response.
ABSL_ATTRIBUTE_NOINLINE size_t AnswerUdpTapped(const Engine* engine, uint8_t family,
                                               const uint8_t* src, uint8_t* l4, uint16_t ulen,
                                               size_t cap, maps::LcoreCounters* ctr,
                                               TapSampler* tap, const BurstSinks& ans) {
  uint8_t* dns = l4 + kUdpHeaderLen;
  TapRecord* r = tap->Start(dns, ulen - kUdpHeaderLen, false, *ctr);
  if (r != nullptr) {
    const size_t alen = family == 4 ? 4 : 16;
    FillTapEndpoints(family, src, src + alen, Get16(l4 + kUdpSrcPort), Get16(l4 + kUdpDstPort), r);
  }
  const size_t rlen = AnswerUdpCounted(engine, family, src, l4, ulen, cap, ctr, ans);
  if (r != nullptr) tap->Finish(r, dns, rlen, *ctr);
  return rlen;
}

// With a dnstap sampler (DPDK workers, when dnstap is on; `ctr` is then set too), one in N
// queries takes the sampled way.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t AnswerUdp(const Engine* engine, uint8_t family,
                                                     const uint8_t* src, uint8_t* l4, uint16_t ulen,
                                                     size_t cap, maps::LcoreCounters* ctr,
                                                     TapSampler* tap, const BurstSinks& ans) {
  if (ABSL_PREDICT_FALSE(tap != nullptr) && tap->Due()) {
    return AnswerUdpTapped(engine, family, src, l4, ulen, cap, ctr, tap, ans);
  }
  return AnswerUdpCounted(engine, family, src, l4, ulen, cap, ctr, ans);
}

Verdict Arp(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan, const PathConfig& c,
            maps::LcoreCounters* ctr) {
  if (*len < l2 + kArpLen) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  uint8_t* a = f + l2;
  // Ethernet/IPv4 ARP requests for one of our addresses are answered here; the rest (replies to
  // the kernel's own requests, gratuitous ARP) is the kernel's business.
  if (Get16(a + kArpHardwareType) != kArpHardwareEthernet ||
      Get16(a + kArpProtocolType) != kEthTypeIpv4 || a[kArpHardwareLen] != kMacLen ||
      a[kArpProtocolLen] != 4) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (Get16(a + kArpOperation) != kArpRequest || FindV4(c, a + kArpTargetIp, vlan) < 0) {
    return Verdict::kException;
  }
  uint8_t target_ip[4];
  std::memcpy(target_ip, a + kArpTargetIp, 4);
  Put16(a + kArpOperation, kArpReply);
  std::memcpy(a + kArpTargetMac, a + kArpSenderMac, kMacLen);  // the requester
  std::memcpy(a + kArpTargetIp, a + kArpSenderIp, 4);
  std::memcpy(a + kArpSenderMac, c.mac, kMacLen);
  std::memcpy(a + kArpSenderIp, target_ip, 4);
  SwapMacs(f, c.mac);
  *len = PadFrame(f, static_cast<uint32_t>(l2 + kArpLen), room);
  return Verdict::kTransmit;
}

// A DNS query over UDP/IPv4 to one of our addresses: answered in place, the frame turned into
// the reply.
template <bool kNicChecked>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Verdict Udp4(uint8_t* f, uint32_t* len, uint32_t room,
                                                 size_t l2, uint8_t* ip, uint16_t l4len,
                                                 const PathConfig& c, const Engine* engine,
                                                 maps::LcoreCounters* ctr, TxOffload* off,
                                                 TapSampler* tap, const BurstSinks& ans) {
  uint8_t* l4 = ip + kIpv4HeaderLen;
  if (ABSL_PREDICT_FALSE(l4len < kUdpHeaderLen)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const uint16_t ulen = Get16(l4 + kUdpLength);
  if (ABSL_PREDICT_FALSE(ulen < kUdpHeaderLen || ulen > l4len)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (Get16(l4 + kUdpDstPort) != c.dns_port) return Verdict::kException;
  uint16_t stored;
  std::memcpy(&stored, l4 + kUdpChecksum, 2);
  if (stored != 0 && !UdpChecksumHolds(l4, ulen, l4len, RxBits<kNicChecked>(ans),
                                       [&] { return PseudoV4(ip, kIpProtoUdp, ulen); })) {
    Drop(ctr, maps::kDropMalformed);  // bad UDP checksum
    return Verdict::kDrop;
  }
  const size_t hdrs = l2 + kIpv4HeaderLen + kUdpHeaderLen;
  const size_t rlen = AnswerUdp(
      engine, 4, ip + kIpv4Src, l4, ulen,
      std::min<size_t>(room - hdrs, c.mtu - kIpv4HeaderLen - kUdpHeaderLen), ctr, tap, ans);
  if (rlen == 0) return Verdict::kDrop;
  const uint16_t out_ulen = static_cast<uint16_t>(kUdpHeaderLen + rlen);
  const uint16_t out_total = static_cast<uint16_t>(kIpv4HeaderLen + out_ulen);
  // The reply's header sums, taken from the query's fields before the rewrite (HeaderSums).
  const HeaderSums sums = SumsBeforeRewrite(ip + kIpv4Src, 4, l4, out_ulen);
  const uint64_t ip_sum = RawSum(ip + kIpv4VersionIhl, 2, sums.addresses) + Be16(out_total) +
                          Be16(kIpv4DontFragment) +
                          Be16(static_cast<uint16_t>(kReplyTtl << 8 | kIpProtoUdp));
  SwapMacs(f, c.mac);
  SwapBytes<4>(ip + kIpv4Src, ip + kIpv4Dst);
  Put16(ip + kIpv4TotalLen, out_total);
  Put16(ip + kIpv4Id, 0);  // unused without fragmentation (RFC 6864)
  Put16(ip + kIpv4FlagsFragment, kIpv4DontFragment);
  ip[kIpv4Ttl] = kReplyTtl;
  SwapBytes<2>(l4 + kUdpSrcPort, l4 + kUdpDstPort);
  Put16(l4 + kUdpLength, out_ulen);
  if (c.sw_checksum) {
    StoreChecksum(ip + kIpv4Checksum, Fold(ip_sum));
    StoreUdpChecksum(l4, rlen, sums);
  } else {
    // The NIC completes both; UDP offload wants the pseudo-header sum in place.
    Put16(ip + kIpv4Checksum, 0);
    const uint16_t ph = Fold(sums.pseudo);
    std::memcpy(l4 + kUdpChecksum, &ph, 2);
    *off = TxOffload{true, false, true, static_cast<uint8_t>(l2), kIpv4HeaderLen};
  }
  *len = static_cast<uint32_t>(hdrs + rlen);
  return Verdict::kTransmit;
}

// ICMP to one of our addresses: echo requests answered, the rest for the kernel.
Verdict Icmp4(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint8_t* ip, uint16_t total,
              const PathConfig& c, maps::LcoreCounters* ctr) {
  uint8_t* l4 = ip + kIpv4HeaderLen;
  const uint16_t l4len = total - kIpv4HeaderLen;
  if (l4len < kIcmpHeaderLen || Fold(RawSum(l4, l4len, 0)) != 0xffff) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (l4[kIcmpType] != kIcmpEchoRequest) return Verdict::kException;
  l4[kIcmpType] = kIcmpEchoReply;
  Put16(l4 + kIcmpChecksum, 0);
  StoreChecksum(l4 + kIcmpChecksum, Fold(RawSum(l4, l4len, 0)));
  SwapMacs(f, c.mac);
  SwapBytes<4>(ip + kIpv4Src, ip + kIpv4Dst);
  ip[kIpv4Ttl] = kReplyTtl;
  Put16(ip + kIpv4Checksum, 0);
  StoreChecksum(ip + kIpv4Checksum, Fold(RawSum(ip, kIpv4HeaderLen, 0)));
  *len = PadFrame(f, static_cast<uint32_t>(l2 + total), room);
  return Verdict::kTransmit;
}

template <bool kNicChecked>
Verdict Ipv4(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan,
             const PathConfig& c, const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off,
             TapSampler* tap, const BurstSinks& ans) {
  uint8_t* ip = f + l2;
  if (ABSL_PREDICT_FALSE(*len < l2 + kIpv4HeaderLen || (ip[kIpv4VersionIhl] >> 4) != 4)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const size_t ihl = (ip[kIpv4VersionIhl] & 0xF) * 4u;
  const uint16_t total = Get16(ip + kIpv4TotalLen);
  if (ABSL_PREDICT_FALSE(ihl < kIpv4HeaderLen || total < ihl || l2 + total > *len)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  // The NIC's verdict on the header checksum, or the plain 20-byte header summed at a constant
  // length (five adds, no loop).
  const uint8_t rx = RxBits<kNicChecked>(ans);
  const bool header_ok =
      (rx & (kRxIpv4Good | kRxIpv4Bad)) != 0
          ? (rx & kRxIpv4Bad) == 0
          : Fold(ABSL_PREDICT_TRUE(ihl == kIpv4HeaderLen) ? RawSum(ip, kIpv4HeaderLen, 0)
                                                          : RawSum(ip, ihl, 0)) == 0xffff;
  if (ABSL_PREDICT_FALSE(!header_ok)) {
    Drop(ctr, maps::kDropMalformed);  // bad header checksum
    return Verdict::kDrop;
  }
  if (FindV4(c, ip + kIpv4Dst, vlan) < 0) {
    Drop(ctr, maps::kDropNotOurs);
    return Verdict::kDrop;
  }
  // Fragments and IP options go to the kernel: the fast path only rewrites plain headers.
  if ((Get16(ip + kIpv4FlagsFragment) & kIpv4FragmentMask) != 0 || ihl != kIpv4HeaderLen) {
    return Verdict::kException;
  }
  const uint8_t proto = ip[kIpv4Protocol];
  if (proto == kIpProtoUdp) {
    return Udp4<kNicChecked>(f, len, room, l2, ip, total - kIpv4HeaderLen, c, engine, ctr, off, tap,
                             ans);
  }
  if (proto == kIpProtoIcmp) return Icmp4(f, len, room, l2, ip, total, c, ctr);
  return Verdict::kException;  // TCP (the kernel listener answers TCP/53) and the rest
}

// A neighbour advertisement (RFC 4861 section 4.4) in place of the solicitation at ip/l4, for
// `target` (one of ours): solicited unless answering duplicate address detection, override,
// with our link-layer address.
void NeighborAdvert(uint8_t* f, uint8_t* ip, uint8_t* l4, const PathConfig& c) {
  static constexpr uint8_t kUnspecified[kIpv6AddrLen] = {};
  static constexpr uint8_t kAllNodes[kIpv6AddrLen] = {0xff, 2, 0, 0, 0, 0, 0, 0,
                                                      0,    0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kAllNodesMac[kMacLen] = {0x33, 0x33, 0, 0, 0, 1};
  const bool dad = std::memcmp(ip + kIpv6Src, kUnspecified, kIpv6AddrLen) == 0;
  uint8_t target[kIpv6AddrLen];
  std::memcpy(target, l4 + kNdTarget, kIpv6AddrLen);
  std::memcpy(ip + kIpv6Dst, dad ? kAllNodes : ip + kIpv6Src, kIpv6AddrLen);
  std::memcpy(ip + kIpv6Src, target, kIpv6AddrLen);
  ip[kIpv6HopLimit] = kNdHopLimit;
  Put16(ip + kIpv6PayloadLen, kNdAdvertLen);
  l4[kIcmpType] = kIcmp6NeighborAdvert;
  l4[kIcmpCode] = 0;
  Put16(l4 + kIcmpChecksum, 0);
  l4[kNdFlags] = dad ? kNdFlagOverride : kNdFlagSolicited | kNdFlagOverride;
  l4[kNdFlags + 1] = l4[kNdFlags + 2] = l4[kNdFlags + 3] = 0;
  std::memcpy(l4 + kNdTarget, target, kIpv6AddrLen);
  l4[kNdOptions] = kNdOptionTargetMac;
  l4[kNdOptions + 1] = 1;  // length in units of 8 octets
  std::memcpy(l4 + kNdOptions + 2, c.mac, kMacLen);
  StoreChecksum(l4 + kIcmpChecksum,
                Fold(RawSum(l4, kNdAdvertLen, PseudoV6(ip, kIpProtoIcmpv6, kNdAdvertLen))));
  if (dad) {
    std::memcpy(f + kEthDst, kAllNodesMac, kMacLen);
    std::memcpy(f + kEthSrc, c.mac, kMacLen);
  } else {
    SwapMacs(f, c.mac);
  }
}

// A DNS query over UDP/IPv6 to one of our addresses: answered in place, the frame turned into
// the reply.
template <bool kNicChecked>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Verdict Udp6(uint8_t* f, uint32_t* len, uint32_t room,
                                                 size_t l2, uint8_t* ip, uint16_t plen,
                                                 const PathConfig& c, const Engine* engine,
                                                 maps::LcoreCounters* ctr, TxOffload* off,
                                                 TapSampler* tap, const BurstSinks& ans) {
  uint8_t* l4 = ip + kIpv6HeaderLen;
  if (ABSL_PREDICT_FALSE(plen < kUdpHeaderLen)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const uint16_t ulen = Get16(l4 + kUdpLength);
  if (ABSL_PREDICT_FALSE(ulen < kUdpHeaderLen || ulen > plen)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (Get16(l4 + kUdpDstPort) != c.dns_port) return Verdict::kException;
  // The UDP checksum is mandatory over IPv6 (RFC 8200 section 8.1).
  uint16_t stored;
  std::memcpy(&stored, l4 + kUdpChecksum, 2);
  if (stored == 0 || !UdpChecksumHolds(l4, ulen, plen, RxBits<kNicChecked>(ans),
                                       [&] { return PseudoV6(ip, kIpProtoUdp, ulen); })) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const size_t hdrs = l2 + kIpv6HeaderLen + kUdpHeaderLen;
  const size_t rlen = AnswerUdp(
      engine, 6, ip + kIpv6Src, l4, ulen,
      std::min<size_t>(room - hdrs, c.mtu - kIpv6HeaderLen - kUdpHeaderLen), ctr, tap, ans);
  if (rlen == 0) return Verdict::kDrop;
  const uint16_t out_ulen = static_cast<uint16_t>(kUdpHeaderLen + rlen);
  const HeaderSums sums = SumsBeforeRewrite(ip + kIpv6Src, kIpv6AddrLen, l4, out_ulen);
  SwapMacs(f, c.mac);
  SwapBytes<kIpv6AddrLen>(ip + kIpv6Src, ip + kIpv6Dst);
  ip[kIpv6HopLimit] = kReplyTtl;
  Put16(ip + kIpv6PayloadLen, out_ulen);
  SwapBytes<2>(l4 + kUdpSrcPort, l4 + kUdpDstPort);
  Put16(l4 + kUdpLength, out_ulen);
  if (c.sw_checksum) {
    StoreUdpChecksum(l4, rlen, sums);
  } else {
    const uint16_t ph = Fold(sums.pseudo);
    std::memcpy(l4 + kUdpChecksum, &ph, 2);
    *off = TxOffload{false, true, true, static_cast<uint8_t>(l2), kIpv6HeaderLen};
  }
  *len = static_cast<uint32_t>(hdrs + rlen);
  return Verdict::kTransmit;
}

// ICMPv6: neighbour solicitations for our addresses and echo requests to them are answered; the
// rest (RA, NA, MLD, ...) is for the kernel side, which keeps its view of the link.
Verdict Icmp6(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan, uint8_t* ip,
              uint16_t plen, bool to_us, const PathConfig& c, maps::LcoreCounters* ctr) {
  uint8_t* l4 = ip + kIpv6HeaderLen;
  if (plen < kIcmpHeaderLen ||
      Fold(RawSum(l4, plen, PseudoV6(ip, kIpProtoIcmpv6, plen))) != 0xffff) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (l4[kIcmpType] == kIcmp6NeighborSolicit) {
    // RFC 4861 section 7.1.1: hop limit 255, code 0, target not multicast.
    if (ip[kIpv6HopLimit] != kNdHopLimit || l4[kIcmpCode] != 0 || plen < kNdOptions) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    if (FindV6(c, l4 + kNdTarget, vlan) < 0) return Verdict::kException;
    if (room < l2 + kIpv6HeaderLen + kNdAdvertLen) return Verdict::kDrop;
    NeighborAdvert(f, ip, l4, c);
    *len = static_cast<uint32_t>(l2 + kIpv6HeaderLen + kNdAdvertLen);
    return Verdict::kTransmit;
  }
  if (l4[kIcmpType] == kIcmp6EchoRequest && to_us) {
    l4[kIcmpType] = kIcmp6EchoReply;
    SwapBytes<kIpv6AddrLen>(ip + kIpv6Src, ip + kIpv6Dst);
    ip[kIpv6HopLimit] = kReplyTtl;
    Put16(l4 + kIcmpChecksum, 0);
    StoreChecksum(l4 + kIcmpChecksum, Fold(RawSum(l4, plen, PseudoV6(ip, kIpProtoIcmpv6, plen))));
    SwapMacs(f, c.mac);
    *len = static_cast<uint32_t>(l2 + kIpv6HeaderLen + plen);
    return Verdict::kTransmit;
  }
  return Verdict::kException;
}

template <bool kNicChecked>
Verdict Ipv6(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan,
             const PathConfig& c, const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off,
             TapSampler* tap, const BurstSinks& ans) {
  uint8_t* ip = f + l2;
  if (ABSL_PREDICT_FALSE(*len < l2 + kIpv6HeaderLen || (ip[0] >> 4) != 6)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const uint16_t plen = Get16(ip + kIpv6PayloadLen);
  if (ABSL_PREDICT_FALSE(l2 + kIpv6HeaderLen + plen > *len)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const uint8_t nh = ip[kIpv6NextHeader];
  uint8_t* l4 = ip + kIpv6HeaderLen;
  const bool to_us = FindV6(c, ip + kIpv6Dst, vlan) >= 0;
  if (!to_us) {
    // Neighbour solicitations arrive at our solicited-node multicast address; other
    // multicast (router advertisements, MLD) is for the kernel side.
    if (nh == kIpProtoIcmpv6 && plen >= kNdOptions && l4[kIcmpType] == kIcmp6NeighborSolicit &&
        IsOurSolicitedNode(c, ip + kIpv6Dst, vlan)) {
      // handled below
    } else if (ip[kIpv6Dst] == 0xff) {
      return Verdict::kException;
    } else {
      Drop(ctr, maps::kDropNotOurs);
      return Verdict::kDrop;
    }
  }

  if (nh == kIpProtoUdp && to_us) {
    return Udp6<kNicChecked>(f, len, room, l2, ip, plen, c, engine, ctr, off, tap, ans);
  }
  if (nh != kIpProtoIcmpv6) return Verdict::kException;
  return Icmp6(f, len, room, l2, vlan, ip, plen, to_us, c, ctr);
}

}  // namespace

namespace {

// ProcessFrame, for frames whose checksums the NIC checked (kNicChecked, with its verdict in
// rx_checksums) or not: two instantiations, so that a port without receive offload runs no test
// of a verdict it never has.
template <bool kNicChecked>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Verdict ProcessFrameT(
    uint8_t* f, uint32_t* len, uint32_t room, const PathConfig& c, const Engine* engine,
    maps::LcoreCounters* ctr, TxOffload* off, TapSampler* tap, maps::LcoreAnswers* answers,
    RateLimiter* rrl, maps::LcoreCookies* cookies, uint32_t now, uint8_t rx_checksums) {
  const BurstSinks ans{
      .answers = answers, .cookies = cookies, .rrl = rrl, .now = now, .rx_checksums = rx_checksums};
  if (ABSL_PREDICT_FALSE(*len < kEthHeaderLen)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  // Ours, broadcast or multicast (ARP, ND); anything else is another host's unicast.
  if (std::memcmp(f + kEthDst, c.mac, kMacLen) != 0 && !(f[kEthDst] & 1)) {
    Drop(ctr, maps::kDropNotOurs);
    return Verdict::kDrop;
  }
  size_t l2 = kEthHeaderLen;
  uint16_t type = Get16(f + kEthType);
  uint16_t vlan = 0;
  if (type == kEthTypeVlan) {
    if (*len < kEthHeaderLen + kVlanTagLen) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    vlan = Get16(f + kEthHeaderLen + kVlanTci) & kVlanIdMask;
    type = Get16(f + kEthHeaderLen + kVlanInnerType);
    l2 += kVlanTagLen;
  }
  switch (type) {
    case kEthTypeIpv4:
      return Ipv4<kNicChecked>(f, len, room, l2, vlan, c, engine, ctr, off, tap, ans);
    case kEthTypeIpv6:
      return Ipv6<kNicChecked>(f, len, room, l2, vlan, c, engine, ctr, off, tap, ans);
    case kEthTypeArp:
      return Arp(f, len, room, l2, vlan, c, ctr);
    default:
      return Verdict::kException;
  }
}

}  // namespace

Verdict ProcessFrame(uint8_t* f, uint32_t* len, uint32_t room, const PathConfig& c,
                     const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off,
                     TapSampler* tap, maps::LcoreAnswers* answers, RateLimiter* rrl,
                     maps::LcoreCookies* cookies, uint32_t now) {
  return ProcessFrameT<false>(f, len, room, c, engine, ctr, off, tap, answers, rrl, cookies, now,
                              0);
}

Verdict ProcessCheckedFrame(uint8_t* f, uint32_t* len, uint32_t room, const PathConfig& c,
                            const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off,
                            uint8_t rx_checksums, TapSampler* tap, maps::LcoreAnswers* answers,
                            RateLimiter* rrl, maps::LcoreCookies* cookies, uint32_t now) {
  return ProcessFrameT<true>(f, len, room, c, engine, ctr, off, tap, answers, rrl, cookies, now,
                             rx_checksums);
}

}  // namespace sextant::dataplane
