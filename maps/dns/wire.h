// DNS wire vocabulary (RFC 1035 section 4 and its updates): header offsets and flags, types,
// classes, opcodes, rcodes, EDNS option codes, and network-order accessors. Part of the contract
// because the snapshot stores DNS wire format; used by the engine, the packet path, the control
// plane (zones, DNS health checks, explain) and tests alike. Header-only, no dependencies.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sextant::maps::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kOffId = 0;
inline constexpr size_t kOffFlags1 = 2;  // QR | OPCODE(4) | AA | TC | RD
inline constexpr size_t kOffFlags2 = 3;  // RA | Z | AD | CD | RCODE(4)
inline constexpr size_t kOffQdcount = 4;
inline constexpr size_t kOffAncount = 6;
inline constexpr size_t kOffNscount = 8;
inline constexpr size_t kOffArcount = 10;
inline constexpr int kOpcodeShift = 3;  // OPCODE is bits 3..6 of flags byte 1
inline constexpr uint8_t kRcodeMask = 0x0F;

inline constexpr uint8_t kFlag1Qr = 0x80;
inline constexpr uint8_t kFlag1Aa = 0x04;
inline constexpr uint8_t kFlag1Tc = 0x02;
inline constexpr uint8_t kFlag1Rd = 0x01;
inline constexpr uint8_t kFlag2Ra = 0x80;
inline constexpr uint8_t kFlag2Ad = 0x20;
inline constexpr uint8_t kFlag2Cd = 0x10;

enum Rcode : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kNotAuth = 9,
  kBadVers = 16,    // extended: upper 8 bits go in the OPT TTL
  kBadCookie = 23,  // extended (RFC 7873 section 8): a server cookie is required
};

enum Type : uint16_t {
  kTypeA = 1,
  kTypeNs = 2,
  kTypeCname = 5,
  kTypeSoa = 6,
  kTypePtr = 12,
  kTypeMx = 15,
  kTypeTxt = 16,
  kTypeAaaa = 28,
  kTypeSrv = 33,
  kTypeDname = 39,
  kTypeOpt = 41,
  kTypeDs = 43,
  kTypeIxfr = 251,
  kTypeAxfr = 252,
  kTypeAny = 255,
};

enum Class : uint16_t { kClassIn = 1, kClassCh = 3, kClassAny = 255 };

enum Opcode : uint8_t { kOpQuery = 0, kOpNotify = 4, kOpUpdate = 5 };

enum EdnsOptionCode : uint16_t { kOptNsid = 3, kOptEcs = 8, kOptCookie = 10, kOptEde = 15 };

// The OPT pseudo-record (RFC 6891 section 6.1.2) from its owner (the root, one byte) on: TYPE at
// 1, CLASS (the UDP payload size) at 3, the TTL's extended rcode, version and flags at 5..8,
// RDLENGTH at 9, options from 11.
inline constexpr size_t kOptType = 1;
inline constexpr size_t kOptUdpSize = 3;
inline constexpr size_t kOptExtendedRcode = 5;
inline constexpr size_t kOptVersion = 6;
inline constexpr size_t kOptFlags = 7;  // DO is the top bit
inline constexpr size_t kOptRdlength = 9;
inline constexpr size_t kOptFixedSize = 11;
inline constexpr uint8_t kOptFlagDo = 0x80;

// ECS FAMILY values (RFC 7871 section 6; IANA address family numbers).
inline constexpr uint16_t kEcsFamilyIpv4 = 1;
inline constexpr uint16_t kEcsFamilyIpv6 = 2;

// Network byte order. One load or store plus a byte swap: written byte by byte, the compiler
// does not always merge the bytes, and these are on every query's path.
inline uint16_t NetOrder16(uint16_t v) {
  return std::endian::native == std::endian::little ? __builtin_bswap16(v) : v;
}
inline uint32_t NetOrder32(uint32_t v) {
  return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
}
inline uint16_t Get16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return NetOrder16(v);
}
inline uint32_t Get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return NetOrder32(v);
}
inline void Put16(uint8_t* p, uint16_t v) {
  v = NetOrder16(v);
  std::memcpy(p, &v, 2);
}
inline void Put32(uint8_t* p, uint32_t v) {
  v = NetOrder32(v);
  std::memcpy(p, &v, 4);
}
inline uint8_t Lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c | 0x20 : c; }

}  // namespace sextant::maps::dns
