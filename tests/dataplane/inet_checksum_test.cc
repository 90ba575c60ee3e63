#include "dataplane/inet_checksum.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace sextant::dataplane {
namespace {

// RFC 1071 as written: big-endian 16-bit words, the odd byte padded with a zero, carries folded
// back one at a time.
uint16_t NaiveBigEndianSum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i += 2) {
    sum += static_cast<uint32_t>(p[i]) << 8 | (i + 1 < n ? p[i + 1] : 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

// The sum of native-order words reads, byte-swapped on a little-endian host, as the big-endian
// sum (RFC 1071 section 2(B)).
uint16_t AsBigEndian(uint16_t native) {
  return std::endian::native == std::endian::little ? __builtin_bswap16(native) : native;
}

TEST(InetChecksum, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(AsBigEndian(Fold(RawSum(bytes, sizeof bytes, 0))), 0xddf2);
  EXPECT_EQ(AsBigEndian(Fold(RawSumPortable(bytes, sizeof bytes, 0))), 0xddf2);
}

// Every length from 0 to 300 at every alignment of the start, random bytes and a random start
// value of the size callers pass (pseudo-header sums): the word-at-a-time sum folds to what the
// portable one and RFC 1071's own loop give, and stays small enough to add more to.
TEST(InetChecksum, MatchesTheReferenceAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(1071);
  std::vector<uint8_t> buf(320 + 8);
  for (int round = 0; round < 4; ++round) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    for (size_t offset = 0; offset < 8; ++offset) {
      for (size_t n = 0; n <= 300; ++n) {
        const uint8_t* p = buf.data() + offset;
        const uint64_t acc = rng() >> 30;  // under 2^34
        const uint64_t s = RawSum(p, n, acc);
        ASSERT_LT(s, uint64_t{1} << 34) << "n " << n << " offset " << offset;
        ASSERT_EQ(Fold(s), Fold(RawSumPortable(p, n, acc))) << "n " << n << " offset " << offset;
        ASSERT_EQ(AsBigEndian(Fold(RawSum(p, n, 0))), NaiveBigEndianSum(p, n))
            << "n " << n << " offset " << offset;
      }
    }
  }
}

// All-ones data carries out of every word: the end-around carries must all come back.
TEST(InetChecksum, CarriesOutOfEveryWordComeBack) {
  const std::vector<uint8_t> ones(2048, 0xff);
  for (size_t n : {8u, 9u, 31u, 32u, 33u, 64u, 1500u, 2048u}) {
    EXPECT_EQ(AsBigEndian(Fold(RawSum(ones.data(), n, 0))), NaiveBigEndianSum(ones.data(), n)) << n;
    EXPECT_EQ(Fold(RawSum(ones.data(), n, 0xffffffffu)),
              Fold(RawSumPortable(ones.data(), n, 0xffffffffu)))
        << n;
  }
}

// A checksum stored as the complement of the sum makes the whole sum to 0xffff (negative zero),
// the test a receiver applies, wherever the checksum field sits.
TEST(InetChecksum, StoredComplementMakesTheSumCheck) {
  std::mt19937_64 rng(768);
  std::vector<uint8_t> buf(200);
  for (size_t n = 2; n <= buf.size(); n += 2) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    const size_t field = (rng() % (n / 2)) * 2;
    buf[field] = buf[field + 1] = 0;
    const auto c = static_cast<uint16_t>(~Fold(RawSum(buf.data(), n, 0)));
    std::memcpy(&buf[field], &c, 2);
    ASSERT_EQ(Fold(RawSum(buf.data(), n, 0)), 0xffff) << n;
  }
}

}  // namespace
}  // namespace sextant::dataplane
