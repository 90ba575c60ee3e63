// Section images (dataplane/engine/section_image.h): negative answers' SOA and referrals copied
// from images precompiled at load must be byte for byte what the slow path writes, whatever the
// question looks like above the anchor (case, depth, a label that lets the slow path compress
// further), with and without EDNS, over UDP sizes that truncate, and after a CNAME.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dataplane/engine/engine.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;

// In-zone and out-of-zone SOA names, delegations with in-bailiwick glue (several addresses),
// sibling glue, an out-of-zone NS, a deep delegation, a CNAME into a delegation and to a
// missing name, and a nested zone served too.
const std::vector<sxt::ZoneText>& Zones() {
  static const auto* zones = new std::vector<sxt::ZoneText>{
      {"img.test.", R"($ORIGIN img.test.
$TTL 3600
@        SOA ns.img.test. hostmaster.img.test. 7 7200 3600 1209600 300
@        NS  ns
ns       A   198.18.60.1
ns       AAAA 2001:db8:60::1
www      A   198.18.60.2
alias    CNAME www.sub
dangling CNAME missing
nxalias  CNAME nothing.here
sub      NS  ns.sub
sub      NS  ns2.sub
sub      NS  ns.other.test.
ns.sub   A   198.18.60.10
ns.sub   A   198.18.60.11
ns2.sub  AAAA 2001:db8:60::10
side     NS  ns.img.test.
side     NS  ns.side
ns.side  A   198.18.60.20
a.b.deep NS  ns.a.b.deep
ns.a.b.deep A 198.18.60.30
)"},
      {"out.test.", R"($ORIGIN out.test.
$TTL 600
@    SOA ns1.elsewhere.example. dns-admin.elsewhere.example. 1 7200 3600 1209600 60
@    NS  ns1.elsewhere.example.
host A   198.18.61.1
)"},
      {"nested.img.test.", R"($ORIGIN nested.img.test.
$TTL 600
@    SOA ns.nested.img.test. hostmaster.img.test. 1 7200 3600 1209600 60
@    NS  ns
ns   A   198.18.62.1
)"},
  };
  return *zones;
}

std::vector<std::string> Questions() {
  std::vector<std::string> q = {
      "nx.img.test",        "NX.IMG.TEST",          "a.b.c.nx.img.test",   "ns.img.test",
      "NS.img.test",        "x.ns.img.test",        "hostmaster.img.test", "www.img.test",
      "img.test",           "alias.img.test",       "dangling.img.test",   "nxalias.img.test",
      "sub.img.test",       "ns.sub.img.test",      "NS2.Sub.Img.Test",    "deep.x.sub.img.test",
      "side.img.test",      "ns.side.img.test",     "q.side.img.test",     "b.deep.img.test",
      "a.b.deep.img.test",  "ns.a.b.deep.img.test", "z.a.b.deep.img.test", "out.test",
      "nx.out.test",        "host.out.test",        "ns1.out.test",        "nested.img.test",
      "nx.nested.img.test", "ns.nested.img.test",   "x.ns.nested.img.test"};
  q.push_back(absl::StrCat(std::string(63, 'l'), ".", std::string(63, 'm'), ".img.test"));
  return q;
}

TEST(SectionImages, SameBytesAsTheSlowPath) {
  Server s = ServerOf(Zones());
  Engine& e = *s.engine;
  // Every zone's SOA and the three cuts (sub, side, a.b.deep) have images.
  ASSERT_EQ(e.section_images().zones.size(), 3u);
  for (const SectionImage& z : e.section_images().zones) EXPECT_NE(z.len, 0);
  EXPECT_EQ(e.section_images().cuts->size(), 3u);
  const uint16_t types[] = {kA, kAaaa, kNs, kMx, kSoa, kDs, kAny};
  int compared = 0;
  for (const std::string& name : Questions()) {
    for (uint16_t t : types) {
      for (int edns : {0, 512, 1232}) {
        SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t), " edns ", edns));
        sxt::QueryOptions o = edns == 0 ? sxt::QueryOptions{} : Edns(edns);
        const Bytes q = sxt::MakeQuery(name, t, o);
        e.set_section_images(true);
        const Raw with = AnswerRaw(e, q, kUdp);
        e.set_section_images(false);
        const Raw without = AnswerRaw(e, q, kUdp);
        ASSERT_EQ(with.bytes, without.bytes);
        EXPECT_EQ(with.info.rcode, without.info.rcode);
        ++compared;
      }
    }
  }
  e.set_section_images(true);
  EXPECT_EQ(compared, 32 * 7 * 3);
}

// The images are really used: a negative answer and a referral come out right with them (Ask
// checks the message decodes and its compression is optimal).
TEST(SectionImages, NegativeAndReferralAnswers) {
  Server s = ServerOf(Zones());
  const Response nx = Ask(*s.engine, "nx.img.test", kA);
  EXPECT_EQ(nx.error, "");
  EXPECT_EQ(Status(nx), "NXDOMAIN aa");
  EXPECT_EQ(nx.name_bytes, nx.optimal_name_bytes);
  ASSERT_EQ(nx.authority.size(), 1u);
  const Response ref = Ask(*s.engine, "deep.x.sub.img.test", kA);
  EXPECT_EQ(ref.error, "");
  EXPECT_EQ(ref.authority.size(), 3u);
  EXPECT_EQ(ref.additional.size(), 3u);
  EXPECT_EQ(ref.name_bytes, ref.optimal_name_bytes);
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
