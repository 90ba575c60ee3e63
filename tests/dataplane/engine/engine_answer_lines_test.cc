// Answer lines (dataplane/engine/answer_lines.h): the A and AAAA images of a large zone once more
// by (name, type), in a cuckoo table the burst prefetches from the name's hash alone. Answers
// through them must be byte for byte the resolver's, every eligible image must have a line, and
// what has none (a long name, a pooled image, a type without images) still answers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
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

// Engine::Answer first tries the commonest query alone (AnswerFromLineOnly): an A or AAAA question
// in class IN with at most an OPT record without options, answered straight from its line
// before any general parse. Where it answers, the bytes must be the resolver's; every other
// shape, however close, must be left to the general path (0), which answers it as before.
TEST(AnswerLines, TheShortcutAnswersTheCommonShapeAndLeavesTheRest) {
  // Names of 6, 8, 16, 17, 32 and 33 wire bytes under "t." (3 bytes): the shortcut takes 8 to 32.
  const std::string l28(28, 'x'), l29(29, 'y');
  const std::string zone =
      absl::StrCat(R"($ORIGIN t.
$TTL 3600
@     SOA ns.t. hostmaster.t. 1 7200 3600 1209600 300
@     NS  ns
ns    A   198.18.90.1
ab    A   198.18.90.2
abcd  A   198.18.90.3
abcd  AAAA 2001:db8:90::3
abcdefghijkl A 198.18.90.4
abcdefghijklm A 198.18.90.5
abcdefghijklm A 198.18.90.6
abcdefghijklm AAAA 2001:db8:90::5
)",
                   l28, " A 198.18.90.7\n", l29, " A 198.18.90.8\n", "mx MX 10 abcd\n");
  Server s = ServerOf({{"t.", zone}});
  Engine& e = *s.engine;
  // The shortcut's answer (0: none) to `q`, checked against Answer's, which must be the
  // resolver's.
  const auto shortcut = [&](const Bytes& q) {
    const Raw full = AnswerWithAndWithoutImages(e, q, kUdp);
    Bytes out(kMaxDnsMessage, 0xAA);
    AnswerInfo info;
    const size_t n = e.AnswerFromLineOnly(q.data(), q.size(), out.data(), &info);
    if (n != 0) {
      out.resize(n);
      EXPECT_EQ(out, full.bytes);
      EXPECT_EQ(info.qtype, full.info.qtype);
      EXPECT_EQ(info.rcode, 0);
    }
    return n;
  };
  int answered = 0;
  for (const std::string& name :
       std::vector<std::string>{"abcd.t", "ABcD.t", "abcdefghijkl.t", "abcdefghijklm.t",
                                "AbcdefghijklM.t", l28 + ".t"}) {
    for (uint16_t t : {kA, kAaaa}) {
      for (const sxt::QueryOptions& o : ImageQueryShapes()) {
        SCOPED_TRACE(absl::StrCat(name, " ", TypeName(t), " edns ", o.edns_size, " version ",
                                  o.edns_version, " options ", o.options.size()));
        const Bytes q = sxt::MakeQuery(name, t, o);
        // 32 bytes of message from the name on, class IN, opcode QUERY, no option, version 0.
        const bool shape = q.size() >= dns::kHeaderSize + 32 && o.qclass == dns::kClassIn &&
                           o.opcode == dns::kOpQuery && o.options.empty() && o.edns_version == 0;
        // Every name has an A; abcd and abcdefghijklm an AAAA as well.
        const std::string lower = absl::AsciiStrToLower(name);
        const bool has_line = t == kA || lower == "abcd.t" || lower == "abcdefghijklm.t";
        const bool expect = shape && has_line;
        EXPECT_EQ(shortcut(q) != 0, expect);
        answered += expect ? 1 : 0;
      }
    }
  }
  EXPECT_GT(answered, 40);

  // One byte off the common shape each, from a query the shortcut answers.
  const Bytes base = sxt::MakeQuery("abcdefghijklm.t", kA, Edns(1232));
  ASSERT_NE(shortcut(base), 0u);
  const size_t qend = dns::kHeaderSize + 17 + 4;
  const auto changed = [&](size_t at, uint8_t value) {
    Bytes q = base;
    q[at] = value;
    return q;
  };
  // Flags the answer ignores: AA and TC in the first byte, all of the second.
  EXPECT_NE(shortcut(changed(dns::kOffFlags1, dns::kFlag1Aa | 0x02 | dns::kFlag1Rd)), 0u);
  EXPECT_NE(shortcut(changed(dns::kOffFlags1 + 1, 0xFF)), 0u);
  // The OPT's extended rcode and its flags other than DO.
  EXPECT_NE(shortcut(changed(qend + 5, 0x7F)), 0u);
  EXPECT_NE(shortcut(changed(qend + 8, 0xFF)), 0u);
  EXPECT_NE(shortcut(changed(qend + 7, 0x7F)), 0u);
  // What the general path answers: a response, another opcode, class ANY or CHAOS, another
  // type, counts other than 1/0/0/0-1, an OPT of version 1 or with another owner or RDLENGTH,
  // a record that is not an OPT, a byte after the OPT, a name without a line.
  EXPECT_EQ(shortcut(changed(dns::kOffFlags1, dns::kFlag1Qr)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffFlags1, 4 << dns::kOpcodeShift)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffFlags1, 2 << dns::kOpcodeShift)), 0u);
  EXPECT_EQ(shortcut(changed(qend - 1, 0xFF)), 0u);  // class ANY
  EXPECT_EQ(shortcut(changed(qend - 1, 3)), 0u);     // CHAOS
  EXPECT_EQ(shortcut(changed(qend - 3, 16)), 0u);    // TXT
  EXPECT_EQ(shortcut(changed(qend - 4, 1)), 0u);     // type 257
  EXPECT_EQ(shortcut(changed(dns::kOffQdcount + 1, 2)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffQdcount + 1, 0)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffAncount + 1, 1)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffNscount, 1)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffArcount + 1, 2)), 0u);
  EXPECT_EQ(shortcut(changed(dns::kOffArcount, 1)), 0u);
  EXPECT_EQ(shortcut(changed(qend + 6, 1)), 0u);   // version 1: BADVERS
  EXPECT_EQ(shortcut(changed(qend + 2, 16)), 0u);  // TXT, not OPT
  EXPECT_EQ(shortcut(changed(qend + 10, 1)), 0u);  // RDLENGTH 1, past the end: FORMERR
  EXPECT_EQ(shortcut(changed(qend, 1)), 0u);       // an owner other than the root
  Bytes trailing = base;
  trailing.push_back(0);
  EXPECT_EQ(shortcut(trailing), 0u);
  // The same name with a zero byte inside its second label: its first zero byte is not its end.
  Bytes inner = base;
  inner[dns::kHeaderSize + 14 + 1] = 0;  // "t" of the root-most label made 0: "\x01\x00\x00"
  EXPECT_EQ(shortcut(inner), 0u);
  Bytes label_zero = base;
  label_zero[dns::kHeaderSize + 5] = 0;  // inside "abcdefghijklm"
  EXPECT_EQ(shortcut(label_zero), 0u);
  // An OPT owned by a name (a pointer to the question), one byte longer: Knot's leniency, kept.
  Bytes owned = base;
  owned[qend] = 0xC0;
  owned.insert(owned.begin() + static_cast<std::ptrdiff_t>(qend) + 1, dns::kHeaderSize);
  EXPECT_EQ(shortcut(owned), 0u);
  EXPECT_EQ(shortcut(sxt::MakeQuery("nohost.t", kA, Edns(1232))), 0u);
  EXPECT_EQ(shortcut(sxt::MakeQuery("mx.t", kA, Edns(1232))), 0u);  // a name without an A
  // Without the lines there is no shortcut.
  e.set_answer_lines(false);
  Bytes out(kMaxDnsMessage);
  EXPECT_EQ(e.AnswerFromLineOnly(base.data(), base.size(), out.data(), nullptr), 0u);
  e.set_answer_lines(true);
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
