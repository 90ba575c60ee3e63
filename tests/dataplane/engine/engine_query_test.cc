// The query itself, before and instead of resolution: how the engine parses it (query.h) and
// answers what it will not resolve (engine.cc): malformed queries (FORMERR), odd but valid ones,
// responses and runts (dropped), opcodes other than QUERY (NOTIMP), zone transfers and qtype 0,
// EDNS versions above 0 (BADVERS), and the header flags it copies or clears.
#include <cstddef>
#include <cstdint>
#include <string>
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
// Opcodes, meta types, header flags

TEST(Engine, AnswersOnlyStandardQueries) {
  struct Case {
    uint8_t opcode;
    uint16_t rcode;
  } cases[] = {
      {1, kNotImp},  // IQUERY
      {2, kNotImp},  // STATUS
      {3, kNotImp},  // unassigned
      // NOTIFY and UPDATE: Knot says NOTAUTH, but the spec asks NOTIMP for every opcode but
      // QUERY (commit fd43522; KNOT_BEHAVIOUR.md "Deliberate differences").
      {4, kNotImp},
      {5, kNotImp},
      {6, kNotImp},  // DSO
      {15, kNotImp},
  };
  for (const Case& c : cases) {
    for (const bool edns : {false, true}) {
      SCOPED_TRACE(absl::StrCat("opcode ", c.opcode, edns ? " with EDNS" : ""));
      sxt::QueryOptions o = edns ? Edns() : sxt::QueryOptions{};
      o.opcode = c.opcode;
      const Response r = Ask(DefaultEngine(), "diff.test", kSoa, o);
      EXPECT_EQ(r.rcode(), c.rcode);
      EXPECT_EQ(r.opcode(), c.opcode);
      EXPECT_FALSE(r.aa());
      EXPECT_EQ(r.qname, "diff.test.");
      EXPECT_THAT(r.answer, IsEmpty());
      EXPECT_EQ(r.has_opt, edns);
    }
  }
}

TEST(Engine, RejectsZoneTransfersAndQtypeZero) {
  struct Case {
    uint16_t qtype;
    ClientInfo client;
    uint16_t rcode;
  } cases[] = {
      {0, kUdp, kNotImp},      {kAxfr, kUdp, kNotImp},  {kAxfr, kTcp, kNotAuth},
      {kIxfr, kUdp, kNotAuth}, {kIxfr, kTcp, kNotAuth},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat("qtype ", c.qtype, c.client.tcp ? " TCP" : " UDP"));
    const Response r = Ask(DefaultEngine(), "diff.test", c.qtype, {}, c.client);
    EXPECT_EQ(r.rcode(), c.rcode);
    EXPECT_EQ(r.qtype, c.qtype);
    EXPECT_THAT(r.answer, IsEmpty());
  }
}

TEST(Engine, CopiesIdAndRdAndClearsOtherFlags) {
  Bytes q = sxt::MakeQuery("www.diff.test", kA);
  q[0] = 0xBE;
  q[1] = 0xEF;
  q[2] |= 0x01 | 0x02 | 0x04;  // RD, and TC and AA that a query has no business setting
  q[3] = 0x80 | 0x40 | 0x20 | 0x10 | 0x03;  // RA, Z, AD, CD and an rcode
  const Response r = Ask(DefaultEngine(), q);
  EXPECT_EQ(r.id, 0xBEEF);
  EXPECT_TRUE(r.rd());
  EXPECT_TRUE(r.aa());  // ours, not the query's
  EXPECT_FALSE(r.tc());
  EXPECT_FALSE(r.ra());
  EXPECT_FALSE(r.z());
  EXPECT_FALSE(r.ad());
  EXPECT_FALSE(r.cd());
  EXPECT_EQ(r.rcode(), kNoError);

  const Response no_rd = Ask(DefaultEngine(), "www.diff.test", kA);
  EXPECT_FALSE(no_rd.rd());
}

// ---------------------------------------------------------------------------------------------
// Malformed and unanswerable queries

// A wire name of `octets` bytes ending in diff.test (11 bytes): three 63-byte labels and one
// to make up the rest.
std::string LongName(size_t octets) {
  std::string n;
  for (int i = 0; i < 3; ++i) n += std::string(1, 63) + std::string(63, 'a' + i);
  const size_t rest = octets - n.size() - 11 - 1;
  n += std::string(1, static_cast<char>(rest)) + std::string(rest, 'z');
  return n + kDiffTestWire;
}

TEST(Engine, AnswersMalformedQueriesWithFormerr) {
  struct Case {
    std::string what;
    Bytes query;
    bool echoes_question;
    bool has_opt;
  } cases[] = {
      {"qdcount 0", Header(0, 0, 0, 0), false, false},
      {"qdcount 0 with EDNS: OPT kept", Cat({Header(0, 0, 0, 1), Opt()}), false, true},
      {"NOTIFY with qdcount 0", Cat({{0x12, 0x34, 4 << 3}, Bytes(9, 0)}), false, false},
      {"qdcount 1 and no question", Header(1, 0, 0, 0), false, false},
      {"qdcount 2", Cat({Header(2, 0, 0, 0), Question(kWwwWire), Question(kWwwWire)}), false,
       false},
      {"qdcount 2 with EDNS",
       Cat({Header(2, 0, 0, 1), Question(kWwwWire), Question(kWwwWire), Opt()}), false, false},
      {"compression pointer (to itself) in the qname",
       Cat({Header(1, 0, 0, 0), Question(B({0xC0, 12}))}), false, false},
      {"compression pointer after a label",
       Cat({Header(1, 0, 0, 0), Question(B({3, 'w', 'w', 'w', 0xC0, 12}))}), false, false},
      {"label longer than 63 (type 0x41)",
       Cat({Header(1, 0, 0, 0), Question(std::string(1, 0x41) + std::string(0x41, 'a') + '\0')}),
       false, false},
      {"qname of 256 octets", Cat({Header(1, 0, 0, 0), Question(LongName(256))}), false, false},
      {"question without type and class",
       Cat({Header(1, 0, 0, 0), Bytes(kWwwWire.begin(), kWwwWire.end())}), false, false},
      {"question cut inside the name", Cat({Header(1, 0, 0, 0), Bytes{3, 'w', 'w'}}), false, false},
      {"trailing garbage after the question",
       Cat({Header(1, 0, 0, 0), Question(kWwwWire), {0xDE, 0xAD}}), true, false},
      {"trailing garbage after the OPT: no OPT back",
       Cat({Header(1, 0, 0, 1), Question(kWwwWire), Opt(), {0xDE, 0xAD}}), true, false},
      {"two OPT records", Cat({Header(1, 0, 0, 2), Question(kWwwWire), Opt(), Opt()}), true, false},
      {"OPT in the answer section", Cat({Header(1, 1, 0, 0), Question(kWwwWire), Opt()}), true,
       false},
      {"nscount claims a record that is not there", Cat({Header(1, 0, 1, 0), Question(kWwwWire)}),
       true, false},
      {"arcount claims a record that is not there", Cat({Header(1, 0, 0, 1), Question(kWwwWire)}),
       true, false},
      {"OPT option overruns the OPT rdata",
       Cat({Header(1, 0, 0, 1), Question(kWwwWire), Opt(1232, B({0, 3, 0, 10}))}), true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Response r = Ask(DefaultEngine(), c.query);
    EXPECT_EQ(Status(r), "FORMERR");
    EXPECT_EQ(r.qdcount, c.echoes_question ? 1 : 0);
    if (c.echoes_question) {
      EXPECT_EQ(r.qname, "www.diff.test.");
    }
    EXPECT_EQ(r.ancount + r.nscount, 0);
    EXPECT_EQ(r.has_opt, c.has_opt);
  }
}

TEST(Engine, AcceptsOddButValidQueries) {
  const Bytes www_a_record = Cat(
      {Bytes(kWwwWire.begin(), kWwwWire.end()), {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 1, 1}});
  const Bytes non_root_opt =
      Cat({Bytes(kWwwWire.begin(), kWwwWire.end()), {0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0}});
  struct Case {
    std::string what;
    Bytes query;
    std::string status;
    std::vector<std::string> records;
    bool has_opt;
  } cases[] = {
      {"OPT with a non-root owner", Cat({Header(1, 0, 0, 1), Question(kWwwWire), non_root_opt}),
       "NOERROR aa", kWwwA, true},
      {"a record in the answer section",
       Cat({Header(1, 1, 0, 0), Question(kWwwWire), www_a_record}), "NOERROR aa", kWwwA, false},
      {"qname of 255 octets",
       Cat({Header(1, 0, 0, 0), Question(LongName(255))}),
       "NXDOMAIN aa",
       {kNsDiffSoa},
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Response r = Ask(DefaultEngine(), c.query);
    EXPECT_EQ(Status(r), c.status);
    EXPECT_THAT(Records(r), ElementsAreArray(c.records));
    EXPECT_EQ(r.has_opt, c.has_opt);
  }
}

TEST(Engine, DropsResponsesAndRunts) {
  Bytes qr = sxt::MakeQuery("www.diff.test", kA);
  qr[2] |= 0x80;
  Bytes qr_edns = sxt::MakeQuery("www.diff.test", kA, Edns());
  qr_edns[2] |= 0x80;
  const Bytes full = sxt::MakeQuery("www.diff.test", kA);
  struct Case {
    std::string what;
    Bytes query;
  } cases[] = {
      {"QR=1", qr},
      {"QR=1 with EDNS", qr_edns},
      {"11 bytes", Bytes(full.begin(), full.begin() + 11)},
      {"1 byte", Bytes(full.begin(), full.begin() + 1)},
      {"empty", Bytes{}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(AnswerRaw(DefaultEngine(), c.query, kUdp).len, 0u);
    EXPECT_EQ(AnswerRaw(DefaultEngine(), c.query, kTcp).len, 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// EDNS versions (RFC 6891 section 6.1.3)

TEST(Engine, AnswersBadVersForEdnsVersionAboveZero) {
  const Server s = MakeServer("  nsid: sextant-test-nsid\n");
  struct Case {
    std::string what;
    std::string qname;
    uint8_t version;
    bool nsid;
    ClientInfo client;
  } cases[] = {
      {"version 1", "www.diff.test", 1, false, kUdp},
      {"version 255", "www.diff.test", 255, false, kUdp},
      {"over TCP", "www.diff.test", 1, false, kTcp},
      {"out of zone", "www.example.com", 1, false, kUdp},
      {"NSID still added", "www.diff.test", 1, true, kUdp},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    sxt::QueryOptions o = Edns();
    o.edns_version = c.version;
    o.do_bit = true;
    if (c.nsid) o.options = {{3, ""}};
    const Response r = Ask(*s.engine, c.qname, kA, o, c.client);
    // Extended rcode 16: the low 4 bits (0) in the header, the upper 8 (1) in the OPT.
    EXPECT_EQ(r.rcode(), 0);
    ASSERT_TRUE(r.has_opt);
    EXPECT_EQ(r.opt_ext_rcode, 1);
    EXPECT_EQ(r.ext_rcode(), kBadVers);
    EXPECT_EQ(r.opt_version, 0);
    EXPECT_EQ(r.opt_udp_size, 1232);
    EXPECT_TRUE(r.opt_do);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, c.qname + ".");
    EXPECT_THAT(r.answer, IsEmpty());
    EXPECT_THAT(r.authority, IsEmpty());
    if (c.nsid) {
      EXPECT_THAT(r.opt_options, ElementsAre(Pair(3, "sextant-test-nsid")));
    } else {
      EXPECT_THAT(r.opt_options, IsEmpty());
    }
  }
}

TEST(Engine, AnswersBadVersWithoutQuestion) {
  Bytes q = Cat({Header(0, 0, 0, 1), Opt()});
  q[12 + 6] = 1;  // OPT version
  const Response r = Ask(DefaultEngine(), q);
  EXPECT_EQ(r.ext_rcode(), kBadVers);
  EXPECT_EQ(r.qdcount, 0);
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
