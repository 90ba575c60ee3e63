#include "dataplane/packet_path.h"

#include <algorithm>
#include <cstring>

#include "absl/base/optimization.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

using wire::Get16;
using wire::Put16;

constexpr uint16_t kEthIpv4 = 0x0800, kEthArp = 0x0806, kEthVlan = 0x8100, kEthIpv6 = 0x86DD;
constexpr uint8_t kProtoIcmp = 1, kProtoUdp = 17, kProtoIcmpv6 = 58;
constexpr size_t kEthLen = 14, kVlanLen = 4, kIpv4Len = 20, kIpv6Len = 40, kUdpLen = 8;
constexpr uint8_t kIcmpEchoRequest = 8, kIcmpEchoReply = 0;
constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129, kIcmp6Ns = 135, kIcmp6Na = 136;
constexpr uint8_t kReplyTtl = 64;

// Ones' complement sum over native-order 16-bit words: byte order independent until the final
// fold (RFC 1071 section 2(B)), so we load 32 bits at a time and never swap.
inline uint64_t RawSum(const uint8_t* p, size_t n, uint64_t acc) {
  while (n >= 8) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    acc += a;
    acc += b;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t a;
    std::memcpy(&a, p, 4);
    acc += a;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t a;
    std::memcpy(&a, p, 2);
    acc += a;
    p += 2;
    n -= 2;
  }
  if (n) acc += *p;  // the odd byte is the high-order byte of a zero-padded word (LE load)
  return acc;
}
inline uint16_t Fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
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
  return RawSum(ip + 12, 8, Be16(proto) + Be16(l4len));
}
inline uint64_t PseudoV6(const uint8_t* ip, uint8_t proto, uint32_t l4len) {
  return RawSum(ip + 8, 32, Be16(proto) + Be16(static_cast<uint16_t>(l4len)));
}

inline void SwapMacs(uint8_t* eth, const uint8_t* our_mac) {
  std::memcpy(eth, eth + 6, 6);
  std::memcpy(eth + 6, our_mac, 6);
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
  constexpr uint32_t kMinFrame = 60;
  if (len >= kMinFrame || room < kMinFrame) return len;
  std::memset(f + len, 0, kMinFrame - len);
  return kMinFrame;
}

void Drop(maps::LcoreCounters* ctr, maps::DropReason r) {
  if (ctr != nullptr) ++ctr->dropped[r];
}

// Answers the DNS message in the UDP datagram at `l4` in place (IPv4 or IPv6 alike); returns the
// response length, 0 when it is dropped (counted here).
size_t AnswerUdp(const Engine* engine, uint8_t family, const uint8_t* src, uint8_t* l4,
                 uint16_t ulen, size_t cap, maps::LcoreCounters* ctr) {
  if (ABSL_PREDICT_FALSE(engine == nullptr)) {
    Drop(ctr, maps::kDropNoSnapshot);
    return 0;
  }
  ClientInfo client;
  client.family = family;
  std::memcpy(client.addr, src, family == 4 ? 4 : 16);
  uint8_t* dns = l4 + kUdpLen;
  AnswerInfo info;
  const size_t rlen = engine->Answer(dns, ulen - kUdpLen, client, dns, cap, &info);
  if (rlen == 0) {  // shorter than a DNS header, or a response (QR=1)
    Drop(ctr, ulen - kUdpLen < 12 ? maps::kDropMalformed : maps::kDropResponse);
    return 0;
  }
  if (ctr != nullptr) {
    ++ctr->queries;
    ++ctr->rcode[info.rcode < 16 ? info.rcode : 15];
    ctr->truncated += info.truncated;
  }
  return rlen;
}

Verdict Arp(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan, const PathConfig& c,
            maps::LcoreCounters* ctr) {
  if (*len < l2 + 28) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  uint8_t* a = f + l2;
  // Ethernet/IPv4 ARP requests for one of our addresses are answered here; the rest (replies to
  // the kernel's own requests, gratuitous ARP) is the kernel's business.
  if (Get16(a) != 1 || Get16(a + 2) != kEthIpv4 || a[4] != 6 || a[5] != 4) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (Get16(a + 6) != 1 || FindV4(c, a + 24, vlan) < 0) return Verdict::kException;
  uint8_t target_ip[4];
  std::memcpy(target_ip, a + 24, 4);
  Put16(a + 6, 2);                 // reply
  std::memcpy(a + 18, a + 8, 6);   // target hw = requester
  std::memcpy(a + 24, a + 14, 4);  // target ip = requester
  std::memcpy(a + 8, c.mac, 6);
  std::memcpy(a + 14, target_ip, 4);
  SwapMacs(f, c.mac);
  *len = PadFrame(f, static_cast<uint32_t>(l2 + 28), room);
  return Verdict::kTransmit;
}

Verdict Ipv4(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan,
             const PathConfig& c, const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off) {
  uint8_t* ip = f + l2;
  if (ABSL_PREDICT_FALSE(*len < l2 + kIpv4Len || (ip[0] >> 4) != 4)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const size_t ihl = (ip[0] & 0xF) * 4u;
  const uint16_t total = Get16(ip + 2);
  if (ABSL_PREDICT_FALSE(ihl < kIpv4Len || total < ihl || l2 + total > *len)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (ABSL_PREDICT_FALSE(Fold(RawSum(ip, ihl, 0)) != 0xffff)) {
    Drop(ctr, maps::kDropMalformed);  // bad header checksum
    return Verdict::kDrop;
  }
  if (FindV4(c, ip + 16, vlan) < 0) {
    Drop(ctr, maps::kDropNotOurs);
    return Verdict::kDrop;
  }
  // Fragments and IP options go to the kernel: the fast path only rewrites plain headers.
  if ((Get16(ip + 6) & 0x3FFF) != 0 || ihl != kIpv4Len) return Verdict::kException;
  const uint8_t proto = ip[9];
  uint8_t* l4 = ip + kIpv4Len;
  const uint16_t l4len = total - kIpv4Len;

  if (proto == kProtoUdp) {
    if (ABSL_PREDICT_FALSE(l4len < kUdpLen || Get16(l4 + 4) < kUdpLen || Get16(l4 + 4) > l4len)) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    if (Get16(l4 + 2) != c.dns_port) return Verdict::kException;
    const uint16_t ulen = Get16(l4 + 4);
    uint16_t stored;
    std::memcpy(&stored, l4 + 6, 2);
    if (stored != 0 && Fold(RawSum(l4, ulen, PseudoV4(ip, kProtoUdp, ulen))) != 0xffff) {
      Drop(ctr, maps::kDropMalformed);  // bad UDP checksum
      return Verdict::kDrop;
    }
    const size_t hdrs = l2 + kIpv4Len + kUdpLen;
    const size_t rlen = AnswerUdp(engine, 4, ip + 12, l4, ulen,
                                  std::min<size_t>(room - hdrs, c.mtu - kIpv4Len - kUdpLen), ctr);
    if (rlen == 0) return Verdict::kDrop;
    SwapMacs(f, c.mac);
    uint8_t tmp[4];
    std::memcpy(tmp, ip + 12, 4);
    std::memcpy(ip + 12, ip + 16, 4);
    std::memcpy(ip + 16, tmp, 4);
    Put16(ip + 2, static_cast<uint16_t>(kIpv4Len + kUdpLen + rlen));
    Put16(ip + 4, 0);       // id: unused without fragmentation (RFC 6864)
    Put16(ip + 6, 0x4000);  // DF
    ip[8] = kReplyTtl;
    std::memcpy(tmp, l4, 2);
    std::memcpy(l4, l4 + 2, 2);
    std::memcpy(l4 + 2, tmp, 2);
    const uint16_t out_ulen = static_cast<uint16_t>(kUdpLen + rlen);
    Put16(l4 + 4, out_ulen);
    Put16(ip + 10, 0);
    Put16(l4 + 6, 0);
    if (c.sw_checksum) {
      StoreChecksum(ip + 10, Fold(RawSum(ip, kIpv4Len, 0)));
      uint16_t s =
          static_cast<uint16_t>(~Fold(RawSum(l4, out_ulen, PseudoV4(ip, kProtoUdp, out_ulen))));
      if (s == 0) s = 0xffff;  // RFC 768: zero means "no checksum"
      std::memcpy(l4 + 6, &s, 2);
    } else {
      // The NIC completes both; UDP offload wants the pseudo-header sum in place.
      const uint16_t ph = Fold(PseudoV4(ip, kProtoUdp, out_ulen));
      std::memcpy(l4 + 6, &ph, 2);
      *off = TxOffload{true, false, true, static_cast<uint8_t>(l2), kIpv4Len};
    }
    *len = static_cast<uint32_t>(hdrs + rlen);
    return Verdict::kTransmit;
  }

  if (proto == kProtoIcmp) {
    if (l4len < 8 || Fold(RawSum(l4, l4len, 0)) != 0xffff) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    if (l4[0] != kIcmpEchoRequest) return Verdict::kException;
    l4[0] = kIcmpEchoReply;
    Put16(l4 + 2, 0);
    StoreChecksum(l4 + 2, Fold(RawSum(l4, l4len, 0)));
    SwapMacs(f, c.mac);
    uint8_t tmp[4];
    std::memcpy(tmp, ip + 12, 4);
    std::memcpy(ip + 12, ip + 16, 4);
    std::memcpy(ip + 16, tmp, 4);
    ip[8] = kReplyTtl;
    Put16(ip + 10, 0);
    StoreChecksum(ip + 10, Fold(RawSum(ip, kIpv4Len, 0)));
    *len = PadFrame(f, static_cast<uint32_t>(l2 + total), room);
    return Verdict::kTransmit;
  }
  return Verdict::kException;  // TCP (the kernel listener answers TCP/53) and the rest
}

Verdict Ipv6(uint8_t* f, uint32_t* len, uint32_t room, size_t l2, uint16_t vlan,
             const PathConfig& c, const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off) {
  uint8_t* ip = f + l2;
  if (ABSL_PREDICT_FALSE(*len < l2 + kIpv6Len || (ip[0] >> 4) != 6)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const uint16_t plen = Get16(ip + 4);
  if (ABSL_PREDICT_FALSE(l2 + kIpv6Len + plen > *len)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  const uint8_t nh = ip[6];
  uint8_t* l4 = ip + kIpv6Len;
  const bool to_us = FindV6(c, ip + 24, vlan) >= 0;
  if (!to_us) {
    // Neighbour solicitations arrive at our solicited-node multicast address; other
    // multicast (router advertisements, MLD) is for the kernel side.
    if (nh == kProtoIcmpv6 && plen >= 24 && l4[0] == kIcmp6Ns &&
        IsOurSolicitedNode(c, ip + 24, vlan)) {
      // handled below
    } else if (ip[24] == 0xff) {
      return Verdict::kException;
    } else {
      Drop(ctr, maps::kDropNotOurs);
      return Verdict::kDrop;
    }
  }

  if (nh == kProtoUdp && to_us) {
    if (ABSL_PREDICT_FALSE(plen < kUdpLen || Get16(l4 + 4) < kUdpLen || Get16(l4 + 4) > plen)) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    if (Get16(l4 + 2) != c.dns_port) return Verdict::kException;
    const uint16_t ulen = Get16(l4 + 4);
    // The UDP checksum is mandatory over IPv6 (RFC 8200 section 8.1).
    uint16_t stored;
    std::memcpy(&stored, l4 + 6, 2);
    if (stored == 0 || Fold(RawSum(l4, ulen, PseudoV6(ip, kProtoUdp, ulen))) != 0xffff) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    const size_t hdrs = l2 + kIpv6Len + kUdpLen;
    const size_t rlen = AnswerUdp(engine, 6, ip + 8, l4, ulen,
                                  std::min<size_t>(room - hdrs, c.mtu - kIpv6Len - kUdpLen), ctr);
    if (rlen == 0) return Verdict::kDrop;
    SwapMacs(f, c.mac);
    uint8_t tmp[16];
    std::memcpy(tmp, ip + 8, 16);
    std::memcpy(ip + 8, ip + 24, 16);
    std::memcpy(ip + 24, tmp, 16);
    ip[7] = kReplyTtl;
    const uint16_t out_ulen = static_cast<uint16_t>(kUdpLen + rlen);
    Put16(ip + 4, out_ulen);
    std::memcpy(tmp, l4, 2);
    std::memcpy(l4, l4 + 2, 2);
    std::memcpy(l4 + 2, tmp, 2);
    Put16(l4 + 4, out_ulen);
    Put16(l4 + 6, 0);
    if (c.sw_checksum) {
      uint16_t s =
          static_cast<uint16_t>(~Fold(RawSum(l4, out_ulen, PseudoV6(ip, kProtoUdp, out_ulen))));
      if (s == 0) s = 0xffff;
      std::memcpy(l4 + 6, &s, 2);
    } else {
      const uint16_t ph = Fold(PseudoV6(ip, kProtoUdp, out_ulen));
      std::memcpy(l4 + 6, &ph, 2);
      *off = TxOffload{false, true, true, static_cast<uint8_t>(l2), kIpv6Len};
    }
    *len = static_cast<uint32_t>(hdrs + rlen);
    return Verdict::kTransmit;
  }

  if (nh != kProtoIcmpv6) return Verdict::kException;
  if (plen < 8 || Fold(RawSum(l4, plen, PseudoV6(ip, kProtoIcmpv6, plen))) != 0xffff) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  if (l4[0] == kIcmp6Ns) {
    // RFC 4861 section 7.1.1: hop limit 255, code 0, target not multicast.
    if (ip[7] != 255 || l4[1] != 0 || plen < 24) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    if (FindV6(c, l4 + 8, vlan) < 0) return Verdict::kException;
    static constexpr uint8_t kUnspecified[16] = {};
    static constexpr uint8_t kAllNodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const bool dad = std::memcmp(ip + 8, kUnspecified, 16) == 0;
    if (room < l2 + kIpv6Len + 32) return Verdict::kDrop;
    uint8_t target[16];
    std::memcpy(target, l4 + 8, 16);
    // Neighbour advertisement (RFC 4861 section 4.4): solicited unless answering DAD, override,
    // with our link-layer address.
    std::memcpy(ip + 24, dad ? kAllNodes : ip + 8, 16);
    std::memcpy(ip + 8, target, 16);
    ip[7] = 255;
    Put16(ip + 4, 32);
    l4[0] = kIcmp6Na;
    l4[1] = 0;
    Put16(l4 + 2, 0);
    l4[4] = dad ? 0x20 : 0x60;  // S (unless DAD) and O flags
    l4[5] = l4[6] = l4[7] = 0;
    std::memcpy(l4 + 8, target, 16);
    l4[24] = 2;  // target link-layer address option
    l4[25] = 1;
    std::memcpy(l4 + 26, c.mac, 6);
    StoreChecksum(l4 + 2, Fold(RawSum(l4, 32, PseudoV6(ip, kProtoIcmpv6, 32))));
    if (dad) {
      static constexpr uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
      std::memcpy(f, kAllNodesMac, 6);
      std::memcpy(f + 6, c.mac, 6);
    } else {
      SwapMacs(f, c.mac);
    }
    *len = static_cast<uint32_t>(l2 + kIpv6Len + 32);
    return Verdict::kTransmit;
  }
  if (l4[0] == kIcmp6EchoRequest && to_us) {
    l4[0] = kIcmp6EchoReply;
    uint8_t tmp[16];
    std::memcpy(tmp, ip + 8, 16);
    std::memcpy(ip + 8, ip + 24, 16);
    std::memcpy(ip + 24, tmp, 16);
    ip[7] = kReplyTtl;
    Put16(l4 + 2, 0);
    StoreChecksum(l4 + 2, Fold(RawSum(l4, plen, PseudoV6(ip, kProtoIcmpv6, plen))));
    SwapMacs(f, c.mac);
    *len = static_cast<uint32_t>(l2 + kIpv6Len + plen);
    return Verdict::kTransmit;
  }
  return Verdict::kException;  // RA, NA, MLD, ...: the kernel side keeps its view of the link
}

}  // namespace

uint16_t InternetChecksum(const uint8_t* data, size_t len, uint64_t initial) {
  return static_cast<uint16_t>(~Fold(RawSum(data, len, initial)));
}

Verdict ProcessFrame(uint8_t* f, uint32_t* len, uint32_t room, const PathConfig& c,
                     const Engine* engine, maps::LcoreCounters* ctr, TxOffload* off) {
  if (ABSL_PREDICT_FALSE(*len < kEthLen)) {
    Drop(ctr, maps::kDropMalformed);
    return Verdict::kDrop;
  }
  // Ours, broadcast or multicast (ARP, ND); anything else is another host's unicast.
  if (std::memcmp(f, c.mac, 6) != 0 && !(f[0] & 1)) {
    Drop(ctr, maps::kDropNotOurs);
    return Verdict::kDrop;
  }
  size_t l2 = kEthLen;
  uint16_t type = Get16(f + 12);
  uint16_t vlan = 0;
  if (type == kEthVlan) {
    if (*len < kEthLen + kVlanLen) {
      Drop(ctr, maps::kDropMalformed);
      return Verdict::kDrop;
    }
    vlan = Get16(f + 14) & 0x0FFF;
    type = Get16(f + 16);
    l2 += kVlanLen;
  }
  switch (type) {
    case kEthIpv4: {
      Verdict v = Ipv4(f, len, room, l2, vlan, c, engine, ctr, off);
      return v;
    }
    case kEthIpv6:
      return Ipv6(f, len, room, l2, vlan, c, engine, ctr, off);
    case kEthArp:
      return Arp(f, len, room, l2, vlan, c, ctr);
    default:
      return Verdict::kException;
  }
}

}  // namespace sextant::dataplane
