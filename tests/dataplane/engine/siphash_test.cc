// SipHash-2-4 against the reference vectors (Aumasson and Bernstein's paper, appendix A, and the
// reference implementation's vectors.h: key 00..0f, message 00, 01, ... of each length), and the
// RFC 9018 server cookie construction against its appendix A examples.
#include "dataplane/engine/siphash.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "dataplane/engine/dns_cookie.h"
#include "gtest/gtest.h"

namespace sextant::dataplane {
namespace {

std::vector<uint8_t> Hex(const std::string& hex) {
  const std::string bytes = absl::HexStringToBytes(hex);
  return {bytes.begin(), bytes.end()};
}

uint64_t Le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

TEST(SipHash24, MatchesTheReferenceVectors) {
  struct Case {
    size_t len;  // message 00 01 02 ... of this length
    uint64_t want;
  } cases[] = {
      {0, 0x726fdb47dd0e0e31ULL},   // vectors.h [0]
      {1, 0x74f839c593dc67fdULL},   // [1]
      {8, 0x93f5f5799a932462ULL},   // [8]: one whole block, then the length block
      {15, 0xa129ca6149be45e5ULL},  // the paper's appendix A example
  };
  const std::vector<uint8_t> key = Hex("000102030405060708090a0b0c0d0e0f");
  std::vector<uint8_t> msg(64);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i);
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("length ", c.len));
    EXPECT_EQ(SipHash24(Le64(key.data()), Le64(key.data() + 8), msg.data(), c.len), c.want);
  }
}

// RFC 9018 appendix A: the server cookies its examples show, byte for byte.
TEST(ServerCookie, MatchesRfc9018Examples) {
  struct Case {
    std::string name, secret, client_cookie, ip;
    uint32_t at;
    std::string want;
  } cases[] = {
      {"A.1 learning a new server cookie", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957",
       "c6336464", 1559731985, "010000005cf79f111f8130c3eee29480"},
      {"A.2 the same client renewing it", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957",
       "c6336464", 1559734385, "010000005cf7a871d4a564a1442aca77"},
      {"A.3 another client", "e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "cb0071cb",
       1559734700, "010000005cf7a9acf73a7810aca2381e"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<uint8_t> key = Hex(c.secret), cc = Hex(c.client_cookie), ip = Hex(c.ip);
    uint8_t sc[kServerCookieSize] = {1, 0, 0, 0};
    MakeServerHash(cc.data(), ip.data(), 4, c.at, Le64(key.data()), Le64(key.data() + 8), sc);
    EXPECT_EQ(absl::BytesToHexString(std::string(sc, sc + sizeof(sc))), c.want);
  }
}

// The cookies the examples have clients send back: the reserved bytes a client sent are part of
// the hash (A.3), and an IPv6 client's cookie matches the old secret only (A.4).
TEST(ServerCookie, ChecksRfc9018ReturnedCookies) {
  struct Case {
    std::string name, secret, cookie, ip;
    uint8_t family;
    bool want;
  } cases[] = {
      {"A.3 reserved bytes set by another server", "e5e973e5a6b2a43f48e7dc849e37bfcf",
       "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "cb0071cb", 4, true},
      {"A.3 from another address", "e5e973e5a6b2a43f48e7dc849e37bfcf",
       "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "cb0071cc", 4, false},
      {"A.4 made with the old secret", "dd3bdf9344b678b185a6f5cb60fca715",
       "22681ab97d52c298010000005cf7c57926556bd0934c72f8", "20010db80220000159ded0f4876982b8", 6,
       true},
      {"A.4 not with the new one", "445536bcd2513298075a5d379663c962",
       "22681ab97d52c298010000005cf7c57926556bd0934c72f8", "20010db80220000159ded0f4876982b8", 6,
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<uint8_t> key = Hex(c.secret), cookie = Hex(c.cookie), ip = Hex(c.ip);
    EXPECT_EQ(ServerCookieMatches(cookie.data(), cookie.data() + kClientCookieSize, ip.data(),
                                  c.family, Le64(key.data()), Le64(key.data() + 8)),
              c.want);
  }
}

TEST(ServerCookie, AgeUsesSerialArithmetic) {
  EXPECT_EQ(CookieAge(100, 100), 0);
  EXPECT_EQ(CookieAge(100, 3700), 3600);
  EXPECT_EQ(CookieAge(400, 100), -300);
  EXPECT_EQ(CookieAge(4294964696u, 1000), 3600);  // stamped before the wrap, read after it
}

}  // namespace
}  // namespace sextant::dataplane
