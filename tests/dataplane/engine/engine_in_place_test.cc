// Answering in place (output buffer == input buffer, the DPDK path) on a mix of all response
// kinds.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/engine/engine_test_support.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::engine_test {
namespace {

namespace sxt = ::sextant::testing;

// ---------------------------------------------------------------------------------------------
// Answering in place. Ask() compares in-place and separate-buffer answers for every query in
// this file; this test runs a mix of all response kinds through it on its own.

TEST(Engine, AnswersInPlaceWithTheSameBytes) {
  const Server s = MakeServer(
      "  nsid: sextant-test-nsid\n  version: \"sextant 1.0\"\n  identity: ns1.diff.test\n");
  std::vector<std::pair<Bytes, ClientInfo>> queries;
  sxt::QueryOptions all = Edns();
  all.do_bit = true;
  all.rd = true;
  all.options = {{3, ""}, {8, B({0, 1, 24, 0, 198, 18, 1})}};
  for (const std::string qname : {"www.diff.test", "chain1.diff.test", "nx.diff.test",
                                  "www.sub.diff.test", "www.bigref.diff.test", "q.a.went.diff.test",
                                  "big.diff.test", "huge.diff.test", "www.example.com"}) {
    for (const uint16_t qtype : {kA, kMx, kAny}) {
      queries.push_back({sxt::MakeQuery(qname, qtype), kUdp});
      queries.push_back({sxt::MakeQuery(qname, qtype, all), kUdp});
      queries.push_back({sxt::MakeQuery(qname, qtype, all), kTcp});
    }
  }
  sxt::QueryOptions ch;
  ch.qclass = kCh;
  queries.push_back({sxt::MakeQuery("version.bind", kTxt, ch), kUdp});
  queries.push_back({Cat({Header(1, 0, 0, 0), Question(kWwwWire), {0xDE, 0xAD}}), kUdp});
  for (const auto& [q, client] : queries) {
    const Response r = Ask(*s.engine, q, client);
    EXPECT_GT(r.size, 0u);
  }
}

}  // namespace
}  // namespace sextant::dataplane::engine_test
