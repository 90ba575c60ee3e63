// The engine's short copies and compares (dataplane/engine/bytes.h) against memcpy, memcmp and a
// byte-wise lowering, for every length from 1 to 100: each takes a different path at 8, 16 and
// 32 bytes and at each further 16, and must never write outside [dst, dst + n).
#include "dataplane/engine/bytes.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/engine/query.h"
#include "gtest/gtest.h"
#include "maps/name_table.h"

namespace sextant::dataplane {
namespace {

constexpr size_t kMaxLen = 100;
constexpr size_t kGuard = 16;  // canary bytes on each side of the destination
constexpr uint8_t kCanary = 0xA5;

// Deterministic bytes with capitals, small letters and the bytes around them.
std::vector<uint8_t> Source(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    v[i] = static_cast<uint8_t>(seed >> 16);
    if (i % 3 == 0) v[i] = static_cast<uint8_t>('@' + (seed >> 8) % 28);  // '@'..'[': A-Z edges
  }
  return v;
}

uint8_t LowerByte(uint8_t b) { return b >= 'A' && b <= 'Z' ? b | 0x20 : b; }

// dst gets the guards; returns the bytes between them.
template <typename Copy>
std::vector<uint8_t> Guarded(size_t n, Copy copy) {
  std::vector<uint8_t> buf(n + 2 * kGuard, kCanary);
  copy(buf.data() + kGuard);
  for (size_t i = 0; i < kGuard; ++i) {
    EXPECT_EQ(buf[i], kCanary) << "n=" << n << ": wrote before dst at -" << (kGuard - i);
    EXPECT_EQ(buf[kGuard + n + i], kCanary) << "n=" << n << ": wrote past dst + n at +" << i;
  }
  return {buf.begin() + kGuard, buf.begin() + kGuard + static_cast<std::ptrdiff_t>(n)};
}

uint8_t SameByte(uint8_t b) { return b; }

TEST(Bytes, CopiesWriteExactlyNBytes) {
  struct Copier {
    const char* name;
    void (*copy)(uint8_t*, const uint8_t*, size_t);
    uint8_t (*expect)(uint8_t);  // what becomes of each byte
  };
  for (const Copier& c :
       {Copier{"CopyBytes", CopyBytes, SameByte}, Copier{"CopyLower", CopyLower, LowerByte}}) {
    for (size_t n = 1; n <= kMaxLen; ++n) {
      const std::vector<uint8_t> src = Source(n, static_cast<uint32_t>(n) * 7);
      std::vector<uint8_t> want(src);
      for (uint8_t& b : want) b = c.expect(b);
      const std::vector<uint8_t> got =
          Guarded(n, [&](uint8_t* dst) { c.copy(dst, src.data(), n); });
      EXPECT_EQ(got, want) << c.name << " n=" << n;
    }
  }
}

// The question's copy and hash at once (query.h): the bytes CopyLower writes, no others, and
// the name table's hash of them, whichever way a length takes (8 to 16 and 17 to 32 bytes hash
// from registers, the others from the copy).
TEST(Bytes, CopyLowerHashedIsCopyLowerThenNameHash) {
  for (size_t n = 1; n <= 255; ++n) {
    const std::vector<uint8_t> src = Source(n, static_cast<uint32_t>(n) * 13);
    std::vector<uint8_t> want(src);
    for (uint8_t& b : want) b = LowerByte(b);
    uint64_t hash = 0;
    const std::vector<uint8_t> got =
        Guarded(n, [&](uint8_t* dst) { hash = CopyLowerHashed(dst, src.data(), n); });
    EXPECT_EQ(got, want) << "n=" << n;
    EXPECT_EQ(hash, maps::NameHash(want.data(), n)) << "n=" << n;
  }
}

TEST(Bytes, BytesEqualFindsEveryDifferingByte) {
  for (size_t n = 1; n <= kMaxLen; ++n) {
    const std::vector<uint8_t> a = Source(n, static_cast<uint32_t>(n) * 13);
    std::vector<uint8_t> b(a);
    EXPECT_TRUE(BytesEqual(a.data(), b.data(), n)) << "n=" << n;
    for (size_t i = 0; i < n; ++i) {
      for (const uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}}) {
        b[i] ^= flip;
        EXPECT_FALSE(BytesEqual(a.data(), b.data(), n)) << "n=" << n << " byte " << i;
        b[i] ^= flip;
      }
    }
  }
}

}  // namespace
}  // namespace sextant::dataplane
