// The frame builders of the packet-path tests (frame_builders.h).
#include "tests/dataplane/frame_builders.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "absl/strings/str_format.h"
#include "maps/dns/frame.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::packet_path_test {

namespace sxt = ::sextant::testing;

// ---------------------------------------------------------------------------------------------
// Addresses

V6 P6(const char* text) {
  V6 a{};
  if (inet_pton(AF_INET6, text, a.data()) != 1) std::abort();
  return a;
}

const V6 kOurV6 = P6("2001:db8:18::2");
const V6 kOtherV6 = P6("2001:db8:18::3");
const V6 kClientV6 = P6("2001:db8:99::77");
const V6 kOurSolicitedNode = P6("ff02::1:ff00:2");
const V6 kAllNodes = P6("ff02::1");
const V6 kUnspecified = P6("::");

// ---------------------------------------------------------------------------------------------
// Bytes and checksums

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Append16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) absl::StrAppendFormat(&s, "%02x", p[i]);
  return s;
}

// RFC 1071 as written: big-endian 16-bit words one at a time, the odd byte padded with a zero.
uint64_t SumWords(const uint8_t* p, size_t n, uint64_t acc) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += Get16(p + i);
  if (n % 2 != 0) acc += static_cast<uint64_t>(p[n - 1]) << 8;
  return acc;
}
uint16_t FoldSum(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
uint16_t Checksum(const uint8_t* p, size_t n, uint64_t acc) {
  return static_cast<uint16_t>(~FoldSum(SumWords(p, n, acc)));
}
// A region carrying its checksum verifies when everything sums to 0xffff.
bool Verifies(const uint8_t* p, size_t n, uint64_t acc) {
  return FoldSum(SumWords(p, n, acc)) == 0xffff;
}
uint64_t Pseudo4(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint16_t len) {
  return SumWords(src, 4) + SumWords(dst, 4) + proto + len;
}
uint64_t Pseudo6(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t len) {
  return SumWords(src, 16) + SumWords(dst, 16) + (len >> 16) + (len & 0xffff) + proto;
}

// ---------------------------------------------------------------------------------------------
// Frame builders

Bytes Eth(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload, int vlan) {
  Bytes f;
  Append(&f, dst);
  Append(&f, src);
  if (vlan != kUntagged) {
    Append16(&f, kEthTypeVlan);
    Append16(&f, static_cast<uint16_t>(vlan));
  }
  Append16(&f, type);
  Append(&f, payload);
  return f;
}

Ip4Options FlagsFrag(uint16_t v) {
  Ip4Options o;
  o.flags_frag = v;
  return o;
}
Ip4Options Options(const Bytes& options) {
  Ip4Options o;
  o.options = options;
  return o;
}

Bytes Ip4(const V4& src, const V4& dst, uint8_t proto, const Bytes& l4, const Ip4Options& o) {
  const size_t hlen = kIpv4HeaderLen + o.options.size();
  Bytes p;
  p.push_back(static_cast<uint8_t>(0x40 | hlen / 4));
  p.push_back(0);
  Append16(&p, static_cast<uint16_t>(hlen + l4.size()));
  Append16(&p, 0x4242);  // id
  Append16(&p, o.flags_frag);
  p.push_back(o.ttl);
  p.push_back(proto);
  Append16(&p, 0);
  Append(&p, src);
  Append(&p, dst);
  Append(&p, o.options);
  Put16(&p[kIpv4Checksum], Checksum(p.data(), hlen));
  Append(&p, l4);
  return p;
}

Bytes Ip6(const V6& src, const V6& dst, uint8_t next, const Bytes& l4, uint8_t hop) {
  Bytes p = {0x60, 0, 0, 0};
  Append16(&p, static_cast<uint16_t>(l4.size()));
  p.push_back(next);
  p.push_back(hop);
  Append(&p, src);
  Append(&p, dst);
  Append(&p, l4);
  return p;
}

// UDP datagrams: Udp() leaves the checksum zero; Udp4() and Udp6() fill it in over the IPv4 or
// IPv6 pseudo-header. TCP is a bare SYN, only for its protocol number and port.
Bytes Udp(uint16_t sport, uint16_t dport, const Bytes& data) {
  Bytes u;
  Append16(&u, sport);
  Append16(&u, dport);
  Append16(&u, static_cast<uint16_t>(kUdpHeaderLen + data.size()));
  Append16(&u, 0);
  Append(&u, data);
  return u;
}
Bytes Udp4(const V4& src, const V4& dst, uint16_t sport, uint16_t dport, const Bytes& data) {
  Bytes u = Udp(sport, dport, data);
  Put16(&u[kUdpChecksum],
        UdpField(
            Checksum(u.data(), u.size(), Pseudo4(src.data(), dst.data(), kIpProtoUdp, u.size()))));
  return u;
}
Bytes Udp6(const V6& src, const V6& dst, uint16_t sport, uint16_t dport, const Bytes& data) {
  Bytes u = Udp(sport, dport, data);
  Put16(&u[kUdpChecksum],
        UdpField(
            Checksum(u.data(), u.size(), Pseudo6(src.data(), dst.data(), kIpProtoUdp, u.size()))));
  return u;
}
Bytes TcpSyn(uint16_t sport, uint16_t dport, uint64_t pseudo_without_len) {
  Bytes t;
  Append16(&t, sport);
  Append16(&t, dport);
  Append(&t, Bytes{0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0});
  Put16(&t[16], Checksum(t.data(), t.size(), pseudo_without_len + t.size()));
  return t;
}
Bytes Tcp4(const V4& src, const V4& dst, uint16_t dport) {
  return TcpSyn(kClientPort, dport, Pseudo4(src.data(), dst.data(), kIpProtoTcp, 0));
}
Bytes Tcp6(const V6& src, const V6& dst, uint16_t dport) {
  return TcpSyn(kClientPort, dport, Pseudo6(src.data(), dst.data(), kIpProtoTcp, 0));
}

// `rest` is everything after the checksum (for echo: id, sequence, data).
Bytes Icmp4(uint8_t type, uint8_t code, const Bytes& rest) {
  Bytes m = {type, code, 0, 0};
  Append(&m, rest);
  Put16(&m[2], Checksum(m.data(), m.size()));
  return m;
}
Bytes Icmp6(const V6& src, const V6& dst, uint8_t type, uint8_t code, const Bytes& rest) {
  Bytes m = {type, code, 0, 0};
  Append(&m, rest);
  Put16(&m[2],
        Checksum(m.data(), m.size(), Pseudo6(src.data(), dst.data(), kIpProtoIcmpv6, m.size())));
  return m;
}
Bytes EchoBody(uint16_t id, uint16_t seq, const Bytes& data) {
  Bytes b;
  Append16(&b, id);
  Append16(&b, seq);
  Append(&b, data);
  return b;
}
// Neighbour solicitation body (RFC 4861 section 4.3), with a source link-layer address option
// unless the source is unspecified (DAD).
Bytes NsBody(const V6& target, bool with_source_mac) {
  Bytes b = {0, 0, 0, 0};
  Append(&b, target);
  if (with_source_mac) {
    Append(&b, Bytes{1, 1});
    Append(&b, kClientMac);
  }
  return b;
}

Bytes Arp(uint16_t op, const Mac& sha, const V4& spa, const Mac& tha, const V4& tpa, uint8_t hlen) {
  Bytes a;
  Append16(&a, 1);  // Ethernet
  Append16(&a, kEthTypeIpv4);
  a.push_back(hlen);
  a.push_back(4);
  Append16(&a, op);
  Append(&a, sha);
  Append(&a, spa);
  Append(&a, tha);
  Append(&a, tpa);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Ready-made frames

Bytes Dns(const std::string& name, uint16_t qtype, int edns_size, uint16_t id) {
  sxt::QueryOptions o;
  o.id = id;
  o.edns_size = edns_size;
  return sxt::MakeQuery(name, qtype, o);
}
Bytes WwwA() { return Dns("www.pkt.test", kA); }

Bytes Query4(const Bytes& dns, const V4& dst, int vlan, uint16_t dport) {
  return Eth(kOurMac, kClientMac, kEthTypeIpv4,
             Ip4(kClientV4, dst, kIpProtoUdp, Udp4(kClientV4, dst, kClientPort, dport, dns)), vlan);
}
Bytes Query6(const Bytes& dns, const V6& dst, uint16_t dport) {
  return Eth(kOurMac, kClientMac, kEthTypeIpv6,
             Ip6(kClientV6, dst, kIpProtoUdp, Udp6(kClientV6, dst, kClientPort, dport, dns)));
}
Bytes ArpRequest(const V4& target, int vlan) {
  return Eth(kBroadcastMac, kClientMac, kEthTypeArp,
             Arp(kArpRequest, kClientMac, kClientV4, kZeroMac, target), vlan);
}
Bytes Ping4(const Bytes& data, const V4& dst, int vlan) {
  return Eth(
      kOurMac, kClientMac, kEthTypeIpv4,
      Ip4(kClientV4, dst, kIpProtoIcmp, Icmp4(kIcmpEchoRequest, 0, EchoBody(0x0bad, 7, data))),
      vlan);
}
Bytes Ping6(const Bytes& data) {
  return Eth(kOurMac, kClientMac, kEthTypeIpv6,
             Ip6(kClientV6, kOurV6, kIpProtoIcmpv6,
                 Icmp6(kClientV6, kOurV6, kIcmp6EchoRequest, 0, EchoBody(0x0bad, 7, data))));
}
Bytes Ns(const NsOptions& o) {
  const bool dad = o.src == kUnspecified;
  return Eth(
      o.dst_mac, kClientMac, kEthTypeIpv6,
      Ip6(o.src, o.dst, kIpProtoIcmpv6,
          Icmp6(o.src, o.dst, kIcmp6NeighborSolicit, o.code, NsBody(o.target, !dad)), o.hop));
}

// Frame surgery: a copy with `edit` applied.
Bytes With(Bytes f, const std::function<void(Bytes&)>& edit) {
  edit(f);
  return f;
}
void FixIp4HeaderSum(Bytes& f, size_t l2) {
  const size_t ihl = (f[l2] & 0xf) * 4u;
  Put16(&f[l2 + kIpv4Checksum], 0);
  Put16(&f[l2 + kIpv4Checksum], Checksum(&f[l2], ihl));
}
void FixUdp4Sum(Bytes& f, size_t l2) {
  uint8_t* ip = &f[l2];
  uint8_t* u = ip + kIpv4HeaderLen;
  const uint16_t ulen = Get16(u + kUdpLength);
  Put16(u + kUdpChecksum, 0);
  Put16(u + kUdpChecksum,
        UdpField(Checksum(u, ulen, Pseudo4(ip + kIpv4Src, ip + kIpv4Dst, kIpProtoUdp, ulen))));
}
void FixUdp6Sum(Bytes& f) {
  uint8_t* ip = &f[kEthHeaderLen];
  uint8_t* u = ip + kIpv6HeaderLen;
  const uint16_t ulen = Get16(u + kUdpLength);
  Put16(u + kUdpChecksum, 0);
  Put16(u + kUdpChecksum,
        UdpField(Checksum(u, ulen, Pseudo6(ip + kIpv6Src, ip + kIpv6Dst, kIpProtoUdp, ulen))));
}
// Sets the DNS header's flag byte 1 of an untagged IPv4 query and fixes the UDP checksum.
Bytes Query4WithFlags1(uint8_t flags1) {
  return With(Query4(WwwA()), [=](Bytes& f) {
    f[kDns4At + 2] = flags1;
    FixUdp4Sum(f);
  });
}

}  // namespace sextant::dataplane::packet_path_test
