// Answer images (dataplane/engine/answer_images.h): A and AAAA answers copied from images
// precompiled at load must be byte for byte what the resolver writes, whatever the query looks
// like (case, RD, DO, EDNS size, options, class, TCP), and names the images must not answer
// (below a cut, at a cut, wildcards, CNAMEs, answers that do not fit) must still be resolved.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dataplane/engine/engine.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;
namespace dns = ::sextant::maps::dns;

std::string ZoneText() {
  std::string z = R"($ORIGIN ai.test.
$TTL 3600
@        SOA ns.ai.test. hostmaster.ai.test. 7 7200 3600 1209600 300
@        NS  ns
@        A   198.18.70.1
ns       A   198.18.70.2
ns       AAAA 2001:db8:70::2
www  300 A   198.18.70.3
www  300 A   198.18.70.4
www      AAAA 2001:db8:70::3
v6only   AAAA 2001:db8:70::4
txtonly  TXT "no address"
alias    CNAME www
*.wild   A   198.18.70.5
sub      NS  ns.sub
ns.sub   A   198.18.70.7
)";
  for (int i = 1; i <= 40; ++i) z += absl::StrCat("big A 198.18.71.", i, "\n");
  return z;
}

const std::vector<sxt::ZoneText>& Zones() {
  static const auto* zones = new std::vector<sxt::ZoneText>{
      {"ai.test.", ZoneText()},
      {"nested.ai.test.", R"($ORIGIN nested.ai.test.
$TTL 600
@    SOA ns.nested.ai.test. hostmaster.ai.test. 1 7200 3600 1209600 60
@    NS  ns
@    A   198.18.72.1
ns   A   198.18.72.2
)"},
  };
  return *zones;
}

// Asks for every name, of every type, in every image query shape, over UDP and TCP, with and
// without the images (the bytes must be the same), and hands each answer to `seen`.
template <typename Seen>
void AskEveryShape(Engine& e, const std::vector<std::string>& names, Seen seen) {
  for (const std::string& name : names) {
    for (uint16_t t : {kA, kAaaa, kTxt, kNs, kAny}) {
      for (const sxt::QueryOptions& o : ImageQueryShapes()) {
        for (const ClientInfo& client : {kUdp, kTcp}) {
          SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t), " edns ", o.edns_size, " rd ", o.rd,
                                    " do ", o.do_bit, " options ", o.options.size(), " class ",
                                    o.qclass, client.tcp ? " tcp" : " udp"));
          const Raw with = AnswerWithAndWithoutImages(e, sxt::MakeQuery(name, t, o), client);
          ASSERT_FALSE(::testing::Test::HasFailure());
          ASSERT_GE(with.len, size_t{dns::kHeaderSize});
          seen(name, t, with);
        }
      }
    }
  }
}

TEST(AnswerImages, SameBytesAsTheResolver) {
  Server s = ServerOf(Zones());
  Engine& e = *s.engine;
  const std::vector<std::string> names = {
      "ai.test",        "AI.Test",         "ns.ai.test",    "www.ai.test",    "WWW.AI.TEST",
      "v6only.ai.test", "txtonly.ai.test", "alias.ai.test", "x.wild.ai.test", "sub.ai.test",
      "ns.sub.ai.test", "big.ai.test",     "nx.ai.test",    "nested.ai.test", "ns.nested.ai.test",
      "*.wild.ai.test", "other.test"};
  int compared = 0, from_images = 0;
  AskEveryShape(e, names, [&](const std::string&, uint16_t t, const Raw& with) {
    ++compared;
    if ((t == kA || t == kAaaa) && with.bytes[3] == 0 &&
        dns::Get16(with.bytes.data() + dns::kOffAncount) > 0) {
      ++from_images;
    }
  });
  EXPECT_EQ(compared, 17 * 5 * static_cast<int>(ImageQueryShapes().size()) * 2);
  EXPECT_GT(from_images, 100);
}

// Names that do not exist (engine.cc, AnswerAbsentFromImage): NXDOMAIN from the zone's negative
// image, a referral from the cut's image, A synthesized from a wildcard's answer image, and what
// must still go to the resolver (a label the image's names would compress against, no zone, a
// wildcard without the type, a name too long for the image to fit) give the resolver's bytes in
// every query shape, over UDP and TCP.
TEST(AnswerImages, AbsentNamesAsTheResolverAnswersThem) {
  Server s = ServerOf(Zones());
  std::string long_name;
  for (int i = 0; i < 3; ++i) long_name += std::string(60, static_cast<char>('a' + i)) + ".";
  const std::vector<std::string> names = {"nx.ai.test",
                                          "NX.Ai.TEST",
                                          "deep.nx.ai.test",
                                          "a.b.c.d.e.ai.test",
                                          "hostmaster.ai.test",
                                          "x.hostmaster.ai.test",
                                          "Ns.Nx.ai.test",
                                          "x.sub.ai.test",
                                          "a.b.SUB.ai.test",
                                          "ns2.sub.ai.test",
                                          "x.ns.sub.ai.test",
                                          "x.wild.ai.test",
                                          "a.b.wild.AI.test",
                                          "WILD2.ai.test",
                                          "nx.nested.ai.test",
                                          "a.b.Nested.ai.test",
                                          "hostmaster.nested.ai.test",
                                          "other.test",
                                          "x.other.test",
                                          long_name + "ai.test",
                                          long_name + "sub.ai.test",
                                          long_name + "wild.ai.test"};
  int nxdomain = 0, referrals = 0, synthesized = 0;
  AskEveryShape(*s.engine, names, [&](const std::string& name, uint16_t, const Raw& with) {
    const uint8_t* h = with.bytes.data();
    const uint16_t an = dns::Get16(h + dns::kOffAncount);
    const uint16_t ns = dns::Get16(h + dns::kOffNscount);
    if ((h[3] & dns::kRcodeMask) == dns::kNxDomain) ++nxdomain;
    if ((h[3] & dns::kRcodeMask) == 0 && !(h[2] & dns::kFlag1Aa) && an == 0 && ns > 0) {
      ++referrals;
    }
    if (name.find("wild.") != std::string::npos && an > 0) ++synthesized;
  });
  EXPECT_GT(nxdomain, 1000);
  EXPECT_GT(referrals, 500);
  EXPECT_GT(synthesized, 50);
}

// Which names have images: A/AAAA RRsets the resolver answers alone, none below or at a cut.
TEST(AnswerImages, OnlyForPlainAnswers) {
  Server s = ServerOf(Zones());
  const AnswerImages& a = s.engine->answer_images();
  const SnapshotView& v = s.engine->view();
  int with_a = 0, with_aaaa = 0;
  // A pair per node up to the last node with an image, and the view sees that many nodes.
  ASSERT_FALSE(a.pairs.empty());
  EXPECT_TRUE(a.pairs.back().slot[0].len != 0 || a.pairs.back().slot[1].len != 0);
  EXPECT_EQ(v.answer_image_nodes, a.pairs.size());
  EXPECT_EQ(v.answer_images, a.pairs.data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.pairs.data()) % 64, 0u);  // a pair per cache line
  int inline_images = 0, pooled = 0;
  for (uint32_t n = 0; n < a.pairs.size(); ++n) {
    const bool has_a = a.pairs[n].slot[0].len != 0;
    const bool has_aaaa = a.pairs[n].slot[1].len != 0;
    if (!has_a && !has_aaaa) continue;
    EXPECT_EQ(v.nodes[n].cut, maps::kNone);
    with_a += has_a ? 1 : 0;
    with_aaaa += has_aaaa ? 1 : 0;
    for (const AnswerImage& img : a.pairs[n].slot) {
      if (img.len == 0) continue;
      const uint8_t* bytes = AnswerImageBytes(img, a.bytes.data());
      if (img.len <= kAnswerImageInline) {
        ++inline_images;
        EXPECT_EQ(bytes, img.data);
      } else {
        ++pooled;
        EXPECT_GE(bytes, a.bytes.data());
        EXPECT_LE(bytes + img.len, a.bytes.data() + a.bytes.size());
      }
      // Every record is owned by the question (pointer 0xC00C).
      EXPECT_EQ(bytes[0], 0xC0);
      EXPECT_EQ(bytes[1], 0x0C);
    }
  }
  // One A or one AAAA record sits in its image; big's RRset of several A records in the pool.
  EXPECT_GT(inline_images, 0);
  EXPECT_GT(pooled, 0);
  // ai.test, ns, www, big, *.wild (asked for by its own name), nested.ai.test, ns.nested (A);
  // ns, www, v6only (AAAA). Not ns.sub (below the cut sub).
  EXPECT_EQ(with_a, 7);
  EXPECT_EQ(with_aaaa, 3);
}

// An image that does not fit is left to the resolver, which truncates: 40 A records are 640
// bytes, more than 512 without EDNS.
TEST(AnswerImages, TooBigForUdpTruncates) {
  Server s = ServerOf(Zones());
  const Response small = Ask(*s.engine, "big.ai.test", kA);
  EXPECT_EQ(small.error, "");
  EXPECT_TRUE(small.tc());
  EXPECT_EQ(small.ancount, 0);
  const Response tcp = Ask(*s.engine, "big.ai.test", kA, {}, kTcp);
  EXPECT_FALSE(tcp.tc());
  EXPECT_EQ(tcp.ancount, 40);
  const Response www = Ask(*s.engine, "Www.Ai.Test", kA, Edns(1232));
  EXPECT_EQ(www.error, "");
  EXPECT_EQ(Status(www), "NOERROR aa");
  EXPECT_EQ(www.qname, "Www.Ai.Test.");
  ASSERT_EQ(www.answer.size(), 2u);
  EXPECT_TRUE(www.has_opt);
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
