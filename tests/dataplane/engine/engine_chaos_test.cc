// CHAOS-class queries (version.bind, id.server and friends): refused by default, answered when
// configured, refused when configured empty.
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
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// CHAOS (version.bind and friends)

TEST(Engine, RefusesChaosQueriesByDefault) {
  for (const std::string qname : {"version.bind", "version.server", "id.server", "hostname.bind"}) {
    SCOPED_TRACE(qname);
    sxt::QueryOptions o;
    o.qclass = kCh;
    const Response r = Ask(DefaultEngine(), qname, kTxt, o);
    EXPECT_EQ(r.rcode(), kRefused);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, qname + ".");
    EXPECT_THAT(r.answer, IsEmpty());
  }
}

TEST(Engine, AnswersChaosQueriesWhenConfigured) {
  const Server s = MakeServer("  version: \"sextant 1.0\"\n  identity: ns1.diff.test\n");
  struct Case {
    std::string qname;
    uint16_t qtype;
    uint16_t rcode;
    std::vector<std::string> answer;
  } cases[] = {
      {"version.bind", kTxt, kNoError, {"version.bind. 0 CH TXT \"sextant 1.0\""}},
      {"version.server", kTxt, kNoError, {"version.server. 0 CH TXT \"sextant 1.0\""}},
      {"id.server", kTxt, kNoError, {"id.server. 0 CH TXT \"ns1.diff.test\""}},
      {"hostname.bind", kTxt, kNoError, {"hostname.bind. 0 CH TXT \"ns1.diff.test\""}},
      {"VERSION.BIND", kTxt, kNoError, {"VERSION.BIND. 0 CH TXT \"sextant 1.0\""}},
      {"version.bind", kA, kRefused, {}},
      {"version.bind", kAny, kRefused, {}},
      {"authors.bind", kTxt, kRefused, {}},
      {"x.version.bind", kTxt, kRefused, {}},
      {"bind", kTxt, kRefused, {}},
      {"www.diff.test", kTxt, kRefused, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.qname, " ", TypeName(c.qtype)));
    sxt::QueryOptions o;
    o.qclass = kCh;
    const Response r = Ask(*s.engine, c.qname, c.qtype, o);
    EXPECT_EQ(r.rcode(), c.rcode);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qname, c.qname + ".");
    EXPECT_THAT(r.answer, ElementsAreArray(c.answer));
    EXPECT_THAT(r.authority, IsEmpty());
  }
}

TEST(Engine, RefusesChaosQueriesConfiguredEmpty) {
  // Knot refuses `version: ""` rather than answering an empty string.
  const Server s = MakeServer("  version: \"\"\n  identity: \"\"\n");
  for (const std::string qname : {"version.bind", "id.server"}) {
    SCOPED_TRACE(qname);
    sxt::QueryOptions o;
    o.qclass = kCh;
    EXPECT_EQ(Ask(*s.engine, qname, kTxt, o).rcode(), kRefused);
  }
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
