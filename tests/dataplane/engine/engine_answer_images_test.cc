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

// A label of `n` letters: under ai.test. its name is n + 10 bytes long in wire form.
std::string LongLabel(size_t n) { return std::string(n, 'l'); }

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
  // Names of 32 and 33 bytes in wire form: the longest whose lines carry them (kAnswerLineName),
  // and one the lookup compares from the names section.
  z += absl::StrCat(LongLabel(22), " A 198.18.70.8\n", LongLabel(22), " AAAA 2001:db8:70::8\n");
  z += absl::StrCat(LongLabel(23), " A 198.18.70.9\n", LongLabel(23), " AAAA 2001:db8:70::9\n");
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

std::vector<sxt::QueryOptions> Shapes() {
  std::vector<sxt::QueryOptions> shapes;
  for (int edns : {-1, 512, 1232, 4096}) {
    for (bool rd : {false, true}) {
      for (bool do_bit : {false, true}) {
        if (edns < 0 && do_bit) continue;
        sxt::QueryOptions o;
        o.edns_size = edns;
        o.rd = rd;
        o.do_bit = do_bit;
        shapes.push_back(o);
      }
    }
  }
  sxt::QueryOptions nsid = Edns(1232);
  nsid.options.push_back({dns::kOptNsid, ""});
  shapes.push_back(nsid);
  sxt::QueryOptions ecs = Edns(1232);
  ecs.options.push_back({dns::kOptEcs, std::string("\0\1\30\0\xc6\x12\x46", 7)});
  shapes.push_back(ecs);
  sxt::QueryOptions v1 = Edns(1232);
  v1.edns_version = 1;
  shapes.push_back(v1);
  sxt::QueryOptions any_class;
  any_class.qclass = dns::kClassAny;
  shapes.push_back(any_class);
  sxt::QueryOptions chaos;
  chaos.qclass = dns::kClassCh;
  shapes.push_back(chaos);
  sxt::QueryOptions notify;
  notify.opcode = 4;
  shapes.push_back(notify);
  return shapes;
}

TEST(AnswerImages, SameBytesAsTheResolver) {
  Server s = ServerOf(Zones());
  Engine& e = *s.engine;
  std::vector<std::string> names = {
      "ai.test",        "AI.Test",         "ns.ai.test",    "www.ai.test",    "WWW.AI.TEST",
      "v6only.ai.test", "txtonly.ai.test", "alias.ai.test", "x.wild.ai.test", "sub.ai.test",
      "ns.sub.ai.test", "big.ai.test",     "nx.ai.test",    "nested.ai.test", "ns.nested.ai.test",
      "*.wild.ai.test", "other.test"};
  // Names of 32 and 33 bytes: from the lines and from the names section.
  names.push_back(absl::StrCat(LongLabel(22), ".ai.test"));
  names.push_back(absl::StrCat(LongLabel(23), ".ai.test"));
  names.push_back(absl::StrCat("L", LongLabel(22), ".AI.test"));
  const uint16_t types[] = {kA, kAaaa, kTxt, kNs, kAny};
  int compared = 0, from_images = 0;
  for (const std::string& name : names) {
    for (uint16_t t : types) {
      for (const sxt::QueryOptions& o : Shapes()) {
        for (const ClientInfo& client : {kUdp, kTcp}) {
          SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t), " edns ", o.edns_size, " rd ", o.rd,
                                    " do ", o.do_bit, " options ", o.options.size(), " class ",
                                    o.qclass, client.tcp ? " tcp" : " udp"));
          const Bytes q = sxt::MakeQuery(name, t, o);
          e.set_answer_images(true);
          const Raw with = AnswerRaw(e, q, client);
          e.set_answer_images(false);
          const Raw without = AnswerRaw(e, q, client);
          ASSERT_EQ(with.bytes, without.bytes);
          EXPECT_EQ(with.info.rcode, without.info.rcode);
          EXPECT_EQ(with.info.qtype, without.info.qtype);
          EXPECT_EQ(with.info.truncated, without.info.truncated);
          ++compared;
          if ((t == kA || t == kAaaa) && with.len > 0 && with.bytes[3] == 0 &&
              dns::Get16(with.bytes.data() + dns::kOffAncount) > 0) {
            ++from_images;
          }
        }
      }
    }
  }
  e.set_answer_images(true);
  EXPECT_EQ(compared, 20 * 5 * static_cast<int>(Shapes().size()) * 2);
  EXPECT_GT(from_images, 100);
}

// Which names have images: A/AAAA RRsets the resolver answers alone, none below or at a cut.
TEST(AnswerImages, OnlyForPlainAnswers) {
  Server s = ServerOf(Zones());
  const AnswerImages& a = s.engine->answer_images();
  const SnapshotView& v = s.engine->view();
  int with_a = 0, with_aaaa = 0;
  // A pair for every node, and the view sees that many nodes.
  ASSERT_FALSE(a.pairs.empty());
  EXPECT_TRUE(a.every_node);
  EXPECT_EQ(a.pairs.size(), s.snapshot->section<maps::Node>(maps::kNodes).size());
  EXPECT_EQ(v.answer_image_nodes, a.pairs.size());
  EXPECT_EQ(v.answer_images, a.pairs.data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.pairs.data()) % 64, 0u);  // a pair per cache line
  int inline_images = 0, pooled = 0;
  for (uint32_t n = 0; n < a.pairs.size(); ++n) {
    const bool has_a = a.pairs[n].slot[0].image.len != 0;
    const bool has_aaaa = a.pairs[n].slot[1].image.len != 0;
    if (!has_a && !has_aaaa) continue;
    EXPECT_EQ(v.nodes[n].cut, maps::kNone);
    with_a += has_a ? 1 : 0;
    with_aaaa += has_aaaa ? 1 : 0;
    for (const AnswerImageLine& line : a.pairs[n].slot) {
      const AnswerImage& img = line.image;
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
  // ns, www, v6only and the two long names (AAAA). Not ns.sub (below the cut sub).
  EXPECT_EQ(with_a, 9);
  EXPECT_EQ(with_aaaa, 5);
}

// Each line carries its node's name when it is at most kAnswerLineName bytes long, and the
// lookup of an A or AAAA question reads every bucket's name from there (AnswerLineName) or, for
// a longer name, from the names section: the same bytes either way.
TEST(AnswerImages, LinesCarryTheNames) {
  Server s = ServerOf(Zones());
  const AnswerImages& a = s.engine->answer_images();
  const SnapshotView& v = s.engine->view();
  ASSERT_TRUE(a.every_node);
  ASSERT_EQ(v.answer_line_names, a.pairs.front().slot[0].name);
  int in_lines = 0, in_names = 0, at_limit = 0;
  for (uint32_t b = 0; b <= v.bucket_mask; ++b) {
    const maps::Bucket& bk = v.buckets[b];
    if (bk.node == maps::kNone) continue;
    const uint8_t* name = v.names + bk.name_offset;
    for (int slot = 0; slot < 2; ++slot) {
      const uint8_t* found = AnswerLineName(v, bk, AnswerLineNames(v, slot));
      EXPECT_EQ(std::string(found, found + bk.name_length),
                std::string(name, name + bk.name_length));
      if (bk.name_length <= kAnswerLineName) {
        EXPECT_EQ(found, a.pairs[bk.node].slot[slot].name);
      } else {
        EXPECT_EQ(found, name);
      }
    }
    (bk.name_length <= kAnswerLineName ? in_lines : in_names) += 1;
    at_limit += bk.name_length == kAnswerLineName ? 1 : 0;
  }
  EXPECT_GT(in_lines, 10);
  EXPECT_EQ(in_names, 1);
  EXPECT_EQ(at_limit, 1);
}

// A snapshot with more nodes than get pairs (kMaxAnswerImageNodes; here 4) keeps them only up to
// the last node with an image among those, and its view has no line names: every lookup reads
// the names section.
TEST(AnswerImages, FewerPairsThanNodesMeansNoLineNames) {
  Server s = ServerOf(Zones());
  const SnapshotView& full = s.engine->view();
  const auto nodes = static_cast<uint32_t>(s.snapshot->section<maps::Node>(maps::kNodes).size());
  ASSERT_GT(nodes, 4u);
  const AnswerImages few = BuildAnswerImages(full, nodes, 4);
  EXPECT_FALSE(few.every_node);
  ASSERT_FALSE(few.pairs.empty());
  EXPECT_LE(few.pairs.size(), 4u);
  EXPECT_TRUE(few.pairs.back().slot[0].image.len != 0 || few.pairs.back().slot[1].image.len != 0);
  SnapshotView v = full;
  few.Attach(&v);
  EXPECT_EQ(v.answer_line_names, nullptr);
  EXPECT_EQ(v.answer_image_nodes, few.pairs.size());
  EXPECT_EQ(AnswerLineNames(v, 0), nullptr);
  // All of them: every node has its pair.
  const AnswerImages all = BuildAnswerImages(full, nodes, nodes);
  EXPECT_TRUE(all.every_node);
  EXPECT_EQ(all.pairs.size(), nodes);
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
