// Hand-built Ethernet frames for the packet-path tests: addresses, byte and checksum helpers,
// builders for Ethernet, 802.1Q, IPv4, IPv6, UDP, TCP, ICMP, ICMPv6 and ARP, ready-made query,
// ping, ARP and neighbour-solicitation frames, and frame surgery.
//
// Checksums are computed by a routine written here from RFC 1071 (big-endian words, one at a
// time), not with packet_path's own: a bug shared by the writer and the checker would otherwise
// pass unseen.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "maps/dns/frame.h"

// The packet-path tests live in this namespace too, so that frames and addresses need no
// qualification in the tables.
namespace sextant::dataplane::packet_path_test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using V4 = std::array<uint8_t, 4>;
using V6 = std::array<uint8_t, 16>;

// ---------------------------------------------------------------------------------------------
// Addresses

V6 P6(const char* text);

inline constexpr Mac kOurMac = {0x02, 0x53, 0x58, 0x00, 0x00, 0x01};
inline constexpr Mac kClientMac = {0x02, 0xc1, 0x1e, 0x00, 0x00, 0x07};
inline constexpr Mac kOtherMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
inline constexpr Mac kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr Mac kZeroMac = {};
inline constexpr Mac kOurSolicitedNodeMac = {0x33, 0x33, 0xff, 0x00, 0x00, 0x02};
inline constexpr Mac kAllNodesMac = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

inline constexpr V4 kOurV4 = {198, 18, 0, 2};
inline constexpr V4 kOurVlanV4 = {198, 18, 5, 2};  // ours on VLAN 5 only
inline constexpr V4 kOtherV4 = {198, 18, 0, 3};
inline constexpr V4 kClientV4 = {192, 0, 2, 77};
inline constexpr uint16_t kOurVlan = 5;
extern const V6 kOurV6;
extern const V6 kOtherV6;
extern const V6 kClientV6;
extern const V6 kOurSolicitedNode;
extern const V6 kAllNodes;
extern const V6 kUnspecified;

inline constexpr uint16_t kClientPort = 40000;
inline constexpr int kUntagged = -1;

// Field names and numbers below DNS (maps/dns/frame.h) and DNS types.
using namespace ::sextant::maps::frame;  // NOLINT: the field names read better unqualified
inline constexpr uint16_t kA = 1, kSoa = 6, kAaaa = 28;

// Where things are in an untagged IPv4 / IPv6 UDP frame.
inline constexpr size_t kUdp4At = kEthHeaderLen + kIpv4HeaderLen, kDns4At = kUdp4At + kUdpHeaderLen;
inline constexpr size_t kUdp6At = kEthHeaderLen + kIpv6HeaderLen;

// ---------------------------------------------------------------------------------------------
// Bytes and checksums

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Put16(uint8_t* p, uint16_t v);
void Append16(Bytes* b, uint16_t v);
template <typename C>
void Append(Bytes* b, const C& c) {
  b->insert(b->end(), std::begin(c), std::end(c));
}
template <size_t N>
std::array<uint8_t, N> At(const uint8_t* p) {
  std::array<uint8_t, N> a;
  std::copy(p, p + N, a.begin());
  return a;
}

std::string Hex(const uint8_t* p, size_t n);

// RFC 1071 as written: big-endian 16-bit words one at a time, the odd byte padded with a zero.
uint64_t SumWords(const uint8_t* p, size_t n, uint64_t acc = 0);
uint16_t FoldSum(uint64_t acc);
uint16_t Checksum(const uint8_t* p, size_t n, uint64_t acc = 0);
// A region carrying its checksum verifies when everything sums to 0xffff.
bool Verifies(const uint8_t* p, size_t n, uint64_t acc = 0);
uint64_t Pseudo4(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint16_t len);
uint64_t Pseudo6(const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t len);
// The checksum a sender stores in a UDP header: zero means "none", so a zero result is sent as
// 0xffff (RFC 768).
inline uint16_t UdpField(uint16_t c) { return c == 0 ? 0xffff : c; }

// ---------------------------------------------------------------------------------------------
// Frame builders

Bytes Eth(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload,
          int vlan = kUntagged);

struct Ip4Options {
  uint16_t flags_frag = 0x4000;  // DF
  uint8_t ttl = 57;
  Bytes options;  // a multiple of 4 bytes
};
Ip4Options FlagsFrag(uint16_t v);
Ip4Options Options(const Bytes& options);

Bytes Ip4(const V4& src, const V4& dst, uint8_t proto, const Bytes& l4, const Ip4Options& o = {});
Bytes Ip6(const V6& src, const V6& dst, uint8_t next, const Bytes& l4, uint8_t hop = 57);

// UDP datagrams: Udp() leaves the checksum zero; Udp4() and Udp6() fill it in over the IPv4 or
// IPv6 pseudo-header. TCP is a bare SYN, only for its protocol number and port.
Bytes Udp(uint16_t sport, uint16_t dport, const Bytes& data);
Bytes Udp4(const V4& src, const V4& dst, uint16_t sport, uint16_t dport, const Bytes& data);
Bytes Udp6(const V6& src, const V6& dst, uint16_t sport, uint16_t dport, const Bytes& data);
Bytes TcpSyn(uint16_t sport, uint16_t dport, uint64_t pseudo_without_len);
Bytes Tcp4(const V4& src, const V4& dst, uint16_t dport);
Bytes Tcp6(const V6& src, const V6& dst, uint16_t dport);

// `rest` is everything after the checksum (for echo: id, sequence, data).
Bytes Icmp4(uint8_t type, uint8_t code, const Bytes& rest);
Bytes Icmp6(const V6& src, const V6& dst, uint8_t type, uint8_t code, const Bytes& rest);
Bytes EchoBody(uint16_t id, uint16_t seq, const Bytes& data);
// Neighbour solicitation body (RFC 4861 section 4.3), with a source link-layer address option
// unless the source is unspecified (DAD).
Bytes NsBody(const V6& target, bool with_source_mac);

Bytes Arp(uint16_t op, const Mac& sha, const V4& spa, const Mac& tha, const V4& tpa,
          uint8_t hlen = 6);

// ---------------------------------------------------------------------------------------------
// Ready-made frames

Bytes Dns(const std::string& name, uint16_t qtype, int edns_size = -1, uint16_t id = 0x1234);
Bytes WwwA();

Bytes Query4(const Bytes& dns, const V4& dst = kOurV4, int vlan = kUntagged, uint16_t dport = 53);
Bytes Query6(const Bytes& dns, const V6& dst = kOurV6, uint16_t dport = 53);
Bytes ArpRequest(const V4& target, int vlan = kUntagged);
Bytes Ping4(const Bytes& data, const V4& dst = kOurV4, int vlan = kUntagged);
Bytes Ping6(const Bytes& data);
struct NsOptions {
  V6 src = kClientV6;
  V6 dst = kOurSolicitedNode;
  Mac dst_mac = kOurSolicitedNodeMac;
  V6 target = kOurV6;
  uint8_t hop = 255;
  uint8_t code = 0;
};
Bytes Ns(const NsOptions& o = {});

// Frame surgery: a copy with `edit` applied.
Bytes With(Bytes f, const std::function<void(Bytes&)>& edit);
void FixIp4HeaderSum(Bytes& f, size_t l2 = kEthHeaderLen);
void FixUdp4Sum(Bytes& f, size_t l2 = kEthHeaderLen);
void FixUdp6Sum(Bytes& f);
// Sets the DNS header's flag byte 1 of an untagged IPv4 query and fixes the UDP checksum.
Bytes Query4WithFlags1(uint8_t flags1);

}  // namespace sextant::dataplane::packet_path_test
