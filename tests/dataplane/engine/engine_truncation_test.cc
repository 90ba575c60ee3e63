// Message sizes and truncation: RRsets that do not fit, EDNS sizes below 512, big referrals (all
// NS, glue as fits) and optional additional addresses left out without TC.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Truncation

TEST(Engine, TruncatesRRsetsThatDoNotFit) {
  const Server nsid = MakeServer("  nsid: sextant-test-nsid\n");
  const Server big_edns = MakeServer("  edns_udp_size: 4096\n");
  struct Case {
    std::string what;
    const Engine* engine;
    std::string qname;
    int edns_size;  // -1: no EDNS
    bool want_nsid;
    ClientInfo client;
    bool tc;
    size_t answers;
  } cases[] = {
      {"40 A without EDNS (512)", &DefaultEngine(), "big.diff.test", -1, false, kUdp, true, 0},
      {"40 A with EDNS 1232", &DefaultEngine(), "big.diff.test", 1232, false, kUdp, false, 40},
      {"100 A with EDNS 1232", &DefaultEngine(), "huge.diff.test", 1232, false, kUdp, true, 0},
      {"100 A with EDNS 4096, our ceiling 1232", &DefaultEngine(), "huge.diff.test", 4096, false,
       kUdp, true, 0},
      {"100 A with EDNS 4096 and edns_udp_size 4096", big_edns.engine.get(), "huge.diff.test", 4096,
       false, kUdp, false, 100},
      {"100 A, NSID kept in the truncated answer", nsid.engine.get(), "huge.diff.test", 1232, true,
       kUdp, true, 0},
      {"EDNS 100 counts as 512", &DefaultEngine(), "big.diff.test", 100, false, kUdp, true, 0},
      {"EDNS 0 counts as 512", &DefaultEngine(), "big.diff.test", 0, false, kUdp, true, 0},
      {"EDNS 511 counts as 512", &DefaultEngine(), "big.diff.test", 511, false, kUdp, true, 0},
      {"TCP never truncates (no EDNS)", &DefaultEngine(), "huge.diff.test", -1, false, kTcp, false,
       100},
      {"TCP never truncates (EDNS 512)", &DefaultEngine(), "huge.diff.test", 512, false, kTcp,
       false, 100},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o;
    o.edns_size = c.edns_size;
    if (c.want_nsid) o.options = {{3, ""}};
    const Response r = Ask(*c.engine, c.qname, kA, o, c.client);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_TRUE(r.aa());
    EXPECT_EQ(r.tc(), c.tc);
    EXPECT_EQ(r.qname, c.qname + ".");  // the question is kept
    EXPECT_EQ(r.answer.size(), c.answers);
    EXPECT_THAT(r.authority, IsEmpty());
    EXPECT_THAT(r.additional, IsEmpty());
    EXPECT_EQ(r.has_opt, c.edns_size >= 0);  // the OPT is kept
    if (c.want_nsid) {
      EXPECT_EQ(r.option(3), "sextant-test-nsid");
    }
  }
}

TEST(Engine, FitsSmallAnswersUnderAnEdnsSizeBelow512) {
  // 175 bytes: more than the client's 100, less than the 512 it is raised to.
  const Response r = Ask(DefaultEngine(), "diff.test", kMx, Edns(100));
  EXPECT_FALSE(r.tc());
  EXPECT_EQ(r.answer.size(), 3u);
  EXPECT_EQ(r.additional.size(), 3u);
  EXPECT_GT(r.size, 100u);
}

TEST(Engine, KeepsAllNsOfABigReferralAndTruncatesGlue) {
  std::vector<std::string> ns, glue;
  for (int i = 1; i <= 13; ++i) {
    ns.push_back(
        absl::StrFormat("bigref.diff.test. 3600 IN NS nameserver%02d.bigref.diff.test.", i));
    glue.push_back(absl::StrFormat("nameserver%02d.bigref.diff.test. 3600 IN A 198.18.8.%d", i, i));
    glue.push_back(
        absl::StrFormat("nameserver%02d.bigref.diff.test. 3600 IN AAAA 2001:db8:8::%x", i, i));
  }
  // Greedy fill, as Knot: an RR that does not fit is skipped and the next one tried.
  const std::vector<std::string> knot_512_glue = {glue[0], glue[1], glue[2],
                                                  glue[3], glue[4], glue[6]};
  struct Case {
    std::string what;
    std::string qname;
    uint16_t qtype;
    int edns_size;
    ClientInfo client;
    bool tc;
    std::vector<std::string> additional;
    size_t size;  // 0: not checked
  } cases[] = {
      {"512 bytes: all NS, some glue, TC", "www.bigref.diff.test", kA, -1, kUdp, true,
       knot_512_glue, 509},
      {"NS at the cut, 512 bytes", "bigref.diff.test", kNs, -1, kUdp, true, knot_512_glue, 0},
      {"EDNS 1232: all glue", "www.bigref.diff.test", kA, 1232, kUdp, false, glue, 0},
      {"TCP: all glue", "www.bigref.diff.test", kA, -1, kTcp, false, glue, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o;
    o.edns_size = c.edns_size;
    const Response r = Ask(DefaultEngine(), c.qname, c.qtype, o, c.client);
    EXPECT_EQ(r.rcode(), kNoError);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.tc(), c.tc);
    EXPECT_THAT(r.answer, IsEmpty());
    EXPECT_THAT(r.authority, ElementsAreArray(ns));
    EXPECT_THAT(r.additional, ElementsAreArray(c.additional));
    if (c.size != 0) {
      EXPECT_EQ(r.size, c.size);
    }
  }
}

TEST(Engine, LeavesOutAdditionalAddressesThatDoNotFitWithoutTc) {
  // Only missing glue makes a response truncated (RFC 9471); MX target addresses are optional.
  struct Case {
    std::string what;
    ClientInfo client;
    size_t min_additional, max_additional;
  } cases[] = {
      {"UDP 512", kUdp, 1, 25},
      {"TCP: all of them", kTcp, 26, 26},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Response r = Ask(DefaultEngine(), "manymx.diff.test", kMx, {}, c.client);
    EXPECT_EQ(Status(r), "NOERROR aa");
    EXPECT_EQ(r.answer.size(), 13u);
    EXPECT_GE(r.additional.size(), c.min_additional);
    EXPECT_LE(r.additional.size(), c.max_additional);
  }
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
