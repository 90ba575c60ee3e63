// Answer lines (dataplane/engine/answer_lines.h): the A and AAAA images of a large zone once more
// by (name, type), in a cuckoo table the burst prefetches from the name's hash alone. Answers
// through them must be byte for byte the resolver's, every eligible image must have a line, and
// what has none (a long name, a pooled image, a type without images) still answers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dataplane/engine/answer_lines.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/trace.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;
namespace dns = ::sextant::maps::dns;

// `hosts` hosts as perf/make_query_pcap.py writes them: an A each (two on every fourth, a pooled
// image that still fits a line), an AAAA each; a name too long for a line, an image too long
// (three A records and the name: 60 bytes), a CNAME.
std::vector<sxt::ZoneText> Zones(int hosts) {
  std::string z = R"($ORIGIN al.test.
$TTL 3600
@        SOA ns.al.test. hostmaster.al.test. 7 7200 3600 1209600 300
@        NS  ns
ns       A   198.18.80.2
a-name-far-longer-than-the-forty-two-bytes-of-a-line A 198.18.80.3
alias    CNAME host1
big      A   198.18.80.4
big      A   198.18.80.5
big      A   198.18.80.6
)";
  for (int i = 0; i < hosts; ++i) {
    absl::StrAppend(&z, "host", i, " 300 A 198.18.", 81 + i / 250, ".", i % 250, "\n");
    if (i % 4 == 0) absl::StrAppend(&z, "host", i, " 300 A 198.19.", 81 + i / 250, ".1\n");
    absl::StrAppend(&z, "host", i, " AAAA 2001:db8:81::", i, "\n");
  }
  return {{"al.test.", z}};
}

// Whether the answer lines hold `name` (presentation form, lower case, no final dot) for slot.
bool HasLine(const Engine& e, const std::string& name, int slot) {
  const Bytes q = sxt::MakeQuery(name, kA);
  const uint8_t* wire = q.data() + dns::kHeaderSize;
  size_t len = 0;
  while (wire[len] != 0) len += 1 + wire[len];
  ++len;
  return FindAnswerLine(e.view(), wire, len, maps::NameHash(wire, len), slot) != nullptr;
}

// Every engine has them; turned off, A and AAAA go through the name table's images again.
TEST(AnswerLines, EveryEngineHasThemAndTheyCanBeTurnedOff) {
  Server s = ServerOf(Zones(100));
  EXPECT_GT(s.engine->answer_lines().count, 0u);
  EXPECT_NE(s.engine->view().answer_lines, nullptr);
  s.engine->set_answer_lines(false);
  EXPECT_EQ(s.engine->view().answer_lines, nullptr);
  s.engine->set_answer_lines(true);
  EXPECT_EQ(s.engine->view().answer_lines, s.engine->answer_lines().lines());
  s.engine->set_answer_images(false);  // the resolver: neither images nor lines
  EXPECT_EQ(s.engine->view().answer_lines, nullptr);
  s.engine->set_answer_images(true);
  EXPECT_NE(s.engine->view().answer_lines, nullptr);
}

// An engine for explaining (sextantctl explain) builds neither answer images nor lines, and its
// Answer and Explain give the bytes a serving engine's Answer gives.
TEST(AnswerLines, AnEngineForExplainingHasNoneAndTheSameBytes) {
  Server s = ServerOf(Zones(100));
  const Engine explain(*s.snapshot, EngineUse::kExplain);
  EXPECT_EQ(explain.answer_lines().count, 0u);
  EXPECT_EQ(explain.view().answer_lines, nullptr);
  EXPECT_EQ(explain.view().answer_images, nullptr);
  EXPECT_TRUE(explain.answer_images().pairs.empty());
  EXPECT_NE(s.engine->view().answer_images, nullptr);  // the serving engine has them
  EXPECT_NE(explain.view().zone_images, nullptr);      // the resolver's section images stay
  for (const std::string name : {"host3.al.test", "HOST40.al.test", "big.al.test", "alias.al.test",
                                 "nohost.al.test", "al.test"}) {
    for (uint16_t t : {kA, kAaaa, kTxt}) {
      SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t)));
      const Bytes q = sxt::MakeQuery(name, t, Edns());
      const Raw served = AnswerRaw(*s.engine, q, kUdp);
      const Raw answered = AnswerRaw(explain, q, kUdp);
      EXPECT_EQ(answered.bytes, served.bytes);
      Bytes out(kMaxDnsMessage);
      AnswerInfo info;
      auto trace = std::make_unique<AnswerTrace>();  // large: its steps inline
      const size_t n =
          explain.Explain(q.data(), q.size(), kUdp, out.data(), out.size(), &info, trace.get());
      out.resize(n);
      EXPECT_EQ(out, served.bytes);
    }
  }
}

TEST(AnswerLines, EveryInlineImageHasItsLine) {
  constexpr int kHosts = 3000;
  Server s = ServerOf(Zones(kHosts));
  Engine& e = *s.engine;
  const AnswerLines& lines = e.answer_lines();
  // 3,000 A + 3,000 AAAA + ns's A = 6,001 keys: 16,384 lines, 37% full.
  EXPECT_EQ(lines.count, 16384u);
  EXPECT_EQ(lines.unplaced, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(lines.lines()) % 64, 0u);
  size_t full = 0;
  for (size_t i = 0; i < lines.count; ++i) full += lines.lines()[i].name_len != 0 ? 1 : 0;
  EXPECT_EQ(full, 6001u);
  EXPECT_EQ(lines.keys, 6001u);
  // At 37% full, at most (1 - e^-0.37) / 0.37 = 83% of the keys can sit in their first line;
  // the walks leave about 77% there.
  EXPECT_GT(lines.in_first_line, 6001u * 70 / 100);
  EXPECT_LE(lines.in_first_line, 6001u * 84 / 100);
  // A line is marked spilled exactly when a key whose first line it is sits in its second
  // (FindAnswerLine reads the second line only then).
  std::vector<bool> spilled(lines.count);
  const auto mask = static_cast<uint32_t>(lines.count - 1);
  for (size_t i = 0; i < lines.count; ++i) {
    const AnswerLine& l = lines.lines()[i];
    if (l.name_len == 0) continue;
    const uint32_t first =
        AnswerLineIndexOf(maps::NameHash(l.bytes, l.name_len), l.slot, mask).first;
    if (first != i) spilled[first] = true;
  }
  size_t marked = 0;
  for (size_t i = 0; i < lines.count; ++i) {
    EXPECT_EQ(lines.lines()[i].spilled != 0, spilled[i]) << i;
    marked += spilled[i] ? 1 : 0;
  }
  EXPECT_GT(marked, 0u);
  EXPECT_LE(marked, lines.keys - lines.in_first_line);
  for (int i = 0; i < kHosts; ++i) {
    const std::string name = absl::StrCat("host", i, ".al.test");
    SCOPED_TRACE(name);
    EXPECT_TRUE(HasLine(e, name, 0));
    EXPECT_TRUE(HasLine(e, name, 1));
  }
  EXPECT_TRUE(HasLine(e, "ns.al.test", 0));
  EXPECT_FALSE(HasLine(e, "ns.al.test", 1));  // no AAAA
  EXPECT_FALSE(HasLine(e, "a-name-far-longer-than-the-forty-two-bytes-of-a-line.al.test", 0));
  EXPECT_FALSE(HasLine(e, "alias.al.test", 0));
  EXPECT_FALSE(HasLine(e, "big.al.test", 0));
  EXPECT_FALSE(HasLine(e, "nohost1.al.test", 0));
}

TEST(AnswerLines, SameBytesAsTheResolver) {
  Server s = ServerOf(Zones(400));
  Engine& e = *s.engine;
  std::vector<std::string> names = {"al.test",
                                    "ns.al.test",
                                    "NS.Al.Test",
                                    "big.al.test",
                                    "a-name-far-longer-than-the-forty-two-bytes-of-a-line.al.test",
                                    "alias.al.test",
                                    "nohost1.al.test"};
  for (int i = 0; i < 400; i += 7) names.push_back(absl::StrCat("HOST", i, ".al.test"));
  int from_lines = 0;
  for (const std::string& name : names) {
    for (uint16_t t : {kA, kAaaa, kTxt}) {
      for (const sxt::QueryOptions& o : ImageQueryShapes()) {
        for (const ClientInfo& client : {kUdp, kTcp}) {
          SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t), " edns ", o.edns_size, " do ", o.do_bit,
                                    " options ", o.options.size(), client.tcp ? " tcp" : " udp"));
          const Bytes q = sxt::MakeQuery(name, t, o);
          const Raw with = AnswerWithAndWithoutImages(e, q, client);
          ASSERT_FALSE(HasFailure());
          if ((t == kA || t == kAaaa) && o.options.empty() && name.starts_with("HOST") &&
              with.len > 0 && dns::Get16(with.bytes.data() + dns::kOffAncount) > 0) {
            ++from_lines;
          }
        }
      }
    }
  }
  e.set_answer_images(true);
  EXPECT_GT(from_lines, 400);
}

// A table that cannot hold every key (the zone has more than half kMaxAnswerLines of them):
// the lines fill to half, and the keys past that answer through the name table.
TEST(AnswerLines, FullTableLeavesTheRestToTheNameTable) {
  constexpr int kHosts = 3000;
  Server s = ServerOf(Zones(kHosts));
  Engine& e = *s.engine;
  e.RebuildAnswerLines(1024);
  const AnswerLines& lines = e.answer_lines();
  EXPECT_EQ(lines.count, 1024u);
  EXPECT_EQ(lines.unplaced, 6001u - 512u);
  EXPECT_EQ(lines.keys, 512u);
  int with_line = 0;
  for (int i = 0; i < kHosts; ++i) {
    const std::string name = absl::StrCat("host", i, ".al.test");
    with_line += HasLine(e, name, 1) ? 1 : 0;
    if (i % 10 != 0) continue;
    for (uint16_t t : {kA, kAaaa}) {
      SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t)));
      AnswerWithAndWithoutImages(e, sxt::MakeQuery(name, t, Edns(1232)), kUdp);
      ASSERT_FALSE(HasFailure());
    }
  }
  EXPECT_GT(with_line, 0);
  EXPECT_LT(with_line, 512);
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
