// Short copies and compares for the answer engine. What the engine copies and compares is
// short: names, labels, 4- and 16-byte rdata, the question. A libc call costs more than such a
// copy, so these work inline, 8 or 16 bytes at a time, and end with one overlapping step instead
// of a byte loop. They never touch a byte outside [p, p + n), so they are safe at the end of a
// section or of the packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {

namespace dns = ::sextant::maps::dns;

// 16 bytes as one value (GCC/Clang vector extension: SSE2 on x86-64, NEON on arm64).
using Bytes16 = uint8_t __attribute__((vector_size(16)));

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// Host-order 16 bits (the rdata length prefix in the snapshot).
inline uint16_t Load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline Bytes16 Load128(const uint8_t* p) {
  Bytes16 v;
  std::memcpy(&v, p, 16);
  return v;
}
// Bit k set for each zero byte p[k], k < 32.
inline uint32_t ZeroBytes32(const uint8_t* p) {
  const Bytes16 lo = reinterpret_cast<Bytes16>(Load128(p) == 0);  // 0xFF where zero
  const Bytes16 hi = reinterpret_cast<Bytes16>(Load128(p + 16) == 0);
#if defined(__SSE2__)
  return static_cast<uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(lo))) |
         static_cast<uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(hi))) << 16;
#else
  uint32_t m = 0;
  for (int k = 0; k < 16; ++k) m |= uint32_t{lo[k] != 0} << k | uint32_t{hi[k] != 0} << (16 + k);
  return m;
#endif
}

inline void Store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline void Store32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void Store128(uint8_t* p, Bytes16 v) { std::memcpy(p, &v, 16); }

// The n bytes p[0, n), 1 <= n <= 8, folded into one word for comparing. Bytes may appear twice
// (the two halves overlap for n < 8); both sides of a comparison fold the same way.
inline uint64_t Fold(const uint8_t* p, size_t n) {
  if (n >= 4) return Load32(p) | uint64_t{Load32(p + n - 4)} << 32;
  return p[0] | uint64_t{p[n / 2]} << 8 | uint64_t{p[n - 1]} << 16;
}

// Lower() on 8 bytes at once: sets 0x20 in the bytes within 'A'..'Z'. Per byte, the top bit of
// low7 + (0x80 - 'A') says low7 >= 'A' and that of low7 + (0x7F - 'Z') says low7 > 'Z' (neither
// sum carries into the next byte); the first without the second, in an ASCII byte, is a
// capital. Label length bytes (<= 63) are never letters, so whole wire names can go through.
inline uint64_t Lower8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t low7 = x & (0x7F * kOnes);
  const uint64_t ge_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t gt_z = low7 + (0x7F - 'Z') * kOnes;
  return x | ((ge_a ^ gt_z) & ~x & (0x80 * kOnes)) >> 2;
}
// The same on 16 bytes: b - 'A' < 26 (wrapping, unsigned) holds exactly for capitals.
inline Bytes16 Lower16(Bytes16 b) {
  const Bytes16 upper = reinterpret_cast<Bytes16>(b - 'A' < 26);  // 0xFF where true
  return b | (upper & 0x20);
}

// Copies n bytes; dst and src do not overlap.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void CopyBytes(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n >= 16) {
    // The first 16 outside the loop: a name or a question is mostly 17 to 32 bytes, and then
    // the loop is not entered.
    Store128(dst, Load128(src));
    for (size_t i = 16; i + 16 < n; i += 16) Store128(dst + i, Load128(src + i));
    Store128(dst + n - 16, Load128(src + n - 16));
  } else if (n >= 8) {
    const uint64_t head = Load64(src), tail = Load64(src + n - 8);
    Store64(dst, head);
    Store64(dst + n - 8, tail);
  } else if (n >= 4) {
    const uint32_t head = Load32(src), tail = Load32(src + n - 4);
    Store32(dst, head);
    Store32(dst + n - 4, tail);
  } else if (n > 0) {
    const uint8_t b0 = src[0], b1 = src[n / 2], b2 = src[n - 1];
    dst[0] = b0;
    dst[n / 2] = b1;
    dst[n - 1] = b2;
  }
}

// Copies n >= 1 bytes, lowering ASCII letters; dst and src do not overlap.
inline void CopyLower(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n >= 16) {
    Store128(dst, Lower16(Load128(src)));  // as in CopyBytes
    for (size_t i = 16; i + 16 < n; i += 16) Store128(dst + i, Lower16(Load128(src + i)));
    Store128(dst + n - 16, Lower16(Load128(src + n - 16)));
  } else if (n >= 8) {
    const uint64_t head = Lower8(Load64(src)), tail = Lower8(Load64(src + n - 8));
    Store64(dst, head);
    Store64(dst + n - 8, tail);
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = dns::Lower(src[i]);
  }
}

// Whether a[0, n) == b[0, n), n >= 1.
inline bool BytesEqual(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n < 8) return Fold(a, n) == Fold(b, n);
  const auto diff8 = [a, b](size_t i) { return Load64(a + i) ^ Load64(b + i); };
  if (n <= 16) return (diff8(0) | diff8(n - 8)) == 0;
  // The first 16 before the loop, as in CopyBytes: 17..32 bytes do not enter it.
  uint64_t diff = diff8(0) | diff8(8);
  for (size_t i = 16; i + 16 < n; i += 16) diff |= diff8(i) | diff8(i + 8);
  return (diff | diff8(n - 16) | diff8(n - 8)) == 0;
}

// Whether a[0, n) (any case) equals the lowered bytes b[0, n), ASCII case-insensitively; n >= 1.
inline bool BytesEqualLowered(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n < 8) return Lower8(Fold(a, n)) == Fold(b, n);
  for (size_t i = 0; i + 8 < n; i += 8) {
    if (Lower8(Load64(a + i)) != Load64(b + i)) return false;
  }
  return Lower8(Load64(a + n - 8)) == Load64(b + n - 8);
}

}  // namespace sextant::dataplane
