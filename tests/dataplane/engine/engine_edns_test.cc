// EDNS (RFC 6891) and its options: the OPT echoed with our UDP size, the DO bit, unknown options,
// NSID, and ECS (RFC 7871) echoed when valid and answered with FORMERR when not.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Pair;

// ---------------------------------------------------------------------------------------------
// EDNS (RFC 6891) and its options

TEST(Engine, EchoesOptWithOurUdpSize) {
  struct Case {
    std::string server_yaml;
    int client_size;
    uint16_t advertised;
  } cases[] = {
      {"", 4096, 1232},
      {"", 512, 1232},
      {"", 0, 1232},
      {"  edns_udp_size: 4096\n", 1232, 4096},
      {"  edns_udp_size: 512\n", 4096, 512},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("server '", c.server_yaml, "' client ", c.client_size));
    const Server s = MakeServer(c.server_yaml);
    const Response r = Ask(*s.engine, "www.diff.test", kA, Edns(c.client_size));
    EXPECT_EQ(r.rcode(), kNoError);
    ASSERT_TRUE(r.has_opt);
    EXPECT_EQ(r.arcount, 1);
    EXPECT_EQ(r.opt_udp_size, c.advertised);
    EXPECT_EQ(r.opt_version, 0);
    EXPECT_EQ(r.opt_ext_rcode, 0);
    EXPECT_FALSE(r.opt_do);
    EXPECT_THAT(r.opt_options, IsEmpty());
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
  }
}

TEST(Engine, CopiesDoBit) {
  for (const bool do_bit : {false, true}) {
    SCOPED_TRACE(do_bit);
    sxt::QueryOptions o = Edns();
    o.do_bit = do_bit;
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    ASSERT_TRUE(r.has_opt);
    EXPECT_EQ(r.opt_do, do_bit);
    EXPECT_FALSE(r.ad());
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));  // unsigned zone: nothing else changes
  }
}

TEST(Engine, IgnoresUnknownEdnsOptions) {
  for (const uint16_t code : {uint16_t{65001}, uint16_t{10} /* COOKIE */, uint16_t{12}}) {
    SCOPED_TRACE(code);
    sxt::QueryOptions o = Edns();
    o.options = {{code, "12345678"}};
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
    ASSERT_TRUE(r.has_opt);
    EXPECT_THAT(r.opt_options, IsEmpty());
  }
}

TEST(Engine, EchoesNsidWhenConfiguredAndRequested) {
  const Server with = MakeServer("  nsid: sextant-test-nsid\n");
  struct Case {
    std::string what;
    const Engine* engine;
    std::string qname;
    std::vector<std::pair<uint16_t, std::string>> options;
    std::vector<std::pair<uint16_t, std::string>> expected;
  } cases[] = {
      {"requested", with.engine.get(), "www.diff.test", {{3, ""}}, {{3, "sextant-test-nsid"}}},
      {"requested with data",
       with.engine.get(),
       "www.diff.test",
       {{3, "xx"}},
       {{3, "sextant-test-nsid"}}},
      {"on a REFUSED answer too",
       with.engine.get(),
       "www.example.com",
       {{3, ""}},
       {{3, "sextant-test-nsid"}, {15, B({0, 20})}}},
      {"not requested", with.engine.get(), "www.diff.test", {}, {}},
      {"not configured", &DefaultEngine(), "www.diff.test", {{3, ""}}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.options = c.options;
    const Response r = Ask(*c.engine, c.qname, kA, o);
    ASSERT_TRUE(r.has_opt);
    EXPECT_THAT(r.opt_options, ElementsAreArray(c.expected));
  }
}

TEST(Engine, EchoesValidEcsWithScopeZero) {
  struct Case {
    std::string what;
    std::string ecs;  // FAMILY, SOURCE PREFIX, SCOPE PREFIX, ADDRESS
  } cases[] = {
      {"IPv4 /24", B({0, 1, 24, 0, 198, 18, 1})},
      {"IPv4 /0", B({0, 1, 0, 0})},
      {"IPv4 /32", B({0, 1, 32, 0, 198, 18, 1, 7})},
      {"IPv4 /20, low bits clear", B({0, 1, 20, 0, 198, 18, 0x10})},
      {"IPv6 /56", B({0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0})},
      {"IPv6 /128", B({0, 2, 128, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.options = {{8, c.ecs}};
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
    ASSERT_TRUE(r.has_opt);
    // Same family, source prefix and address; scope 0 (the answer does not depend on it).
    EXPECT_THAT(r.opt_options, ElementsAre(Pair(8, c.ecs)));
  }
}

TEST(Engine, AnswersInvalidEcsWithFormerr) {
  struct Case {
    std::string what;
    std::vector<std::pair<uint16_t, std::string>> options;
  } cases[] = {
      {"family 3", {{8, B({0, 3, 24, 0, 198, 18, 1})}}},
      {"family 0", {{8, B({0, 0, 0, 0})}}},
      {"IPv4 prefix 33", {{8, B({0, 1, 33, 0, 198, 18, 1, 1, 0})}}},
      {"IPv6 prefix 129",
       {{8, B({0, 2, 129, 0, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0})}}},
      {"bits set beyond the prefix", {{8, B({0, 1, 20, 0, 198, 18, 0x11})}}},
      {"address longer than the prefix", {{8, B({0, 1, 24, 0, 198, 18, 1, 0})}}},
      {"address shorter than the prefix", {{8, B({0, 1, 24, 0, 198, 18})}}},
      {"non-zero scope", {{8, B({0, 1, 24, 24, 198, 18, 1})}}},
      {"3-byte option", {{8, B({0, 1, 24})}}},
      {"twice", {{8, B({0, 1, 24, 0, 198, 18, 1})}, {8, B({0, 1, 24, 0, 198, 18, 1})}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.options = c.options;
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(r.rcode(), kFormErr);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, "www.diff.test.");
    EXPECT_THAT(r.answer, IsEmpty());
    // The OPT itself parsed, so it is kept, without the ECS option.
    ASSERT_TRUE(r.has_opt);
    EXPECT_FALSE(r.option(8).has_value());
  }
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
