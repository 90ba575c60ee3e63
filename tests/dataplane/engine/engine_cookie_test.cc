// DNS Cookies in the answer engine (RFC 7873, server cookies per RFC 9018; engine.cc ApplyCookie,
// dns_cookie.h): the COOKIE option parsed (malformed lengths: FORMERR), answered with a server
// cookie on UDP and TCP, a valid one recognised with the current or the previous secret within
// its hour, BADCOOKIE only when cookies are required, and nothing of it without a secret or with
// cookies disabled.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "dataplane/engine/dns_cookie.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/control_block.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Optional;

constexpr uint16_t kBadCookie = 23;
constexpr uint16_t kCookie = 10;
constexpr uint32_t kNow = 1559731985;  // RFC 9018 A.1's time
const std::string kSecretA = "e5e973e5a6b2a43f48e7dc849e37bfcf";
const std::string kSecretB = "445536bcd2513298075a5d379663c962";
const std::string kSecretC = "dd3bdf9344b678b185a6f5cb60fca715";
const std::string kClientCookie = "2464c4abcf10c957";

std::string Unhex(const std::string& hex) { return absl::HexStringToBytes(hex); }
std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }

// A zone, an engine with `cookies_yaml` as its `cookies:` section, and secrets of its own.
class CookieServer {
 public:
  explicit CookieServer(const std::string& cookies_yaml = "") {
    const std::string zone =
        "$ORIGIN diff.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
        "@ IN NS ns1\nns1 IN A 198.18.0.53\nwww IN A 198.18.1.1\nwww IN A 198.18.1.2\n";
    auto snap = sxt::BuildTestSnapshot({{"diff.test.", zone}}, "", 1,
                                       cookies_yaml.empty() ? "" : "cookies:\n" + cookies_yaml);
    EXPECT_TRUE(snap.ok()) << snap.status();
    snap_ = std::move(snap).value();
    engine_ = std::make_unique<Engine>(*snap_);
    engine_->set_cookie_secrets(&secrets_);
  }
  // Makes `hex` (16 bytes) the current secret; the current one becomes the previous.
  void Rotate(const std::string& hex) {
    const std::string k = Unhex(hex);
    uint64_t words[2];
    for (int w = 0; w < 2; ++w) {
      words[w] = 0;
      for (int i = 7; i >= 0; --i) words[w] = words[w] << 8 | static_cast<uint8_t>(k[8 * w + i]);
    }
    maps::RotateCookieKeys(secrets_, words, 1);
  }
  const Engine& engine() const { return *engine_; }

 private:
  std::unique_ptr<maps::SnapshotReader> snap_;
  std::unique_ptr<Engine> engine_;
  maps::CookieSecrets secrets_{};
};

ClientInfo Client(uint32_t now, bool tcp = false) {
  ClientInfo c;
  c.tcp = tcp;
  c.now = now;
  const uint8_t addr[4] = {198, 51, 100, 100};  // RFC 9018 A.1's client
  std::copy(addr, addr + 4, c.addr);
  return c;
}

Bytes CookieQuery(const std::string& cookie_bytes, const std::string& name = "www.diff.test") {
  sxt::QueryOptions o = Edns();
  o.options.push_back({kCookie, cookie_bytes});
  return sxt::MakeQuery(name, kA, o);
}

struct Outcome {
  Response r;
  AnswerInfo info;
};
Outcome AskCookie(const CookieServer& s, const std::string& cookie_hex, const ClientInfo& c) {
  const Bytes q = CookieQuery(Unhex(cookie_hex));
  return {Ask(s.engine(), q, c), AnswerRaw(s.engine(), q, c).info};
}

TEST(EngineCookies, AnswersAClientCookieWithRfc9018ServerCookie) {
  CookieServer s;
  s.Rotate(kSecretA);
  for (const bool tcp : {false, true}) {
    SCOPED_TRACE(tcp ? "TCP" : "UDP");
    const Outcome o = AskCookie(s, kClientCookie, Client(kNow, tcp));
    EXPECT_EQ(o.r.ext_rcode(), kNoError);
    EXPECT_THAT(Records(o.r), ElementsAreArray(kWwwA));
    // RFC 9018 A.1, byte for byte.
    EXPECT_THAT(o.r.option(kCookie),
                Optional(Unhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480")));
    EXPECT_TRUE(o.info.cookie_seen);
    EXPECT_FALSE(o.info.cookie_ok);
  }
}

TEST(EngineCookies, AcceptsItsServerCookieAndRenewsItAfterHalfAnHour) {
  CookieServer s;
  s.Rotate(kSecretA);
  const std::string a1 = "2464c4abcf10c957010000005cf79f111f8130c3eee29480";
  // Within half an hour the same cookie comes back (RFC 9018 section 4.3 allows the reuse).
  Outcome o = AskCookie(s, a1, Client(kNow + 10));
  EXPECT_TRUE(o.info.cookie_ok);
  EXPECT_THAT(o.r.option(kCookie), Optional(Unhex(a1)));
  // RFC 9018 A.2: 40 minutes later, still valid, and a fresh one is made.
  o = AskCookie(s, a1, Client(1559734385));
  EXPECT_TRUE(o.info.cookie_ok);
  EXPECT_THAT(o.r.option(kCookie),
              Optional(Unhex("2464c4abcf10c957010000005cf7a871d4a564a1442aca77")));
}

TEST(EngineCookies, ValidOnlyWithinTheHourAndFiveMinutesSkew) {
  CookieServer s;
  s.Rotate(kSecretA);
  const std::string a1 = "2464c4abcf10c957010000005cf79f111f8130c3eee29480";
  struct Case {
    int64_t now_offset;
    bool valid;
  } cases[] = {{0, true}, {3600, true}, {3601, false}, {-300, true}, {-301, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("now = stamp + ", c.now_offset));
    const Outcome o = AskCookie(s, a1, Client(static_cast<uint32_t>(kNow + c.now_offset)));
    EXPECT_EQ(o.info.cookie_ok, c.valid);
    EXPECT_EQ(o.r.ext_rcode(), kNoError);
    ASSERT_TRUE(o.r.option(kCookie).has_value());
    EXPECT_EQ(o.r.option(kCookie)->size(), 24u);
  }
}

TEST(EngineCookies, AcceptsThePreviousSecretDuringARolloverOnly) {
  CookieServer s;
  s.Rotate(kSecretA);
  const std::string a1 = "2464c4abcf10c957010000005cf79f111f8130c3eee29480";
  s.Rotate(kSecretB);  // A is the previous secret now
  Outcome o = AskCookie(s, a1, Client(kNow + 5));
  EXPECT_TRUE(o.info.cookie_ok);
  // Not reused: the answer carries a cookie made with the current secret.
  ASSERT_TRUE(o.r.option(kCookie).has_value());
  EXPECT_NE(Hex(*o.r.option(kCookie)), a1);
  const std::string renewed = Hex(*o.r.option(kCookie));
  EXPECT_TRUE(AskCookie(s, renewed, Client(kNow + 6)).info.cookie_ok);
  s.Rotate(kSecretC);  // A is gone
  o = AskCookie(s, a1, Client(kNow + 7));
  EXPECT_FALSE(o.info.cookie_ok);
  EXPECT_TRUE(AskCookie(s, renewed, Client(kNow + 8)).info.cookie_ok);  // B is the previous
}

TEST(EngineCookies, ForeignOrForgedServerCookiesAreReplaced) {
  CookieServer s;
  s.Rotate(kSecretA);
  for (const std::string& cookie : std::vector<std::string>{
           kClientCookie + "0102030405060708",                  // 8 bytes
           kClientCookie + "010000005cf79f111f8130c3eee29481",  // hash off by one
           kClientCookie + "020000005cf79f111f8130c3eee29480",  // version 2
           kClientCookie + std::string(64, 'a'),                // 32 bytes
           "2464c4abcf10c958010000005cf79f111f8130c3eee29480",  // other client
       }) {
    SCOPED_TRACE(cookie);
    const Outcome o = AskCookie(s, cookie, Client(kNow));
    EXPECT_FALSE(o.info.cookie_ok);
    EXPECT_EQ(o.r.ext_rcode(), kNoError);
    ASSERT_TRUE(o.r.option(kCookie).has_value());
    EXPECT_EQ(Hex(o.r.option(kCookie)->substr(0, 8)), cookie.substr(0, 16));
    EXPECT_EQ(Hex(o.r.option(kCookie)->substr(8, 8)), "010000005cf79f11");
  }
}

TEST(EngineCookies, MalformedLengthsAreFormErr) {
  CookieServer s;
  s.Rotate(kSecretA);
  for (const size_t len : {0, 1, 7, 9, 15, 41, 48}) {
    SCOPED_TRACE(absl::StrCat("COOKIE of ", len, " bytes"));
    const Response r = Ask(s.engine(), CookieQuery(std::string(len, 'x')), Client(kNow));
    EXPECT_EQ(r.ext_rcode(), kFormErr);
    EXPECT_TRUE(r.has_opt);
    EXPECT_EQ(r.option(kCookie), std::nullopt);
    EXPECT_THAT(r.answer, IsEmpty());
  }
  for (const size_t len : {8, 16, 24, 40}) {
    SCOPED_TRACE(absl::StrCat("COOKIE of ", len, " bytes"));
    const Response r = Ask(s.engine(), CookieQuery(std::string(len, 'x')), Client(kNow));
    EXPECT_EQ(r.ext_rcode(), kNoError);
    EXPECT_TRUE(r.option(kCookie).has_value());
  }
}

TEST(EngineCookies, OnlyTheFirstCookieOptionCounts) {
  CookieServer s;
  s.Rotate(kSecretA);
  sxt::QueryOptions o = Edns();
  o.options.push_back({kCookie, Unhex(kClientCookie)});
  o.options.push_back({kCookie, "bad"});
  const Response r = Ask(s.engine(), sxt::MakeQuery("www.diff.test", kA, o), Client(kNow));
  EXPECT_EQ(r.ext_rcode(), kNoError);
  EXPECT_THAT(r.option(kCookie),
              Optional(Unhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480")));
}

TEST(EngineCookies, BadCookieOnlyWhenRequiredAndOnlyOverUdp) {
  const std::string a1 = "2464c4abcf10c957010000005cf79f111f8130c3eee29480";
  struct Case {
    std::string yaml;
    std::string cookie;  // "" = no COOKIE option
    bool tcp;
    uint16_t rcode;
  } cases[] = {
      {"  require: true\n", kClientCookie, false, kBadCookie},
      {"  require: true\n", kClientCookie + "0102030405060708", false, kBadCookie},
      {"  require: true\n", kClientCookie, true, kNoError},  // TCP proves the address
      {"  require: true\n", a1, false, kNoError},            // a valid server cookie
      {"  require: true\n", "", false, kNoError},            // no cookie at all: answered
      {"  require: false\n", kClientCookie, false, kNoError},
      {"", kClientCookie, false, kNoError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.yaml, " cookie '", c.cookie, "'", c.tcp ? " TCP" : " UDP"));
    CookieServer s(c.yaml);
    s.Rotate(kSecretA);
    const Bytes q = c.cookie.empty() ? sxt::MakeQuery("www.diff.test", kA, Edns())
                                     : CookieQuery(Unhex(c.cookie));
    const Response r = Ask(s.engine(), q, Client(kNow, c.tcp));
    EXPECT_EQ(r.ext_rcode(), c.rcode);
    EXPECT_EQ(r.option(kCookie).has_value(), !c.cookie.empty());
    if (c.rcode == kBadCookie) {
      EXPECT_THAT(r.answer, IsEmpty());
      EXPECT_FALSE(r.aa());
      EXPECT_EQ(r.qname, "www.diff.test.");
      // The new cookie to retry with.
      EXPECT_THAT(r.option(kCookie),
                  Optional(Unhex("2464c4abcf10c957010000005cf79f111f8130c3eee29480")));
    } else {
      EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
    }
  }
}

TEST(EngineCookies, IgnoredWhenDisabledOrWithoutASecret) {
  {
    CookieServer s("  enabled: false\n");
    s.Rotate(kSecretA);
    for (const std::string& cookie : {Unhex(kClientCookie), std::string("bad")}) {
      const Response r = Ask(s.engine(), CookieQuery(cookie), Client(kNow));
      EXPECT_EQ(r.ext_rcode(), kNoError);
      EXPECT_EQ(r.option(kCookie), std::nullopt);
    }
  }
  {
    CookieServer s("  require: true\n");  // no secret published yet
    const Outcome o = AskCookie(s, kClientCookie, Client(kNow));
    EXPECT_EQ(o.r.ext_rcode(), kNoError);
    EXPECT_EQ(o.r.option(kCookie), std::nullopt);
    EXPECT_FALSE(o.info.cookie_seen);
    EXPECT_FALSE(o.info.cookie_ok);
  }
}

TEST(EngineCookies, KeepsRoomForTheCookieWhenTruncating) {
  // The answer is sized with the COOKIE option reserved: it never overflows the UDP limit.
  CookieServer s;
  s.Rotate(kSecretA);
  sxt::QueryOptions o = Edns(512);
  o.options.push_back({kCookie, Unhex(kClientCookie)});
  const Response r = Ask(s.engine(), sxt::MakeQuery("diff.test", kAny, o), Client(kNow));
  EXPECT_LE(r.size, 512u);
  EXPECT_TRUE(r.option(kCookie).has_value());
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
