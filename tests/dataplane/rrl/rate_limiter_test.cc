#include "dataplane/rrl/rate_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "maps/dns/query_builder.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

using maps::kRrlAnswer;
using maps::kRrlError;
using maps::kRrlNodata;
using maps::kRrlNxdomain;

constexpr uint64_t kSecond = 1000000000;

ClientInfo Client(const std::string& text) {
  ClientInfo c;
  if (text.find(':') != std::string::npos) {
    c.family = 6;
    EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), c.addr), 1) << text;
  } else {
    c.family = 4;
    EXPECT_EQ(inet_pton(AF_INET, text.c_str(), c.addr), 1) << text;
  }
  return c;
}

// 10 answers per second for the whole dataplane, a one-second bucket, slip 2, /24 and /56.
maps::RateLimitSettings Settings(uint32_t per_second = 10) {
  maps::RateLimitSettings s{};
  for (uint32_t& r : s.per_second) r = per_second;
  s.window = 1;
  s.table_size = 1024;
  s.slip = 2;
  s.ipv4_prefix = 24;
  s.ipv6_prefix = 56;
  return s;
}

void AddExempt(maps::RateLimitSettings* s, const std::string& addr, uint8_t length) {
  maps::RateLimitPrefix& p = s->exempt[s->exempt_count++];
  const ClientInfo c = Client(addr);
  p.family = c.family;
  p.length = length;
  std::memcpy(p.addr, c.addr, sizeof(p.addr));
}

// How many of `n` responses of class `cls` to `client` pass, at the limiter's current time.
int Passed(RateLimiter& l, const ClientInfo& client, int n, maps::RateLimitClass cls = kRrlAnswer) {
  int passed = 0;
  for (int i = 0; i < n; ++i) passed += l.Check(client, cls) == RrlVerdict::kPass;
  return passed;
}

struct Fixture {
  explicit Fixture(const maps::RateLimitSettings& s, uint32_t shares = 1) : l(shares, 42) {
    l.Update(&s, 1);
    l.set_now(1000 * kSecond);
  }
  RateLimiter l;
};

TEST(RateLimiter, PassesTheBurstThenLimits) {
  Fixture f(Settings());
  EXPECT_EQ(Passed(f.l, Client("192.0.2.1"), 25), 10);  // the bucket: 10/s x 1 s
}

TEST(RateLimiter, RefillsAtTheConfiguredRate) {
  Fixture f(Settings());
  const ClientInfo c = Client("192.0.2.1");
  EXPECT_EQ(Passed(f.l, c, 10), 10);
  EXPECT_EQ(Passed(f.l, c, 1), 0);
  f.l.set_now(1000 * kSecond + kSecond / 10);  // 100 ms: one response's worth
  EXPECT_EQ(Passed(f.l, c, 5), 1);
  f.l.set_now(1000 * kSecond + kSecond / 10 + kSecond / 2);  // 500 ms more: five
  EXPECT_EQ(Passed(f.l, c, 10), 5);
  f.l.set_now(2000 * kSecond);  // a long pause refills to the window, not beyond
  EXPECT_EQ(Passed(f.l, c, 30), 10);
}

TEST(RateLimiter, KeysByPrefix) {
  struct Row {
    std::string other;
    bool same_bucket;
  };
  const std::vector<Row> rows = {
      {"192.0.2.200", true},
      {"192.0.3.1", false},
      {"2001:db8:0:ff::1", true},    // the same /56 as 2001:db8:0:1::1
      {"2001:db8:0:100::1", false},  // the next /56
  };
  for (const Row& r : rows) {
    Fixture f(Settings());
    const bool v6 = r.other.find(':') != std::string::npos;
    EXPECT_EQ(Passed(f.l, Client(v6 ? "2001:db8:0:1::1" : "192.0.2.1"), 10), 10);
    EXPECT_EQ(Passed(f.l, Client(r.other), 1), r.same_bucket ? 0 : 1) << r.other;
  }
}

TEST(RateLimiter, PrefixLengthsAreSettable) {
  maps::RateLimitSettings s = Settings();
  s.ipv4_prefix = 32;
  s.ipv6_prefix = 64;
  Fixture f(s);
  EXPECT_EQ(Passed(f.l, Client("192.0.2.1"), 10), 10);
  EXPECT_EQ(Passed(f.l, Client("192.0.2.2"), 1), 1);
  EXPECT_EQ(Passed(f.l, Client("2001:db8::1"), 10), 10);
  EXPECT_EQ(Passed(f.l, Client("2001:db8:0:0:1::1"), 10), 0);  // same /64
  EXPECT_EQ(Passed(f.l, Client("2001:db8:0:1::1"), 1), 1);
}

TEST(RateLimiter, EachClassHasItsOwnBucketAndRate) {
  maps::RateLimitSettings s = Settings();
  s.per_second[kRrlAnswer] = 10;
  s.per_second[kRrlNxdomain] = 3;
  s.per_second[kRrlNodata] = 5;
  s.per_second[kRrlError] = 0;  // not limited
  Fixture f(s);
  const ClientInfo c = Client("192.0.2.1");
  EXPECT_EQ(Passed(f.l, c, 20, kRrlAnswer), 10);
  EXPECT_EQ(Passed(f.l, c, 20, kRrlNxdomain), 3);
  EXPECT_EQ(Passed(f.l, c, 20, kRrlNodata), 5);
  EXPECT_EQ(Passed(f.l, c, 1000, kRrlError), 1000);
}

TEST(RateLimiter, SlipSendsEveryNthLimitedResponseTruncated) {
  struct Row {
    uint8_t slip;
    int slipped_of_12;
  };
  for (const Row r : {Row{0, 0}, Row{1, 12}, Row{2, 6}, Row{3, 4}, Row{10, 1}}) {
    maps::RateLimitSettings s = Settings();
    s.slip = r.slip;
    Fixture f(s);
    const ClientInfo c = Client("192.0.2.1");
    Passed(f.l, c, 10);
    int slipped = 0, dropped = 0;
    for (int i = 0; i < 12; ++i) {
      const RrlVerdict v = f.l.Check(c, kRrlAnswer);
      slipped += v == RrlVerdict::kSlip;
      dropped += v == RrlVerdict::kDrop;
    }
    EXPECT_EQ(slipped, r.slipped_of_12) << "slip " << int{r.slip};
    EXPECT_EQ(dropped, 12 - r.slipped_of_12) << "slip " << int{r.slip};
  }
}

TEST(RateLimiter, ExemptPrefixesAreNeverLimited) {
  maps::RateLimitSettings s = Settings();
  AddExempt(&s, "198.51.100.0", 24);
  AddExempt(&s, "2001:db8:ab00::", 40);
  AddExempt(&s, "203.0.113.128", 25);
  Fixture f(s);
  EXPECT_EQ(Passed(f.l, Client("198.51.100.7"), 1000), 1000);
  EXPECT_EQ(Passed(f.l, Client("2001:db8:abff::1"), 1000), 1000);
  EXPECT_EQ(Passed(f.l, Client("203.0.113.200"), 1000), 1000);
  EXPECT_EQ(Passed(f.l, Client("203.0.113.5"), 1000), 10);  // the other half of the /24
  EXPECT_EQ(Passed(f.l, Client("2001:db8:ac00::1"), 1000), 10);
}

TEST(RateLimiter, SharesTheRateAmongLcoresRoundingUp) {
  struct Row {
    uint32_t per_second, shares, expect;
  };
  for (const Row r : {Row{100, 4, 25}, Row{10, 4, 3}, Row{10, 1, 10}, Row{1, 8, 1}}) {
    Fixture f(Settings(r.per_second), r.shares);
    EXPECT_EQ(f.l.share_per_second(kRrlAnswer), r.expect);
    EXPECT_EQ(Passed(f.l, Client("192.0.2.1"), 1000), static_cast<int>(r.expect));
  }
}

TEST(RateLimiter, CollisionsEvictTheLeastRecentlyUsedWithoutForgettingAFlood) {
  maps::RateLimitSettings s = Settings();
  s.table_size = 64;
  Fixture f(s);
  const ClientInfo flood = Client("192.0.2.1");
  uint64_t now = 1000 * kSecond;
  EXPECT_EQ(Passed(f.l, flood, 10), 10);
  int flood_passed = 0, others_passed = 0;
  // 5000 other prefixes once each, far more than the table holds: every one is new (and passes),
  // while the flooder, touched between them, stays in the table and stays limited.
  for (int i = 0; i < 5000; ++i) {
    now += 1000;  // 1 us: time moves so that recency orders the ways
    f.l.set_now(now);
    const std::string other =
        "10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".1";
    others_passed += Passed(f.l, Client(other), 1);
    flood_passed += Passed(f.l, flood, 1);
  }
  EXPECT_EQ(others_passed, 5000);
  // 5 ms of refill at 10/s is 0.05 of a response.
  EXPECT_EQ(flood_passed, 0);
}

TEST(RateLimiter, ReloadKeepsBucketsUnlessTheGeometryChanges) {
  maps::RateLimitSettings s = Settings();
  Fixture f(s);
  const ClientInfo c = Client("192.0.2.1");
  EXPECT_EQ(Passed(f.l, c, 10), 10);
  s.per_second[kRrlAnswer] = 20;  // new rates, same geometry: still empty
  f.l.Update(&s, 2);
  EXPECT_EQ(Passed(f.l, c, 1), 0);
  f.l.Update(nullptr, 3);  // off: everything passes
  EXPECT_FALSE(f.l.active());
  f.l.Update(&s, 4);  // on again: the bucket is remembered
  EXPECT_EQ(Passed(f.l, c, 1), 0);
  s.table_size = 2048;  // a new table: empty, full buckets
  f.l.Update(&s, 5);
  EXPECT_EQ(f.l.table_size(), 2048u);
  EXPECT_EQ(Passed(f.l, c, 30), 20);
  s.ipv4_prefix = 16;  // new prefixes: the old keys mean nothing
  f.l.Update(&s, 6);
  EXPECT_EQ(Passed(f.l, c, 30), 20);
  f.l.Update(&s, 6);  // the same generation again: nothing changes
  EXPECT_EQ(Passed(f.l, c, 1), 0);
}

std::vector<uint8_t> Response(uint8_t rcode, uint16_t ancount) {
  std::vector<uint8_t> r =
      maps::dns::BuildQuery("www.example.test", maps::dns::kTypeA, {.edns_size = 1232});
  r[maps::dns::kOffFlags1] |= maps::dns::kFlag1Qr;
  r[maps::dns::kOffFlags2] = rcode;
  maps::dns::Put16(r.data() + maps::dns::kOffAncount, ancount);
  return r;
}

TEST(RateLimiter, ClassifiesByRcodeAndAnswerCount) {
  struct Row {
    uint16_t rcode;
    uint16_t ancount;
    maps::RateLimitClass cls;
  };
  const std::vector<Row> rows = {{0, 1, kRrlAnswer},   {0, 0, kRrlNodata}, {3, 0, kRrlNxdomain},
                                 {3, 2, kRrlNxdomain}, {5, 0, kRrlError},  {2, 0, kRrlError},
                                 {1, 0, kRrlError},    {16, 0, kRrlError}};
  for (const Row& r : rows) {
    const std::vector<uint8_t> resp = Response(static_cast<uint8_t>(r.rcode & 0xf), r.ancount);
    AnswerInfo info;
    info.rcode = r.rcode;
    EXPECT_EQ(RateLimiter::Classify(resp.data(), resp.size(), info), r.cls)
        << r.rcode << "/" << r.ancount;
  }
}

TEST(RateLimiter, TruncateKeepsHeaderAndQuestionWithTc) {
  std::vector<uint8_t> r = Response(0, 1);
  const size_t question = maps::dns::kHeaderSize + 18 + 4;  // www.example.test: 18 octets
  const size_t len = RateLimiter::Truncate(r.data(), r.size());
  EXPECT_EQ(len, question);
  EXPECT_TRUE(r[maps::dns::kOffFlags1] & maps::dns::kFlag1Tc);
  EXPECT_TRUE(r[maps::dns::kOffFlags1] & maps::dns::kFlag1Qr);
  EXPECT_EQ(maps::dns::Get16(r.data() + maps::dns::kOffQdcount), 1);
  EXPECT_EQ(maps::dns::Get16(r.data() + maps::dns::kOffAncount), 0);
  EXPECT_EQ(maps::dns::Get16(r.data() + maps::dns::kOffArcount), 0);
  // No question (or a broken one): the header alone.
  std::vector<uint8_t> h(r.begin(), r.begin() + 12 + 5);
  EXPECT_EQ(RateLimiter::Truncate(h.data(), h.size()), maps::dns::kHeaderSize);
  EXPECT_EQ(maps::dns::Get16(h.data() + maps::dns::kOffQdcount), 0);
}

TEST(RateLimiter, ApplyCountsAndSparesTcpCookiesAndInactive) {
  maps::RateLimitSettings s = Settings();
  s.slip = 2;
  Fixture f(s);
  maps::LcoreCounters ctr{};
  ClientInfo c = Client("192.0.2.1");
  AnswerInfo info;
  std::vector<uint8_t> r = Response(0, 1);
  int passed = 0, dropped = 0, truncated = 0;
  for (int i = 0; i < 20; ++i) {
    std::vector<uint8_t> copy = r;
    const size_t out = f.l.Apply(c, copy.data(), copy.size(), info, &ctr);
    passed += out == r.size();
    dropped += out == 0;
    truncated += out != 0 && out < r.size();
  }
  EXPECT_EQ(passed, 10);
  EXPECT_EQ(dropped, 5);
  EXPECT_EQ(truncated, 5);
  EXPECT_EQ(ctr.rrl_limited, 10u);
  EXPECT_EQ(ctr.rrl_slipped, 5u);
  c.tcp = true;
  EXPECT_EQ(f.l.Apply(c, r.data(), r.size(), info, &ctr), r.size());
  c.tcp = false;
  info.cookie_ok = true;
  EXPECT_EQ(f.l.Apply(c, r.data(), r.size(), info, &ctr), r.size());
  info.cookie_ok = false;
  f.l.Update(nullptr, 9);
  EXPECT_EQ(f.l.Apply(c, r.data(), r.size(), info, &ctr), r.size());
  EXPECT_EQ(ctr.rrl_limited, 10u);
}

TEST(RateLimiter, SeedsDiffer) { EXPECT_NE(RateLimiter::RandomSeed(), RateLimiter::RandomSeed()); }

}  // namespace
}  // namespace sextant::dataplane
