// Resolution across served zones nested in each other: the deepest served zone answers, DS at a
// served child's apex comes from the parent, and the parent's empty non-terminals above a child
// still exist.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;

// A snapshot serving a parent zone and, beside it, two of its children: one directly below the
// apex and one below an empty non-terminal of the parent.
constexpr char kParentZone[] = R"($ORIGIN parent.test.
$TTL 3600
@           IN SOA ns1.parent.test. hostmaster.parent.test. 1 7200 3600 1209600 300
@           IN NS  ns1
ns1         IN A   198.18.50.1
child       IN NS  ns1.child
child       IN DS  12345 13 2 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D
ns1.child   IN A   198.18.50.2
deep.ent    IN NS  ns1.deep.ent
ns1.deep.ent IN A  198.18.50.3
)";
constexpr char kChildZone[] = R"($ORIGIN child.parent.test.
$TTL 3600
@     IN SOA ns1.child.parent.test. hostmaster.child.parent.test. 1 7200 3600 1209600 60
@     IN NS  ns1
ns1   IN A   198.18.50.2
www   IN A   198.18.51.1
)";
constexpr char kDeepChildZone[] = R"($ORIGIN deep.ent.parent.test.
$TTL 3600
@     IN SOA ns1.deep.ent.parent.test. hostmaster.deep.ent.parent.test. 1 7200 3600 1209600 60
@     IN NS  ns1
ns1   IN A   198.18.50.3
)";

const Engine& NestedEngine() {
  static const Server* s = new Server(ServerOf({{"parent.test.", kParentZone},
                                                {"child.parent.test.", kChildZone},
                                                {"deep.ent.parent.test.", kDeepChildZone}}));
  return *s->engine;
}

const std::string kNsParentSoa =
    "ns parent.test. 300 IN SOA ns1.parent.test. hostmaster.parent.test. 1 7200 3600 1209600 300";
const std::string kNsChildSoa =
    "ns child.parent.test. 60 IN SOA ns1.child.parent.test. hostmaster.child.parent.test. 1 7200 "
    "3600 1209600 60";

TEST(Engine, AnswersFromTheDeepestServedZone) {
  ExpectRows(NestedEngine(),
             {
                 {"data in the child: an answer, not a referral",
                  "www.child.parent.test A",
                  "NOERROR aa",
                  {"an www.child.parent.test. 3600 IN A 198.18.51.1"}},
                 {"NS at the child apex: the child's, authoritative",
                  "child.parent.test NS",
                  "NOERROR aa",
                  {"an child.parent.test. 3600 IN NS ns1.child.parent.test.",
                   "ar ns1.child.parent.test. 3600 IN A 198.18.50.2"}},
                 {"NXDOMAIN in the child carries the child's SOA",
                  "nx.child.parent.test A",
                  "NXDOMAIN aa",
                  {kNsChildSoa}},
                 {"NXDOMAIN in the parent", "nx.parent.test A", "NXDOMAIN aa", {kNsParentSoa}},
             });
}

// RFC 4035 section 3.1.4.1: DS lives on the parent side of the cut, and a server authoritative
// for both zones answers it from the parent. Knot does the same (it looks the zone up from the
// qname's parent for DS).
TEST(Engine, AnswersDsAtAServedChildApexFromTheParent) {
  ExpectRows(NestedEngine(),
             {
                 {"the parent's DS",
                  "child.parent.test DS",
                  "NOERROR aa",
                  {"an child.parent.test. 3600 IN DS 12345 13 2 "
                   "3490A6806D47F17A34C29E2CE80E8A999FFBE4BE2D7E8B2A9C3F5D1E0A6B7C8D"}},
                 {"no DS in the parent: the parent's NODATA",
                  "deep.ent.parent.test DS",
                  "NOERROR aa",
                  {kNsParentSoa}},
             });
}

// `ent.parent.test` owns nothing but has a descendant in the parent zone (the delegation
// deep.ent), so it exists: NODATA, not NXDOMAIN (RFC 8020 lets resolvers prune the whole subtree,
// the served child included, on an NXDOMAIN).
TEST(Engine, KeepsParentEmptyNonTerminalsAboveAServedChild) {
  ExpectRows(NestedEngine(),
             {
                 {"ENT above a served child", "ent.parent.test A", "NOERROR aa", {kNsParentSoa}},
             });
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
