// Below DNS: the Ethernet, 802.1Q, ARP, IPv4, IPv6, UDP, ICMP and ICMPv6 fields the packet path
// reads and rewrites, by named offset from the start of their own header (IEEE 802.3 / 802.1Q,
// RFC 826, RFC 791, RFC 8200, RFC 768, RFC 792, RFC 4443, RFC 4861). The packet path and its
// tests and benchmarks use these names; header-only, no dependencies.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sextant::maps::frame {

// Ethernet II.
inline constexpr size_t kEthDst = 0;
inline constexpr size_t kEthSrc = 6;
inline constexpr size_t kEthType = 12;
inline constexpr size_t kEthHeaderLen = 14;
inline constexpr size_t kMacLen = 6;
inline constexpr uint32_t kEthMinFrame = 60;  // without the FCS; shorter replies are padded

inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeVlan = 0x8100;
inline constexpr uint16_t kEthTypeIpv6 = 0x86DD;

// An 802.1Q tag sits where the EtherType was: TCI (3 bits priority, 1 bit DEI, 12 bits VLAN id),
// then the inner EtherType.
inline constexpr size_t kVlanTci = 0;
inline constexpr size_t kVlanInnerType = 2;
inline constexpr size_t kVlanTagLen = 4;
inline constexpr uint16_t kVlanIdMask = 0x0FFF;

// ARP for IPv4 over Ethernet.
inline constexpr size_t kArpHardwareType = 0;
inline constexpr size_t kArpProtocolType = 2;
inline constexpr size_t kArpHardwareLen = 4;
inline constexpr size_t kArpProtocolLen = 5;
inline constexpr size_t kArpOperation = 6;
inline constexpr size_t kArpSenderMac = 8;
inline constexpr size_t kArpSenderIp = 14;
inline constexpr size_t kArpTargetMac = 18;
inline constexpr size_t kArpTargetIp = 24;
inline constexpr size_t kArpLen = 28;
inline constexpr uint16_t kArpHardwareEthernet = 1;
inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

// IPv4 (without options: the fast path hands packets with options to the kernel).
inline constexpr size_t kIpv4VersionIhl = 0;
inline constexpr size_t kIpv4TotalLen = 2;
inline constexpr size_t kIpv4Id = 4;
inline constexpr size_t kIpv4FlagsFragment = 6;
inline constexpr size_t kIpv4Ttl = 8;
inline constexpr size_t kIpv4Protocol = 9;
inline constexpr size_t kIpv4Checksum = 10;
inline constexpr size_t kIpv4Src = 12;
inline constexpr size_t kIpv4Dst = 16;
inline constexpr size_t kIpv4HeaderLen = 20;
inline constexpr uint16_t kIpv4DontFragment = 0x4000;
inline constexpr uint16_t kIpv4FragmentMask = 0x3FFF;  // MF and the fragment offset

// IPv6.
inline constexpr size_t kIpv6PayloadLen = 4;
inline constexpr size_t kIpv6NextHeader = 6;
inline constexpr size_t kIpv6HopLimit = 7;
inline constexpr size_t kIpv6Src = 8;
inline constexpr size_t kIpv6Dst = 24;
inline constexpr size_t kIpv6HeaderLen = 40;
inline constexpr size_t kIpv6AddrLen = 16;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

// UDP.
inline constexpr size_t kUdpSrcPort = 0;
inline constexpr size_t kUdpDstPort = 2;
inline constexpr size_t kUdpLength = 4;
inline constexpr size_t kUdpChecksum = 6;
inline constexpr size_t kUdpHeaderLen = 8;

// ICMP and ICMPv6 share their first four bytes.
inline constexpr size_t kIcmpType = 0;
inline constexpr size_t kIcmpCode = 1;
inline constexpr size_t kIcmpChecksum = 2;
inline constexpr size_t kIcmpHeaderLen = 8;
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135;
inline constexpr uint8_t kIcmp6NeighborAdvert = 136;

// Neighbour solicitation and advertisement (RFC 4861 sections 4.3, 4.4), from the ICMPv6 header.
inline constexpr size_t kNdFlags = 4;  // NA: R, S, O in the top bits
inline constexpr size_t kNdTarget = 8;
inline constexpr size_t kNdOptions = 24;
inline constexpr size_t kNdAdvertLen = 32;  // NA with one target link-layer address option
inline constexpr uint8_t kNdFlagSolicited = 0x40;
inline constexpr uint8_t kNdFlagOverride = 0x20;
inline constexpr uint8_t kNdOptionTargetMac = 2;  // option type; length 1 (8 octets)
inline constexpr uint8_t kNdHopLimit = 255;

}  // namespace sextant::maps::frame
