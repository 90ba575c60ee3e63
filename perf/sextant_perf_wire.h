// sextant-perf's frame layout and byte helpers: where the headers of an untagged IPv4/UDP query
// frame are, and the RFC 1071 sums the generator fills in and checks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sextant::perf {

inline constexpr uint8_t kServer[4] = {198, 18, 0, 2};
inline constexpr size_t kEth = 14, kIp = 20, kUdp = 8, kDnsOff = kEth + kIp + kUdp;
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kEdnsSize = 1232;

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// RFC 1071 sum over big-endian 16-bit words, written independently of the dataplane's helper so
// that a checksum bug there cannot hide itself here.
inline uint32_t Sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (; n >= 2; p += 2, n -= 2) acc += Get16(p);
  if (n) acc += uint32_t{p[0]} << 8;
  return acc;
}
inline uint16_t Fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
// Sum of the IPv4 pseudo header and the UDP segment; a valid checksum makes it 0xffff.
inline uint16_t UdpSum(const uint8_t* ip, const uint8_t* udp, uint16_t ulen) {
  return Fold(Sum16(udp, ulen, Sum16(ip + 12, 8) + 17 + ulen));
}

}  // namespace sextant::perf
