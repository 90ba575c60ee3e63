// Name compression (message_writer.h, RFC 1035 4.1.4): sizes worked out by hand and pointers past
// 16 KiB. Ask() checks every response of every engine test against optimal compression as well.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;

// ---------------------------------------------------------------------------------------------
// Name compression (RFC 1035 4.1.4). Ask() checks every response against optimal compression
// and checks that pointers point backwards; these rows pin a few sizes worked out by hand.

TEST(Engine, CompressesNamesToKnownSizes) {
  struct Case {
    std::string qname;
    uint16_t qtype;
    size_t size;
  } cases[] = {
      // 12 header + 19 question + 2 x (2 owner pointer + 10 + 4).
      {"www.diff.test", kA, 63},
      // 27 up to the answer; MX 21 ("mail" + pointer), 22 ("mail2" + pointer), 34 (out of
      // zone, literal); additional owners are pointers into the MX rdata: 16 + 28 + 16.
      {"diff.test", kMx, 164},
      // 30 up to the authority; SOA: owner pointer 2, 10, MNAME "ns1" + pointer 6, RNAME
      // "hostmaster" + pointer 13, 20.
      {"nx.diff.test", kA, 81},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.qname);
    EXPECT_EQ(Ask(DefaultEngine(), c.qname, c.qtype).size, c.size);
  }
}

// Pointers can only reach the first 16 KiB (14-bit offsets). A TCP answer that writes a name
// across 0x4000 must not point at the labels past that line: here the owner
// "<63 x a>.<63 x b>.pad.test" of the second SRV target's address starts just below 0x4000 and
// the third target "x.<63 x b>.pad.test" shares its second label. The qname's length moves the
// boundary through the first name, one byte per row.
TEST(Engine, KeepsCompressionPointersValidPast16KiB) {
  const std::string a63(63, 'a'), b63(63, 'b');
  std::string zone =
      absl::StrCat(R"($ORIGIN pad.test.
$TTL 3600
@      IN SOA ns1.pad.test. hostmaster.pad.test. 1 7200 3600 1209600 300
@      IN NS  ns1
ns1    IN A   198.18.40.1
*.srv  IN SRV 0 0 1 filler.pad.test.
*.srv  IN SRV 0 0 1 )",
                   a63, ".", b63, R"(.pad.test.
*.srv  IN SRV 0 0 1 x.)",
                   b63, R"(.pad.test.
)",
                   a63, ".", b63, " IN A 198.18.41.1\n", "x.", b63, " IN A 198.18.41.2\n");
  // 1000 x 16 bytes of addresses for the first target push the others up to 0x4000.
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppendFormat(&zone, "filler IN A 198.18.%d.%d\n", 42 + i / 250, i % 250);
  }
  auto snap = sxt::BuildTestSnapshot({{"pad.test.", zone}});
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Engine engine(**snap);
  const std::string a_owner =
      absl::StrCat("ar ", a63, ".", b63, ".pad.test. 3600 IN A 198.18.41.1");
  const std::string x_owner = absl::StrCat("ar x.", b63, ".pad.test. 3600 IN A 198.18.41.2");
  for (int len = 1; len <= 63; ++len) {
    SCOPED_TRACE(absl::StrCat("first label of ", len, " bytes"));
    const Response r =
        Ask(engine, absl::StrCat(std::string(len, 'q'), ".srv.pad.test"), kSrv, {}, kTcp);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(Status(r), "NOERROR aa");
    const std::vector<std::string> records = Records(r);
    ASSERT_EQ(records.size(), 3u + 1000u + 2u);
    EXPECT_EQ(records[records.size() - 2], a_owner);
    EXPECT_EQ(records[records.size() - 1], x_owner);
  }
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
