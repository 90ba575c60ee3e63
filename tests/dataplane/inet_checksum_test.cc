#include "dataplane/inet_checksum.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "tests/dataplane/frame_builders.h"

namespace sextant::dataplane {
namespace {

using packet_path_test::Checksum;

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

// The packet path's checksum (InternetChecksum, its RawSum and Fold) against the RFC 1071
// sum written word by word in frame_builders: every length from 0 to 300 at every start alignment,
// over data that carries in every word (all 0xff), none (all 0), alternating and random bytes,
// and with initial sums up to 2^40. On x86-64 RawSum is the ADC asm: it must fold to what the
// portable loop gives, and its result stay under 2^33, which callers go on adding to.
TEST(InetChecksum, MatchesTheWordByWordSum) {
  std::vector<std::vector<uint8_t>> patterns;
  patterns.emplace_back(310, 0xff);
  patterns.emplace_back(310, 0x00);
  std::vector<uint8_t> alternating(310), random(310);
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < random.size(); ++i) {
    alternating[i] = i % 2 != 0 ? 0xff : 0x01;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    random[i] = static_cast<uint8_t>(x);
  }
  patterns.push_back(alternating);
  patterns.push_back(random);
  // An initial sum is in native order (the packet path's pseudo-header sums), on this little-
  // endian host; its big-endian equivalent is the byte swap of its 16-bit fold.
  const auto be_equivalent = [](uint64_t native) {
    while (native >> 16) native = (native & 0xffff) + (native >> 16);
    return uint64_t{__builtin_bswap16(static_cast<uint16_t>(native))};
  };
  // Initial sums as the packet path makes them: a few 16-bit fields and earlier sums.
  const uint64_t initials[] = {0, 0x1234, 0xffff, 0x1ffffffffu, 0xffffffffffu};
  for (size_t pi = 0; pi < patterns.size(); ++pi) {
    for (size_t start = 0; start < 8; ++start) {
      for (size_t len = 0; start + len <= 300 + 8 && len <= 300; ++len) {
        for (uint64_t initial : initials) {
          const uint8_t* p = patterns[pi].data() + start;
          // Native order out as well: the bytes as stored, read big-endian.
          ASSERT_EQ(__builtin_bswap16(InternetChecksum(p, len, initial)),
                    Checksum(p, len, be_equivalent(initial)))
              << "pattern " << pi << ", start " << start << ", length " << len << ", initial "
              << initial;
          const uint64_t sum = RawSum(p, len, initial);
          ASSERT_EQ(Fold(sum), Fold(RawSumPortable(p, len, initial)))
              << "pattern " << pi << ", start " << start << ", length " << len;
#if defined(__x86_64__)
          ASSERT_LT(sum, uint64_t{1} << 33) << len;  // the asm's fold (the portable's: 2^41)
#endif
        }
      }
    }
  }
}

}  // namespace
}  // namespace sextant::dataplane
