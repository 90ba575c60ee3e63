// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), the keyed hash
// RFC 9018 server cookies are made with. 64-bit output, 128-bit key given as two little-endian
// words (k0 = key bytes 0-7, k1 = bytes 8-15). Header-only and branch-light: the engine hashes
// about 36 bytes per query that carries a cookie. Tested against the paper's vectors
// (tests/dataplane/engine/siphash_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sextant::dataplane {

namespace siphash_internal {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct State {
  uint64_t v0, v1, v2, v3;
  void Round() {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  }
  void Compress(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

}  // namespace siphash_internal

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "SipHash loads assume little-endian");

inline uint64_t SipHash24(uint64_t k0, uint64_t k1, const uint8_t* data, size_t len) {
  siphash_internal::State s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                            k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
  const size_t whole = len & ~size_t{7};
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m;
    std::memcpy(&m, data + i, 8);
    s.Compress(m);
  }
  // The last block: the remaining bytes, and the length's low byte on top.
  uint64_t last = uint64_t{len & 0xff} << 56;
  for (size_t i = 0; i < (len & 7); ++i) last |= uint64_t{data[whole + i]} << (8 * i);
  s.Compress(last);
  s.v2 ^= 0xff;
  s.Round();
  s.Round();
  s.Round();
  s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace sextant::dataplane
