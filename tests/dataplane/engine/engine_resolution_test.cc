// Resolution of IN-class questions (responder.h), rule by rule against the diff.test zone:
// authoritative data and AA, case, CNAME chains, wildcards and empty non-terminals, referrals and
// glue, DS at a cut, negative answers, REFUSED names and classes, ANY and additional-section
// processing.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
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
// Authoritative data

TEST(Engine, SetsAaOnlyOnAuthoritativeAnswers) {
  struct Case {
    std::string qname;
    uint16_t qtype, qclass;
    bool aa;
  } cases[] = {
      {"www.diff.test", kA, kIn, kAa},        // data
      {"onlya.diff.test", kAaaa, kIn, kAa},   // NODATA
      {"nx.diff.test", kA, kIn, kAa},         // NXDOMAIN
      {"www.sub.diff.test", kA, kIn, kNoAa},  // referral
      {"tosub.diff.test", kA, kIn, kAa},      // CNAME, then referral: the CNAME is ours
      {"www.example.com", kA, kIn, kNoAa},    // REFUSED
      {"version.bind", kTxt, kCh, kNoAa},     // CHAOS
      {"www.diff.test", kA, kClassAny, kAa},  // qclass ANY answered as IN
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.qname);
    sxt::QueryOptions o;
    o.qclass = c.qclass;
    EXPECT_EQ(Ask(DefaultEngine(), c.qname, c.qtype, o).aa(), c.aa);
  }
}

TEST(Engine, AnswersExactMatches) {
  ExpectRows(
      DefaultEngine(),
      {
          {"A RRset, both RRs", "www.diff.test A", "NOERROR aa", kWwwA},
          {"AAAA with the $TTL default",
           "www.diff.test AAAA",
           "NOERROR aa",
           {"an www.diff.test. 3600 IN AAAA 2001:db8:1::1"}},
          {"TXT with its own TTL",
           "www.diff.test TXT",
           "NOERROR aa",
           {"an www.diff.test. 600 IN TXT \"hello world\""}},
          {"apex SOA, nothing in authority",
           "diff.test SOA",
           "NOERROR aa",
           {"an diff.test. 3600 IN SOA ns1.diff.test. hostmaster.diff.test. 2024010101 7200 3600 "
            "1209600 300"}},
          {"PTR",
           "ptr.diff.test PTR",
           "NOERROR aa",
           {"an ptr.diff.test. 3600 IN PTR www.diff.test."}},
          {"literal * owner",
           "*.wild.diff.test A",
           "NOERROR aa",
           {"an *.wild.diff.test. 3600 IN A 198.18.2.1"}},
          {"a name in another zone of the snapshot",
           "host.other.test A",
           "NOERROR aa",
           {"an host.other.test. 600 IN A 198.18.20.2"}},
      });
}

TEST(Engine, KeepsQueryCaseInQuestionAndOwners) {
  const Response r = Ask(DefaultEngine(), "WwW.DiFf.TeSt", kA);
  EXPECT_EQ(r.qname, "WwW.DiFf.TeSt.");
  EXPECT_THAT(r.answer, ElementsAre("WwW.DiFf.TeSt. 300 IN A 198.18.1.1",
                                    "WwW.DiFf.TeSt. 300 IN A 198.18.1.2"));

  // The SOA owner of a negative answer is compressed to the question, so it carries its case.
  const Response nx = Ask(DefaultEngine(), "nx.DiFf.TeSt", kA);
  EXPECT_EQ(nx.rcode(), kNxDomain);
  EXPECT_EQ(nx.qname, "nx.DiFf.TeSt.");
  ASSERT_EQ(nx.authority.size(), 1u);
  EXPECT_THAT(nx.authority[0], ::testing::StartsWith("DiFf.TeSt. 300 IN SOA "));
  EXPECT_EQ(absl::AsciiStrToLower(nx.authority[0]), absl::AsciiStrToLower(kDiffSoa));
}

TEST(Engine, MatchesNamesCaseInsensitively) {
  ExpectRows(
      DefaultEngine(),
      {
          {"upper-case query",
           "WWW.DIFF.TEST A",
           "NOERROR aa",
           {"an WWW.DIFF.TEST. 300 IN A 198.18.1.1", "an WWW.DIFF.TEST. 300 IN A 198.18.1.2"}},
          {"mixed-case owner in the file (MiXeD)",
           "mixed.diff.test A",
           "NOERROR aa",
           {"an mixed.diff.test. 3600 IN A 198.18.4.1"}},
          {"both", "MIXED.DIFF.TEST A", "NOERROR aa", {"an MIXED.DIFF.TEST. 3600 IN A 198.18.4.1"}},
          {"wildcard",
           "q.WILD.diff.test A",
           "NOERROR aa",
           {"an q.WILD.diff.test. 3600 IN A 198.18.2.1"}},
      });
}

// ---------------------------------------------------------------------------------------------
// CNAME (RFC 1034 4.3.2, RFC 6604), as Knot does it

TEST(Engine, FollowsCnamesAsKnotDoes) {
  ExpectRows(
      DefaultEngine(),
      {
          {"chain in zone, each RR with its own TTL", "chain1.diff.test A", "NOERROR aa",
           Concat({{"an chain1.diff.test. 3600 IN CNAME chain2.diff.test.",
                    "an chain2.diff.test. 120 IN CNAME chain3.diff.test.",
                    "an chain3.diff.test. 3600 IN CNAME www.diff.test."},
                   kWwwA})},
          {"chain for another type",
           "chain1.diff.test TXT",
           "NOERROR aa",
           {"an chain1.diff.test. 3600 IN CNAME chain2.diff.test.",
            "an chain2.diff.test. 120 IN CNAME chain3.diff.test.",
            "an chain3.diff.test. 3600 IN CNAME www.diff.test.",
            "an www.diff.test. 600 IN TXT \"hello world\""}},
          {"qtype CNAME is not followed",
           "chain1.diff.test CNAME",
           "NOERROR aa",
           {"an chain1.diff.test. 3600 IN CNAME chain2.diff.test."}},
          {"target case kept: the next owner points at the CNAME rdata",
           "upper.diff.test A",
           "NOERROR aa",
           {"an upper.diff.test. 3600 IN CNAME WWW.diff.test.",
            "an WWW.diff.test. 300 IN A 198.18.1.1", "an WWW.diff.test. 300 IN A 198.18.1.2"}},
          {"to another zone of the same snapshot: not followed",
           "tother.diff.test A",
           "NOERROR aa",
           {"an tother.diff.test. 3600 IN CNAME host.other.test."}},
          {"and back: not followed either",
           "back.other.test A",
           "NOERROR aa",
           {"an back.other.test. 600 IN CNAME www.diff.test."}},
          {"out-of-zone target",
           "tout.diff.test A",
           "NOERROR aa",
           {"an tout.diff.test. 3600 IN CNAME target.example.invalid."}},
          {"loop: each CNAME once",
           "loopa.diff.test A",
           "NOERROR aa",
           {"an loopa.diff.test. 3600 IN CNAME loopb.diff.test.",
            "an loopb.diff.test. 3600 IN CNAME loopa.diff.test."}},
          {"CNAME to itself",
           "self.diff.test A",
           "NOERROR aa",
           {"an self.diff.test. 3600 IN CNAME self.diff.test."}},
          {"dangling: NXDOMAIN for the target (RFC 6604), SOA",
           "dangling.diff.test A",
           "NXDOMAIN aa",
           {"an dangling.diff.test. 3600 IN CNAME nothere.diff.test.", kNsDiffSoa}},
          {"to an empty non-terminal: NODATA for the target",
           "toent.diff.test A",
           "NOERROR aa",
           {"an toent.diff.test. 3600 IN CNAME ent.diff.test.", kNsDiffSoa}},
          {"to a wildcard-matched name: synthesized",
           "towild.diff.test A",
           "NOERROR aa",
           {"an towild.diff.test. 3600 IN CNAME foo.wild.diff.test.",
            "an foo.wild.diff.test. 3600 IN A 198.18.2.1"}},
          {"to below a cut: referral, AA kept for the CNAME", "tosub.diff.test A", "NOERROR aa",
           Concat({{"an tosub.diff.test. 3600 IN CNAME www.sub.diff.test."}, kSubReferral})},
          {"wildcard CNAME: owner is the qname, chain followed", "abc.wcname.diff.test A",
           "NOERROR aa",
           Concat({{"an abc.wcname.diff.test. 3600 IN CNAME www.diff.test."}, kWwwA})},
          {"wildcard CNAME out of zone",
           "abc.wcout.diff.test A",
           "NOERROR aa",
           {"an abc.wcout.diff.test. 3600 IN CNAME target.example.invalid."}},
      });
}

// ---------------------------------------------------------------------------------------------
// Wildcards (RFC 4592) and empty non-terminals

TEST(Engine, WildcardSynthesizesOwnerFromQname) {
  ExpectRows(DefaultEngine(),
             {
                 {"one label below",
                  "q.wild.diff.test A",
                  "NOERROR aa",
                  {"an q.wild.diff.test. 3600 IN A 198.18.2.1"}},
                 {"deep match, three labels below",
                  "a.b.c.wild.diff.test A",
                  "NOERROR aa",
                  {"an a.b.c.wild.diff.test. 3600 IN A 198.18.2.1"}},
                 {"other type at the wildcard",
                  "q.wild.diff.test TXT",
                  "NOERROR aa",
                  {"an q.wild.diff.test. 3600 IN TXT \"wildcard\""}},
                 {"empty non-terminal as closest encloser",
                  "q.a.went.diff.test A",
                  "NOERROR aa",
                  {"an q.a.went.diff.test. 3600 IN A 198.18.3.2"}},
                 {"synthesized MX gets in-zone addresses",
                  "z.q.a.went.diff.test MX",
                  "NOERROR aa",
                  {"an z.q.a.went.diff.test. 3600 IN MX 10 mail.diff.test.",
                   "ar mail.diff.test. 3600 IN A 198.18.1.25",
                   "ar mail.diff.test. 3600 IN AAAA 2001:db8:1::25"}},
                 {"wildcard NODATA", "foo.wild.diff.test AAAA", "NOERROR aa", {kNsDiffSoa}},
                 {"an existing name blocks the wildcard below it",
                  "x.exists.wild.diff.test A",
                  "NXDOMAIN aa",
                  {kNsDiffSoa}},
                 {"an existing name is not completed from the wildcard",
                  "exists.wild.diff.test TXT",
                  "NOERROR aa",
                  {kNsDiffSoa}},
                 {"literal * gets the wildcard's own data",
                  "*.wild.diff.test TXT",
                  "NOERROR aa",
                  {"an *.wild.diff.test. 3600 IN TXT \"wildcard\""}},
                 {"below the wildcard node itself: no *.*.wild",
                  "x.*.wild.diff.test A",
                  "NXDOMAIN aa",
                  {kNsDiffSoa}},
             });
}

TEST(Engine, EmptyNonTerminalsAreNodata) {
  ExpectRows(
      DefaultEngine(),
      {
          {"ENT above data", "ent.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"parent of a wildcard", "wild.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"ENT two labels above a wildcard", "went.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"ENT that is a wildcard's parent", "a.went.diff.test A", "NOERROR aa", {kNsDiffSoa}},
          {"below an ENT without wildcard", "nope.ent.diff.test A", "NXDOMAIN aa", {kNsDiffSoa}},
          {"below an ENT whose wildcard is deeper",
           "zz.went.diff.test A",
           "NXDOMAIN aa",
           {kNsDiffSoa}},
      });
}

// ---------------------------------------------------------------------------------------------
// Referrals: AA clear, every NS in authority, glue only for in-bailiwick names

TEST(Engine, RefersBelowZoneCuts) {
  ExpectRows(
      DefaultEngine(),
      {
          {"at the cut", "sub.diff.test A", "NOERROR", kSubReferral},
          {"occluded A below the cut", "www.sub.diff.test A", "NOERROR", kSubReferral},
          {"occluded TXT two labels below", "deep.below.sub.diff.test TXT", "NOERROR",
           kSubReferral},
          {"nonexistent name below the cut", "nothing.sub.diff.test A", "NOERROR", kSubReferral},
          {"the glue name itself", "ns.sub.diff.test A", "NOERROR", kSubReferral},
          {"NS at the cut is a referral, not an answer", "sub.diff.test NS", "NOERROR",
           kSubReferral},
          {"DS below the cut is the child's", "x.sub.diff.test DS", "NOERROR", kSubReferral},
          {"ANY at the cut", "sub.diff.test ANY", "NOERROR", kSubReferral},
          {"DS at the cut is answered by the parent (NODATA)",
           "sub.diff.test DS",
           "NOERROR aa",
           {kNsDiffSoa}},
          {"DS at the cut is answered by the parent (data)",
           "secure.diff.test DS",
           "NOERROR aa",
           {"an secure.diff.test. 3600 IN DS 12345 13 2 "
            "3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D"}},
          {"another cut, one NS",
           "secure.diff.test A",
           "NOERROR",
           {"ns secure.diff.test. 3600 IN NS ns.secure.diff.test.",
            "ar ns.secure.diff.test. 3600 IN A 198.18.7.1"}},
      });
}

// ---------------------------------------------------------------------------------------------
// Negative answers (RFC 2308): SOA in authority with TTL min(SOA TTL, MINIMUM)

TEST(Engine, NegativeAnswersCarrySoaWithMinimumTtl) {
  ExpectRows(
      DefaultEngine(),
      {
          {"NXDOMAIN, min(3600, 300)", "nx.diff.test A", "NXDOMAIN aa", {kNsDiffSoa}},
          {"NODATA", "onlya.diff.test AAAA", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for an unknown type", "www.diff.test TYPE65401", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for qtype OPT", "www.diff.test TYPE41", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for qtype MAILB", "diff.test TYPE253", "NOERROR aa", {kNsDiffSoa}},
          {"NODATA for DS at the apex", "diff.test DS", "NOERROR aa", {kNsDiffSoa}},
          {"NXDOMAIN in the other zone, min(600, 120)",
           "nx.other.test A",
           "NXDOMAIN aa",
           {"ns other.test. 120 IN SOA ns1.other.test. hostmaster.other.test. 1 7200 3600 1209600 "
            "120"}},
          {"SOA TTL below MINIMUM, min(60, 300)",
           "nx.short.test A",
           "NXDOMAIN aa",
           {"ns short.test. 60 IN SOA ns1.short.test. hostmaster.short.test. 1 7200 3600 1209600 "
            "300"}},
      });
}

TEST(Engine, RefusesNamesOutsideServedZones) {
  for (const std::string qname : {"www.example.com", ".", "test", "xdiff.test"}) {
    SCOPED_TRACE(qname);
    const Response r = Ask(DefaultEngine(), qname, kA);
    EXPECT_EQ(Status(r), "REFUSED");
    EXPECT_EQ(r.qdcount, 1);
    EXPECT_EQ(r.ancount + r.nscount + r.arcount, 0);

    // With EDNS the OPT carries EDE 20 (Not Authoritative, RFC 8914 4.21).
    const Response e = Ask(DefaultEngine(), qname, kA, Edns());
    EXPECT_EQ(Status(e), "REFUSED");
    ASSERT_TRUE(e.has_opt);
    EXPECT_THAT(e.opt_options, ElementsAre(Pair(15, B({0, 20}))));
  }
}

TEST(Engine, RefusesClassesOtherThanInAndAny) {
  for (const uint16_t qclass : {kClassNone, kHs, uint16_t{77}}) {
    SCOPED_TRACE(qclass);
    sxt::QueryOptions o;
    o.qclass = qclass;
    const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
    EXPECT_EQ(Status(r), "REFUSED");
    EXPECT_EQ(r.qclass, qclass);
    EXPECT_THAT(Records(r), IsEmpty());
  }
}

TEST(Engine, AnswersQclassAnyAsIn) {
  sxt::QueryOptions o;
  o.qclass = kClassAny;
  const Response r = Ask(DefaultEngine(), "www.diff.test", kA, o);
  EXPECT_EQ(Status(r), "NOERROR aa");
  EXPECT_EQ(r.qclass, kClassAny);
  EXPECT_THAT(Records(r), ElementsAreArray(kWwwA));
}

// ---------------------------------------------------------------------------------------------
// ANY (RFC 8482): the lowest type's RRset, over UDP and TCP alike

TEST(Engine, AnswersAnyMinimally) {
  const std::vector<Row> rows = {
      {"apex: NS (the lowest type) with addresses", "diff.test ANY", "NOERROR aa", kApexNs},
      {"A, AAAA and TXT: the A RRset", "www.diff.test ANY", "NOERROR aa", kWwwA},
      {"CNAME node: the CNAME, not followed",
       "chain1.diff.test ANY",
       "NOERROR aa",
       {"an chain1.diff.test. 3600 IN CNAME chain2.diff.test."}},
      {"wildcard: the first synthesized RRset",
       "q.wild.diff.test ANY",
       "NOERROR aa",
       {"an q.wild.diff.test. 3600 IN A 198.18.2.1"}},
      {"ENT", "ent.diff.test ANY", "NOERROR aa", {kNsDiffSoa}},
      {"NXDOMAIN", "nx.diff.test ANY", "NXDOMAIN aa", {kNsDiffSoa}},
  };
  {
    SCOPED_TRACE("UDP");
    ExpectRows(DefaultEngine(), rows, kUdp);
  }
  {
    SCOPED_TRACE("TCP");
    ExpectRows(DefaultEngine(), rows, kTcp);
  }
}

// ---------------------------------------------------------------------------------------------
// Additional-section processing (RFC 1034 4.3.2 step 6, RFC 2782)

TEST(Engine, AddsInZoneAddressesForMxSrvAndNs) {
  ExpectRows(DefaultEngine(),
             {
                 {"MX: in-zone targets only, in rdata order",
                  "diff.test MX",
                  "NOERROR aa",
                  {"an diff.test. 3600 IN MX 10 mail.diff.test.",
                   "an diff.test. 3600 IN MX 20 mail2.diff.test.",
                   "an diff.test. 3600 IN MX 30 mx.example.invalid.",
                   "ar mail.diff.test. 3600 IN A 198.18.1.25",
                   "ar mail.diff.test. 3600 IN AAAA 2001:db8:1::25",
                   "ar mail2.diff.test. 3600 IN A 198.18.1.26"}},
                 {"SRV: in-zone target only (targets are never compressed)",
                  "_sip._tcp.diff.test SRV",
                  "NOERROR aa",
                  {"an _sip._tcp.diff.test. 3600 IN SRV 10 5 5060 sipsrv.diff.test.",
                   "an _sip._tcp.diff.test. 3600 IN SRV 20 5 5061 sipsrv2.example.invalid.",
                   "ar sipsrv.diff.test. 3600 IN A 198.18.1.50",
                   "ar sipsrv.diff.test. 3600 IN AAAA 2001:db8:1::50"}},
                 {"apex NS", "diff.test NS", "NOERROR aa", kApexNs},
                 {"nothing for other types",
                  "diff.test TXT",
                  "NOERROR aa",
                  {"an diff.test. 3600 IN TXT \"v=spf1 -all\""}},
             });
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
